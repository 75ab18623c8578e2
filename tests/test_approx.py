"""The fixture comparison lets CPU noise through and nothing else: drift of the size measured across
kernels passes, a changed count, name, word or a real shift in the numbers fails."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tests.approx import Tol, array_diffs, numbers_in, structure_diffs, text_diffs
from tests.scenes import fixtures
from tests.scenes.phase_ties import MAX_FLIPS, TIE, phase_diffs


def test_numbers_are_parsed_out_of_captions_and_names_are_left_in():
    skeleton, numbers = numbers_in("In block 5, 1,077 of 1,536 neurons (94%) reach 97.8%; L5 N394 at \u22121.5, W\u2082.")
    assert skeleton == "In block #, # of # neurons (#%) reach #%; L5 N394 at #, W\u2082."
    assert numbers == [(5, None), (1077, None), (1536, None), (94, 0), (97.8, 1), (-1.5, 1)]


@pytest.mark.parametrize("fresh, fixture, ok", [
    ("reaches 5.8.", "reaches 5.8.", True),
    ("reaches 5.9.", "reaches 5.8.", True),      # 5.85 rounds either way: one unit of the last digit
    ("reaches 6.0.", "reaches 5.8.", False),
    ("94% sit at one", "93% sit at one", True),
    ("94% sit at one", "92% sit at one", False),
    ("32 of 36 cells", "31 of 36 cells", False),  # counts are exact
    ("neuron L5 N395", "neuron L5 N394", False),  # so are names
    ("fires on 'lung'", "fires on 'air'", False),
])
def test_caption_numbers_are_compared_as_numbers(fresh, fixture, ok):
    assert (text_diffs(fresh, fixture, Tol(rel=1e-5)) == []) is ok


def test_metadata_is_walked_with_floats_approximate_and_the_rest_exact():
    fixture = {"peak": 2.3875770568847656, "rows": [{"class": "4", "n": 45}], "range": [-0.1076948, 0.6326781]}
    drifted = {"peak": 2.387577533721924, "rows": [{"class": "4", "n": 45}], "range": [-0.1076947, 0.6326780]}
    assert structure_diffs(drifted, fixture, fixtures.CAPTURED) == []
    assert structure_diffs({**drifted, "peak": 2.39}, fixture, fixtures.CAPTURED)
    assert structure_diffs({**drifted, "rows": [{"class": "4", "n": 46}]}, fixture, fixtures.TRAINED)
    # Counts of neurons on the permutation threshold may flip under other kernels: by 2 at most.
    assert structure_diffs({**drifted, "rows": [{"class": "4", "n": 47}]}, fixture, fixtures.CAPTURED) == []
    assert structure_diffs({**drifted, "rows": [{"class": "4", "n": 48}]}, fixture, fixtures.CAPTURED)
    assert structure_diffs({**drifted, "extra": 1}, fixture, fixtures.CAPTURED)
    assert structure_diffs({**drifted, "rows": []}, fixture, fixtures.CAPTURED)
    assert structure_diffs({**drifted, "peak": float("inf")}, fixture, fixtures.CAPTURED)
    assert structure_diffs({**drifted, "peak": np.float32(2.3875775)}, fixture, fixtures.CAPTURED) == []


def test_arrays_compare_against_their_scale_or_entry_by_entry():
    fixture = np.array([1.0, 1e-3, 0.0])
    assert array_diffs(fixture + 5e-6, fixture, Tol(rel=1e-5)) == []   # tiny entries ride on the scale
    assert array_diffs(fixture + 5e-5, fixture, Tol(rel=1e-5))
    assert array_diffs(fixture * (1 + 1e-4), fixture[:2].tolist() + [0.0], Tol(rel=1e-3, entrywise=True)) == []
    assert array_diffs(np.array([1.0, 2e-3, 0.0]), fixture, Tol(rel=1e-3, entrywise=True))
    assert array_diffs(np.array([1, 2]), np.array([1, 3]), Tol(rel=1.0))   # integers exact
    assert array_diffs(np.zeros(3), np.zeros(4), Tol(rel=1.0))


@pytest.mark.parametrize("name, tol, shift", [
    ("poly_bars", fixtures.CAPTURED, 1e-4), ("digits", fixtures.DIGITS, 2e-2), ("toy_wtw", fixtures.TRAINED, 1e-2)])
def test_each_tolerance_catches_a_shift_that_a_change_to_a_builder_would_make(name, tol, shift):
    fixture = fixtures.load_or_none(name)
    if fixture is None:
        pytest.skip(f"fixture {name} is being regenerated")
    assert fixtures.timeline_diffs(fixture, fixture, tol) == []
    name, values = next((k, v) for k, v in fixture.arrays.items() if v.dtype.kind == "f" and np.abs(v).max() > 0)
    shifted = dataclasses.replace(fixture, arrays={**fixture.arrays, name: values * (1 + shift)})
    assert fixtures.timeline_diffs(shifted, fixture, tol)


def _flip(fixture, cells, loss_factor):
    """``fixture`` with the trained label of ``cells`` changed, as a near tie would change it, and the
    numbers that count cells recomputed (so only the flip itself is judged)."""
    a = {k: v.copy() for k, v in fixture.arrays.items()}
    for c in cells:
        a["trained_label"][c] = (a["trained_label"][c] + 1) % 3
        a["trained_loss"][c] *= loss_factor
        a["trained_W"][c] *= -1
    theory, trained = a["theory_label"], a["trained_label"]
    miss = theory != trained
    a["excess_loss"] = a["trained_loss"][miss] / np.maximum(a["theory_loss"][miss], 1e-12) - 1
    n_agree, n = int((~miss).sum()), theory.size
    meta = {**fixture.meta, "n_agree": n_agree, "agreement": n_agree / n,
            "present": sorted(set(theory.ravel().tolist()) | set(trained.ravel().tolist()))}
    segments = [dataclasses.replace(s, caption=f"Training lands on the theory's optimum in {n_agree} of {n} cells.")
                if s.name == "agreement" else s for s in fixture.segments]
    return dataclasses.replace(fixture, arrays=a, meta=meta, segments=segments)


def test_a_phase_cell_may_flip_only_at_a_near_tie_and_only_so_many():
    fixture = fixtures.load_or_none("toy_phase")
    if fixture is None:
        pytest.skip("fixture toy_phase is being regenerated")
    cells = [tuple(c) for c in np.argwhere(fixture.arrays["trained_loss"] > 0)][:MAX_FLIPS + 1]
    assert phase_diffs(fixture, fixture) == []
    assert phase_diffs(_flip(fixture, cells[:MAX_FLIPS], 1 + TIE / 2), fixture) == []
    assert phase_diffs(_flip(fixture, cells[:MAX_FLIPS], 1 + 5 * TIE), fixture)   # a different loss: no tie
    assert phase_diffs(_flip(fixture, cells, 1 + TIE / 2), fixture)               # too many flips
    wrong_count = _flip(fixture, cells[:MAX_FLIPS], 1 + TIE / 2)
    wrong_count.meta["n_agree"] += 1
    assert phase_diffs(wrong_count, fixture)


def test_chance_levels_allow_only_the_stated_flips():
    from tests.scenes.fixtures import chance_diffs
    want = {"chance": {"labels": {"mono": {"real": 0, "mean": 1.45, "max": 4}}}}
    one_flip = {"chance": {"labels": {"mono": {"real": 0, "mean": 1.5, "max": 4}}}}
    assert chance_diffs(one_flip, want, flips=2) == []
    assert chance_diffs(one_flip, want, flips=0)  # CAPTURED sources allow none
    assert chance_diffs({"chance": {"labels": {"mono": {"real": 0, "mean": 1.7, "max": 4}}}}, want, flips=2)
    assert chance_diffs({"chance": {"labels": {"mono": {"real": 1, "mean": 1.45, "max": 4}}}}, want, flips=2)
    assert chance_diffs({"chance": {"labels": {"mono": {"real": 0, "mean": 1.45, "max": 6}}}}, want, flips=2)
