"""The dimensionality timeline plots what the engine measures, and its plateaus and sticky values are real."""
from __future__ import annotations

import numpy as np
import pytest

from engine.timelines.errors import SettingsError
from engine.timelines.toy_dims import DimsSettings, build, plateau_range
from engine.toy import measure, train_cached

# Reduced for speed (the catalogue trains 28 sparsities for 2,500 steps); the plateaus already appear.
SETTINGS = DimsSettings(n_densities=12, steps=2000)


@pytest.fixture(scope="module")
def run():
    return train_cached(SETTINGS.toy_config())


@pytest.fixture(scope="module")
def timeline(run):
    return build(SETTINGS)


def test_timeline_plots_the_engines_measurements(run, timeline):
    np.testing.assert_allclose(timeline.arrays["inverse_density"], 1 / run.feature_probability.astype(float))
    np.testing.assert_allclose(timeline.arrays["dims_per_feature"], measure.dimensions_per_feature(run.W), rtol=1e-6)
    np.testing.assert_allclose(timeline.arrays["feature_dimensionality"], measure.feature_dimensionality(run.W),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(timeline.arrays["represented"], measure.feature_norms(run.W) > 0.5)
    assert timeline.arrays["inverse_density"][0] == pytest.approx(1.0)
    assert timeline.arrays["inverse_density"][-1] == pytest.approx(SETTINGS.max_inverse_density)


def test_dimensions_per_feature_fall_from_one_and_stick_at_one_half(timeline):
    d_star, x = timeline.arrays["dims_per_feature"], timeline.arrays["inverse_density"]
    assert d_star[0] > 0.97, "dense: one dimension per feature"
    assert d_star[-1] < 0.36 and d_star[-1] < d_star[0] / 2.5
    lo, hi = timeline.arrays["plateau_half"]
    assert hi / lo > 1.3, "the 1/2 plateau spans a range of sparsities"
    on = (x >= lo) & (x <= hi)
    assert np.abs(d_star[on] - 0.5).max() < SETTINGS.plateau_tolerance
    # On the plateau every represented feature is half a dimension: antipodal pairs.
    D, rep = timeline.arrays["feature_dimensionality"], timeline.arrays["represented"]
    np.testing.assert_allclose(D[on][rep[on]], 0.5, atol=0.04)


def test_features_stick_to_polytope_fractions(timeline):
    assert timeline.meta["sticky_fraction"] >= 0.85
    shown = timeline.arrays["sticky_values"]
    assert len(shown) and all(v in (3 / 4, 2 / 3, 2 / 5, 3 / 8, 1 / 3) for v in shown)
    captions = " ".join(s.caption for s in timeline.segments)
    assert f"{timeline.meta['sticky_fraction']:.0%}" in captions


def test_plateau_range_finds_the_longest_run():
    x = np.array([1, 2, 3, 4, 5, 6, 7.0])
    d = np.array([1.0, 0.5, 0.7, 0.51, 0.49, 0.5, 0.3])
    np.testing.assert_array_equal(plateau_range(x, d, 0.5, 0.03), [4, 6])
    assert np.isnan(plateau_range(x, d, 0.9, 0.03)).all()


def test_timeline_is_deterministic(timeline):
    again = build(SETTINGS)
    for k in timeline.arrays:
        np.testing.assert_array_equal(again.arrays[k], timeline.arrays[k])
    assert again.segments == timeline.segments and again.meta == timeline.meta


@pytest.mark.parametrize("changes, words", [
    ({"n_densities": 2}, "n_densities=2"),
    ({"max_inverse_density": 1.0}, "max_inverse_density"),
    ({"n_hidden": 12}, "n_hidden"),
    ({"importance_decay": 0.0}, "importance_decay"),
])
def test_bad_settings_fail_in_one_line_before_training(changes, words):
    with pytest.raises(SettingsError) as info:
        DimsSettings(**changes).validate()
    assert words in str(info.value) and "\n" not in str(info.value)
