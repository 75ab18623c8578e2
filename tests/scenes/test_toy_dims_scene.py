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


def test_fixture_is_what_the_engine_builds():
    fixtures.assert_same_timeline(build_fixture(), TIMELINE)
