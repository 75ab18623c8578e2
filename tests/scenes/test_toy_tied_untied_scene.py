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


@frames_comparison(base_scene=fixtures.bound(TiedUntiedAcrossSparsity, TIMELINE, theme="light"), last_frame=True)
def test_last_frame_light(scene):
    TiedUntiedAcrossSparsity.construct(scene)


def test_fixture_is_what_the_engine_builds():
    fixtures.assert_same_timeline(build_fixture(), TIMELINE, fixtures.TRAINED)


def test_on_screen_claims_are_the_fixtures_own_numbers():
    """The 'k/n features' labels and the stuck caption, recomputed from the matrices the scene draws."""
    import numpy as np

    from engine.timelines.toy_tied_untied import dropped_features, read_back

    settings = TIMELINE.meta["settings"]
    final = TIMELINE.tracks["wtw"].values[-1].astype(float)
    bias = TIMELINE.tracks["bias"].values[-1].astype(float)
    np.testing.assert_array_equal(TIMELINE.arrays["n_read_back"], (read_back(final) > settings["read_back_threshold"]).sum(-1))
    probs = TIMELINE.arrays["feature_probability"]
    dropped = dropped_features(final, bias, probs, settings["read_back_threshold"], settings["stuck_fire_rate"])
    assert [[k, lost] for k, lost, _ in dropped] == [[d["panel"], d["features"]] for d in TIMELINE.meta["dropped"]]
    stuck = [s.caption for s in TIMELINE.segments if s.name == "stuck"]
    assert len(stuck) == (1 if dropped else 0)
    for k, lost, _ in dropped:
        assert f"{', '.join(str(i + 1) for i in lost)} at " in stuck[0] and f"{probs[k]:g}" in stuck[0]
