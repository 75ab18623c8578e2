"""The digits neuron scene draws its timeline: golden last frame, and the fixture is what the engine makes."""
from __future__ import annotations

from manim.utils.testing.frames_comparison import frames_comparison

from scenes.digits import DigitsNeuron
from tests.approx import Tol
from tests.scenes import fixtures

__module_test__ = "digits"


def build_fixture():
    import torch
    torch.set_num_threads(1)
    from engine.timelines.digits import DigitsSettings, build
    return build(DigitsSettings())  # the catalogue's settings: the fixture is small anyway


TIMELINE = fixtures.load_or_none(__module_test__)


@frames_comparison(base_scene=fixtures.bound(DigitsNeuron, TIMELINE), last_frame=True)
def test_last_frame(scene):
    DigitsNeuron.construct(scene)


@frames_comparison(base_scene=fixtures.bound(DigitsNeuron, TIMELINE, theme="light"), last_frame=True)
def test_last_frame_light(scene):
    DigitsNeuron.construct(scene)


def test_fixture_is_what_the_engine_builds():
    # The digits MLP is retrained here, so its weights drift across CPUs; a shuffle's count of responses may
    # then move by one where a response sits on the threshold (seen: one flip under the plainest kernels),
    # and so may one held-out image on the half-peak line: a class's share of its ~45 images moves by 1/45
    # (seen: 0.022 under the plainest kernels on a CPU without AVX).
    one_image = Tol(rel=fixtures.DIGITS.rel, abs=1 / 40)
    fixtures.assert_same_timeline(build_fixture(), TIMELINE, fixtures.DIGITS, chance_flips=2,
                                  arrays={"bars": one_image, "strong_share": one_image})
