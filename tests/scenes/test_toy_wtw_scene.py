"""The W^T W scene draws its timeline: golden last frame, and the fixture is what the engine makes."""
from __future__ import annotations

import numpy as np
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
    fresh = build_fixture()
    assert fresh.segments == TIMELINE.segments
    for k, track in TIMELINE.tracks.items():
        np.testing.assert_allclose(fresh.tracks[k].values, track.values, atol=1e-5)
    np.testing.assert_array_equal(fresh.arrays["n_represented"], TIMELINE.arrays["n_represented"])
