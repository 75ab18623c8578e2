"""The digits timeline: a polysemantic hidden neuron of the trained MLP and the images that really drive it."""
from __future__ import annotations

import numpy as np
import pytest

from engine.polysemantic import detect, open_source
from engine.timelines.digits import DigitsSettings, build
from engine.timelines.errors import SettingsError

SETTINGS = DigitsSettings()


@pytest.fixture(scope="module")
def measured():
    acts = open_source("digits").capture()
    return acts, detect(acts)


@pytest.fixture(scope="module")
def timeline(measured):
    return build(SETTINGS)


def test_the_neuron_responds_to_several_digits_by_the_rule(measured, timeline):
    _, report = measured
    meta = timeline.meta["neuron"]
    neuron = report.neurons[meta["index"]]
    assert neuron.label == "polysemantic" and len(neuron.content_concepts) >= 2
    fewest = min(len(n.concepts) for n in report.with_label("polysemantic"))
    assert len(neuron.concepts) == fewest  # the clearest example: fewest classes
    assert meta["concepts"] == list(neuron.concepts)
    assert [r["class"] for r in timeline.meta["rows"] if r["responds"]] == list(neuron.concepts)[: SETTINGS.max_classes]


def test_bars_are_the_share_of_images_above_the_detectors_threshold(measured, timeline):
    acts, report = measured
    n = timeline.meta["neuron"]["index"]
    thr = report.neurons[n].threshold
    expected = [(acts.activations[acts.concept == c, n] >= thr).mean() for c in acts.concepts]
    np.testing.assert_allclose(timeline.arrays["strong_share"], expected, rtol=1e-6)
    np.testing.assert_allclose(timeline.sample("bars", timeline.duration), expected, rtol=1e-6)
    # The classes it responds to have the largest shares.
    top = np.argsort(-timeline.arrays["strong_share"])[:2]
    assert {acts.concepts[i] for i in top} == set(report.neurons[n].concepts[:2])


def test_images_are_the_top_activating_ones_of_each_class(measured, timeline):
    acts, _ = measured
    n = timeline.meta["neuron"]["index"]
    for k, r in enumerate(timeline.meta["rows"]):
        rows = timeline.arrays["image_index"][k]
        in_class = np.sort(acts.activations[acts.concept == r["class"], n])[::-1]
        np.testing.assert_allclose(timeline.arrays["image_activations"][k], in_class[: len(rows)], rtol=1e-6)
        np.testing.assert_array_equal(timeline.arrays["images"][k], acts.image[rows])
        assert set(acts.concept[rows].tolist()) == {r["class"]}
    contrast = timeline.meta["rows"][-1]
    assert not contrast["responds"]
    assert timeline.arrays["image_activations"][-1].max() < timeline.arrays["image_activations"][0].min()


def test_deterministic(timeline):
    again = build(SETTINGS)
    assert again.meta == timeline.meta and again.segments == timeline.segments
    np.testing.assert_array_equal(again.arrays["images"], timeline.arrays["images"])


@pytest.mark.parametrize("settings, words", [
    (DigitsSettings(source="minilm"), "this scene needs images"),
    (DigitsSettings(images_per_class=9), "images_per_class = 9"),
    (DigitsSettings(max_classes=0), "max_classes = 0"),
])
def test_bad_settings_are_one_line_errors(settings, words):
    with pytest.raises(SettingsError) as e:
        settings.validate()
    assert words in str(e.value) and "\n" not in str(e.value)


def test_an_activation_file_without_images_is_refused(tmp_path):
    path = tmp_path / "text.npz"
    np.savez(path, activations=np.ones((2, 2), np.float32), concept=np.array(["a", "b"]), token=np.array(["x", "y"]))
    with pytest.raises(SettingsError, match="has no 'image' array"):
        DigitsSettings(activations=str(path)).validate()


def test_forcing_a_dead_neuron_is_refused(measured):
    _, report = measured
    dead = report.with_label("dead")
    if dead:
        with pytest.raises(SettingsError, match="is dead"):
            build(DigitsSettings(neuron=dead[0].index))


def test_summary_counts_beat_chance_and_claim_no_superposition(measured, timeline):
    """28 of 32 neurons answering several classes is polysemanticity; 32 neurons for 10 classes need no
    superposition, so the caption must not conclude it."""
    _, report = measured
    multi = report.measure(lambda c: int((c.content.sum(axis=0) >= 2).sum()))
    one = report.chance()["monosemantic"]
    summary = timeline.segments[-1].caption
    assert f"{multi.real:,.0f} (chance {multi.mean:.1f}) of the 32 hidden neurons" in summary
    assert f"{one.real:,.0f} (chance {one.mean:.1f}) to just one" in summary
    assert multi.real > multi.max  # beats every label shuffle
    assert "need no superposition" in summary and "stores ten classes in superposition" not in summary
    assert timeline.meta["multi_class"] == {"real": int(multi.real), "mean": multi.mean, "max": multi.max}
