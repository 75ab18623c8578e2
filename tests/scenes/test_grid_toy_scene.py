"""The grid scene draws the toy model's timeline too: golden last frame, and the fixture is what the engine makes."""
from __future__ import annotations

from manim.utils.testing.frames_comparison import frames_comparison

from scenes.grid import SuperpositionGrid
from tests.scenes import fixtures

__module_test__ = "grid_toy"


def build_fixture():
    from engine.timelines.grid import GridSettings, build
    return build(GridSettings(source="toy", objects=("0", "1", "2"), steps=300))  # reduced training


TIMELINE = fixtures.load_or_none(__module_test__)


@frames_comparison(base_scene=fixtures.bound(SuperpositionGrid, TIMELINE), last_frame=True)
def test_last_frame(scene):
    SuperpositionGrid.construct(scene)


@frames_comparison(base_scene=fixtures.bound(SuperpositionGrid, TIMELINE, theme="light"), last_frame=True)
def test_last_frame_light(scene):
    SuperpositionGrid.construct(scene)


def test_fixture_is_what_the_engine_builds():
    fixtures.assert_same_timeline(build_fixture(), TIMELINE, fixtures.TRAINED)
