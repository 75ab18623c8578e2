"""The tied/untied scene draws its timeline: golden last frame, and the fixture is what the engine makes."""
from __future__ import annotations

from manim.utils.testing.frames_comparison import frames_comparison

from scenes.toy_tied_untied import TiedUntiedAcrossSparsity
from tests.scenes import fixtures

__module_test__ = "toy_tied_untied"


def build_fixture():
    from engine.timelines.toy_tied_untied import TiedUntiedSettings, build
    return build(TiedUntiedSettings(steps=600, lr=5e-3, n_snapshots=4))


TIMELINE = fixtures.load_or_none(__module_test__)


@frames_comparison(base_scene=fixtures.bound(TiedUntiedAcrossSparsity, TIMELINE), last_frame=True)
def test_last_frame(scene):
    TiedUntiedAcrossSparsity.construct(scene)


def test_fixture_is_what_the_engine_builds():
    fixtures.assert_same_timeline(build_fixture(), TIMELINE, fixtures.TRAINED)
