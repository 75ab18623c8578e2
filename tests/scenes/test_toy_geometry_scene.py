"""The feature-geometry scene draws its timeline: golden last frame, and the fixture is what the engine makes."""
from __future__ import annotations

from manim.utils.testing.frames_comparison import frames_comparison

from scenes.toy_geometry import FeatureGeometry
from tests.scenes import fixtures

__module_test__ = "toy_geometry"


def build_fixture():
    from engine.timelines.toy_geometry import GeometrySettings, build
    return build(GeometrySettings(steps=1500, seeds=2, n_snapshots=6, loss_samples=4096))


TIMELINE = fixtures.load_or_none(__module_test__)


@frames_comparison(base_scene=fixtures.bound(FeatureGeometry, TIMELINE), last_frame=True)
def test_last_frame(scene):
    FeatureGeometry.construct(scene)


@frames_comparison(base_scene=fixtures.bound(FeatureGeometry, TIMELINE, theme="light"), last_frame=True)
def test_last_frame_light(scene):
    FeatureGeometry.construct(scene)


def test_fixture_is_what_the_engine_builds():
    fixtures.assert_same_timeline(build_fixture(), TIMELINE, fixtures.TRAINED)
