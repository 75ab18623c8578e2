"""The dimensions-per-feature scene draws its timeline: golden last frame, and the fixture is what the engine makes."""
from __future__ import annotations

from manim.utils.testing.frames_comparison import frames_comparison

from scenes.toy_dims import DimensionsPerFeature
from tests.scenes import fixtures

__module_test__ = "toy_dims"


def build_fixture():
    from engine.timelines.toy_dims import DimsSettings, build
    return build(DimsSettings(n_densities=12, steps=2000))


TIMELINE = fixtures.load_or_none(__module_test__)


@frames_comparison(base_scene=fixtures.bound(DimensionsPerFeature, TIMELINE), last_frame=True)
def test_last_frame(scene):
    DimensionsPerFeature.construct(scene)


@frames_comparison(base_scene=fixtures.bound(DimensionsPerFeature, TIMELINE, theme="light"), last_frame=True)
def test_last_frame_light(scene):
    DimensionsPerFeature.construct(scene)


def test_fixture_is_what_the_engine_builds():
    fixtures.assert_same_timeline(build_fixture(), TIMELINE, fixtures.TRAINED)


def test_on_screen_sticky_claims_are_the_fixtures_own_numbers():
    """The sticky caption's share and window numbers recomputed from the arrays the scene draws (no torch)."""
    import numpy as np

    from engine.toy import measure, polytopes

    D, rep = TIMELINE.arrays["feature_dimensionality"], TIMELINE.arrays["represented"]
    share = TIMELINE.arrays["in_polytope"][rep].mean()
    tol = TIMELINE.meta["settings"]["sticky_tolerance"]
    observed, chance = polytopes.window_fraction(D[rep], np.array(measure.STICKY_DIMENSIONALITIES), tol)
    caption = TIMELINE.segments[-1].caption
    assert f"{share:.0%} of those represented" in caption
    assert f"polytope fraction: {observed:.0%}; a uniform spread over the same range: {chance:.0%}" in caption
    # Every labelled line is a value the scene rings verified features at, and no triangle is claimed.
    for v in TIMELINE.arrays["sticky_values"]:
        members = TIMELINE.arrays["in_polytope"] & (np.abs(D - v) < 0.03)
        assert members.sum() >= TIMELINE.meta["settings"]["sticky_min_features"]
    assert "triangle" not in caption and "2/3" not in TIMELINE.meta["sticky_labels"]
