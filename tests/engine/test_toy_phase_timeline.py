"""The phase-diagram timeline shows the engine's theory and trained grids, and its agreement is measured."""
from __future__ import annotations

import numpy as np
import pytest

from engine.timelines.errors import SettingsError
from engine.timelines.toy_phase import PhaseSettings, build
from engine.toy.phase import LABELS, agreement, analytic_phase_diagram, trained_phase_diagram

# Reduced for speed (the catalogue uses 10 x 10 cells): 6 x 6 cells over the paper's axes.
SETTINGS = PhaseSettings(n_densities=6, n_importances=6, steps=2000)


@pytest.fixture(scope="module")
def diagrams():
    densities, importances = SETTINGS.axes()
    theory = analytic_phase_diagram(densities, importances)
    trained = trained_phase_diagram(densities, importances, seeds=SETTINGS.seeds, **SETTINGS.training_overrides())
    return theory, trained


@pytest.fixture(scope="module")
def timeline(diagrams):
    return build(SETTINGS)


def test_timeline_shows_the_engines_theory_and_trained_grids(diagrams, timeline):
    theory, trained = diagrams
    np.testing.assert_array_equal(timeline.arrays["theory_label"], theory.label)
    np.testing.assert_array_equal(timeline.arrays["trained_label"], trained.label)
    np.testing.assert_allclose(timeline.arrays["trained_W"], trained.W)
    assert timeline.meta["agreement"] == pytest.approx(agreement(theory, trained))
    assert timeline.meta["n_agree"] == int((theory.label == trained.label).sum())
    assert f"{timeline.meta['n_agree']} of {theory.label.size} cells" in timeline.segments[-1].caption


def test_trained_models_mostly_land_where_theory_says(timeline):
    assert timeline.meta["agreement"] >= 0.75
    theory = timeline.arrays["theory_label"]
    # All three regimes appear: the paper's picture, not a uniform grid.
    assert set(theory.ravel().tolist()) == {0, 1, 2}
    superposition = LABELS.index("superposition")
    assert (theory[:, 0] == superposition).all(), "sparsest column: superposition at every importance"


def test_misses_are_described_truthfully(timeline):
    miss = timeline.arrays["theory_label"] != timeline.arrays["trained_label"]
    stuck = timeline.arrays["stuck"]
    assert not (stuck & ~miss).any()
    caption = timeline.segments[-1].caption
    if miss.any() and stuck[miss].all():
        assert "local minimum" in caption
        assert (timeline.arrays["trained_loss"][miss] > timeline.arrays["theory_loss"][miss]).all()


def test_cells_fill_during_the_trained_phase(timeline):
    n = timeline.arrays["trained_label"].size
    assert timeline.sample("filled", timeline.segment_start("trained")) == 0
    assert timeline.sample("filled", timeline.segment_start("agreement")) == n


def test_timeline_is_deterministic(timeline):
    again = build(SETTINGS)
    for k in timeline.arrays:
        np.testing.assert_array_equal(again.arrays[k], timeline.arrays[k])
    assert again.segments == timeline.segments and again.meta == timeline.meta


@pytest.mark.parametrize("changes, words", [
    ({"n_densities": 1}, "n_densities=1"),
    ({"density_min": 0.5, "density_max": 0.1}, "density range"),
    ({"importance_min": -1.0}, "importance range"),
    ({"seeds": 0}, "seeds=0"),
    ({"lr": 0.0}, "lr"),
])
def test_bad_settings_fail_in_one_line_before_training(changes, words):
    with pytest.raises(SettingsError) as info:
        PhaseSettings(**changes).validate()
    assert words in str(info.value) and "\n" not in str(info.value)
