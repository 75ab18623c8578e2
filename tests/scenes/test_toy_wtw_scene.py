"""The W^T W scene draws its timeline: golden last frame, and the fixture is what the engine makes."""
from __future__ import annotations

from manim.utils.testing.frames_comparison import frames_comparison

from scenes.toy_wtw import WtWAcrossSparsity
from tests.scenes import fixtures

__module_test__ = "toy_wtw"



def build_fixture():
    from engine.timelines.toy_wtw import WtWSettings, build
    return build(WtWSettings(steps=2000, n_snapshots=6))


TIMELINE = fixtures.load_or_none(__module_test__)


@frames_comparison(base_scene=fixtures.bound(WtWAcrossSparsity, TIMELINE), last_frame=True)
def test_last_frame(scene):
    WtWAcrossSparsity.construct(scene)


def test_fixture_is_what_the_engine_builds():
    fixtures.assert_same_timeline(build_fixture(), TIMELINE, fixtures.TRAINED)
