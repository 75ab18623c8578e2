"""The dimensionality timeline plots what the engine measures, and its plateaus and sticky values are real."""
from __future__ import annotations

import numpy as np
import pytest

from engine.timelines.errors import SettingsError
from engine.timelines.toy_dims import DimsSettings, build, fraction, plateau_range
from engine.toy import measure, polytopes, train_cached

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


def test_sticky_labels_are_verified_polytopes_and_the_caption_counts_them(run, timeline):
    """Every sticky number on screen is what engine.toy.polytopes finds in the trained W."""
    W, D = run.W.astype(float), measure.feature_dimensionality(run.W)
    represented = measure.feature_norms(run.W) > SETTINGS.represented_threshold
    membership = polytopes.classify(W)
    np.testing.assert_array_equal(timeline.arrays["in_polytope"], membership.verified & represented)
    counts = membership.counts()
    labelled = [(v, name) for (v, name), c in counts.items()
                if c >= SETTINGS.sticky_min_features and v not in (1.0, 0.5)]
    np.testing.assert_allclose(timeline.arrays["sticky_values"], [v for v, _ in labelled])
    assert timeline.meta["sticky_names"] == [name for _, name in labelled]
    share = (membership.verified & represented).sum() / represented.sum()
    observed, chance = polytopes.window_fraction(D[represented], np.array(measure.STICKY_DIMENSIONALITIES),
                                                 SETTINGS.sticky_tolerance)
    caption = timeline.segments[-1].caption
    assert f"orthogonal to the rest), {share:.0%} of those represented" in caption
    assert timeline.meta["polytope_counts"] == [[v, name, c] for (v, name), c in counts.items()]
    assert timeline.meta["sticky_labels"] == [fraction(v) for v, _ in labelled]
    assert f"within \u00b1{SETTINGS.sticky_tolerance:g} of a polytope fraction: {observed:.0%}" in caption
    assert f"a uniform spread over the same range: {chance:.0%}" in caption
    # The features cluster well beyond chance (so the features phase may say so), and most represented
    # features are in a verified polytope.
    assert observed > 2 * chance and share > 0.5
    assert "They cluster on a few values." in timeline.segments[2].caption


def test_no_triangle_is_claimed_where_none_is_verified(timeline):
    """The old caption said "2/3 (triangle)" from D_i alone; the near-dense features near 2/3 form no triangle."""
    D, rep = timeline.arrays["feature_dimensionality"], timeline.arrays["represented"]
    near = rep & (np.abs(D - 2 / 3) < 0.03)
    assert near.sum() >= 3, "features do sit near 2/3 (the old caption's evidence)"
    assert not timeline.arrays["in_polytope"][near].any()
    assert "triangle" not in " ".join(s.caption for s in timeline.segments)
    assert 2 / 3 not in timeline.arrays["sticky_values"].round(6).tolist()


def test_dimensionality_near_two_thirds_alone_gets_no_label():
    """Planted: four models, each a fan of three unit features at 0, 60 and 120 degrees (D_i exactly 2/3, but with
    positive overlaps: no triangle), and one perfect triangle. The old rule (>= 4 features within 0.02 of 2/3)
    would label 2/3; only the triangle's three features are verified, fewer than sticky_min_features."""
    from engine.timelines.toy_dims import polytope_summary

    a = np.radians([0.0, 60.0, 120.0])
    fan = np.stack([np.cos(a), np.sin(a)], 1)
    t = np.radians([90.0, 210.0, 330.0])
    W = np.stack([fan] * 4 + [np.stack([np.cos(t), np.sin(t)], 1)])
    D = measure.feature_dimensionality(W)
    represented = np.ones(D.shape, bool)
    assert (np.abs(D - 2 / 3) < 0.02).sum() >= 4, "the old rule's evidence is there"
    summary = polytope_summary(W, represented, D, DimsSettings())
    assert summary["counts"] == [((0.666667, "triangle"), 3)]
    assert summary["shown"] == [] and summary["share"] == pytest.approx(3 / 15)


@pytest.mark.slow
def test_catalogue_run_claims_no_triangle():
    """At the catalogue's settings the old caption said '2/3 (triangle)' (7 features near 2/3); none is verified."""
    tl = build(DimsSettings())
    D, rep = tl.arrays["feature_dimensionality"], tl.arrays["represented"]
    near = rep & (np.abs(D - 2 / 3) < 0.02)
    assert near.sum() >= 4 and not tl.arrays["in_polytope"][near].any()
    assert "triangle" not in " ".join(s.caption for s in tl.segments) and "triangle" not in tl.meta["sticky_names"]
    assert tl.meta["polytope_share"] == pytest.approx(0.66, abs=0.05)


def test_antipodal_pairs_on_the_half_plateau_are_verified(timeline):
    assert timeline.meta["antipodal_share_on_plateau"] >= SETTINGS.pairs_on_plateau
    assert "antipodal pairs" in timeline.segments[3].caption


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
