"""The neuron x object heatmap scene draws its timeline: golden last frame, and the fixture is what the engine makes."""
from __future__ import annotations

import numpy as np
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


def test_fixture_is_what_the_engine_builds():
    fresh = build_fixture()
    assert fresh.segments == TIMELINE.segments
    assert fresh.meta == TIMELINE.meta
    for k, track in TIMELINE.tracks.items():
        np.testing.assert_allclose(fresh.tracks[k].values, track.values, atol=1e-5)
    for k, array in TIMELINE.arrays.items():
        np.testing.assert_allclose(fresh.arrays[k], array, atol=1e-5)
