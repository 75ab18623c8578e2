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


@frames_comparison(base_scene=fixtures.bound(WtWAcrossSparsity, TIMELINE, theme="light"), last_frame=True)
def test_last_frame_light(scene):
    WtWAcrossSparsity.construct(scene)


def test_fixture_is_what_the_engine_builds():
    fixtures.assert_same_timeline(build_fixture(), TIMELINE, fixtures.TRAINED)


def test_on_screen_claims_are_the_fixtures_own_numbers():
    """Counts in the captions and the highlighted panels, recomputed from the arrays the scene draws."""
    from engine.timelines.toy_tied_untied import interference_stats

    settings = TIMELINE.meta["settings"]
    bias = TIMELINE.tracks["bias"].values[-1].astype(float)
    represented = TIMELINE.arrays["feature_norms"] > settings["represented_threshold"]
    share = ((bias < -settings["negative_bias"]) & represented).sum(-1) / represented.sum(-1)
    np.testing.assert_allclose(TIMELINE.arrays["negative_bias_share"], share, atol=1e-6)
    n_rep = TIMELINE.arrays["n_represented"]
    np.testing.assert_array_equal(n_rep, represented.sum(-1))
    probs = TIMELINE.arrays["feature_probability"]
    caption = {s.name: s.caption for s in TIMELINE.segments}
    negative = np.flatnonzero(share >= 0.5)
    for k in negative:
        assert f"{round(share[k] * n_rep[k])} of {n_rep[k]}" in caption["bias"]
    max_pos = interference_stats(TIMELINE.tracks["wtw"].values[-1].astype(float))["max_positive"]
    assert f"up to {', '.join(f'{round(float(max_pos[k]), 2):g}' for k in negative)})" in caption["bias"]
    # Highlights: the superposed panels in the "sparse" phase, the negative-bias panels in the "bias" phase.
    np.testing.assert_array_equal(TIMELINE.sample("highlight", TIMELINE.segment_start("bias") - 1e-3),
                                  n_rep > TIMELINE.meta["n_hidden"])
    np.testing.assert_array_equal(TIMELINE.sample("highlight", TIMELINE.segment_start("summary") - 1e-3),
                                  share >= 0.5)
    # The old caption credited negative biases to every sparse panel (1-S <= 0.1); here 0.1 has none.
    k = int(np.argmin(np.abs(probs - 0.1)))
    assert share[k] < 0.5 and "1\u2212S = 0.1 " not in caption["bias"].split("appear")[1].split("(")[0]
