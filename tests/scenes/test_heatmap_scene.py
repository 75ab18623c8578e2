"""The neuron x object heatmap scene draws its timeline: golden last frame, and the fixture is what the engine makes."""
from __future__ import annotations

from manim.utils.testing.frames_comparison import frames_comparison

from scenes.neuron_heatmap import NeuronObjectHeatmap
from tests.scenes import fixtures

__module_test__ = "neuron_heatmap"


def build_fixture():
    import torch
    torch.set_num_threads(1)
    from engine.timelines.heatmap import HeatmapSettings, build
    return build(HeatmapSettings())  # the catalogue's settings: the fixture is small anyway


TIMELINE = fixtures.load_or_none(__module_test__)


@frames_comparison(base_scene=fixtures.bound(NeuronObjectHeatmap, TIMELINE), last_frame=True)
def test_last_frame(scene):
    NeuronObjectHeatmap.construct(scene)


@frames_comparison(base_scene=fixtures.bound(NeuronObjectHeatmap, TIMELINE, theme="light"), last_frame=True)
def test_last_frame_light(scene):
    NeuronObjectHeatmap.construct(scene)


def test_fixture_is_what_the_engine_builds():
    fixtures.assert_same_timeline(build_fixture(), TIMELINE, fixtures.CAPTURED)
