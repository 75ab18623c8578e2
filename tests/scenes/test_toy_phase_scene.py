"""The phase-diagram scene draws its timeline: golden last frame, and the fixture is what the engine makes."""
from __future__ import annotations

from manim.utils.testing.frames_comparison import frames_comparison

from scenes.toy_phase import PhaseDiagram
from tests.scenes import fixtures

__module_test__ = "toy_phase"


def build_fixture():
    from engine.timelines.toy_phase import PhaseSettings, build
    return build(PhaseSettings(n_densities=6, n_importances=6, steps=2000))


TIMELINE = fixtures.load_or_none(__module_test__)


@frames_comparison(base_scene=fixtures.bound(PhaseDiagram, TIMELINE), last_frame=True)
def test_last_frame(scene):
    PhaseDiagram.construct(scene)


@frames_comparison(base_scene=fixtures.bound(PhaseDiagram, TIMELINE, theme="light"), last_frame=True)
def test_last_frame_light(scene):
    PhaseDiagram.construct(scene)


def test_fixture_is_what_the_engine_builds():
    from tests.scenes.phase_ties import assert_same_phase_diagram
    assert_same_phase_diagram(build_fixture(), TIMELINE)  # a cell's label may flip only at a near tie
