"""The polysemanticity bar chart scene draws its timeline: golden last frame, and the fixture is what the engine makes."""
from __future__ import annotations

from manim.utils.testing.frames_comparison import frames_comparison

from scenes.bars import PolysemanticityBars
from tests.scenes import fixtures

__module_test__ = "poly_bars"


def build_fixture():
    import torch
    torch.set_num_threads(1)
    from engine.timelines.bars import BarsSettings, build
    return build(BarsSettings())  # the catalogue's settings: the fixture is small anyway


TIMELINE = fixtures.load_or_none(__module_test__)


@frames_comparison(base_scene=fixtures.bound(PolysemanticityBars, TIMELINE), last_frame=True)
def test_last_frame(scene):
    PolysemanticityBars.construct(scene)


@frames_comparison(base_scene=fixtures.bound(PolysemanticityBars, TIMELINE, theme="light"), last_frame=True)
def test_last_frame_light(scene):
    PolysemanticityBars.construct(scene)


def test_fixture_is_what_the_engine_builds():
    fixtures.assert_same_timeline(build_fixture(), TIMELINE, fixtures.CAPTURED)
