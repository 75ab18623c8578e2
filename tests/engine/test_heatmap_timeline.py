"""The heatmap's timeline: real mean activations normalised per neuron, sorted so the structure shows."""
from __future__ import annotations

import numpy as np
import pytest

from engine.polysemantic import capture_with_background, concept_means, detect, open_source
from engine.timelines.errors import SettingsError
from engine.timelines.heatmap import HeatmapSettings, build, normalise_per_neuron

SETTINGS = HeatmapSettings()  # cat, car, house; 30 neurons


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def measured():
    acts = capture_with_background("minilm", None, SETTINGS.objects)
    return acts, detect(acts, concepts=SETTINGS.objects), concept_means(acts, SETTINGS.objects)


@pytest.fixture(scope="module")
def timeline(measured):
    return build(SETTINGS)


def test_cells_are_mean_activations_normalised_per_neuron(measured, timeline):
    _, _, means = measured
    idx = timeline.arrays["neuron_index"]
    assert len(idx) == SETTINGS.n_neurons == len(set(idx.tolist()))
    np.testing.assert_allclose(timeline.arrays["means"], means[:, idx], rtol=1e-6)
    expected = np.clip(means[:, idx] / means[:, idx].max(axis=0), 0, 1)
    np.testing.assert_allclose(timeline.arrays["values"], expected, rtol=1e-5)
    assert np.allclose(timeline.arrays["values"].max(axis=0), 1.0)


def test_normalisation_clips_negatives_and_keeps_the_peak():
    v = normalise_per_neuron(np.array([[2.0, -0.1], [1.0, 0.5]]))
    np.testing.assert_allclose(v, [[1.0, 0.0], [0.5, 1.0]])


def test_columns_sorted_by_object_then_shared(measured, timeline):
    _, report, _ = measured
    groups = [tuple(g) for g in timeline.meta["groups"]]
    assert groups == sorted(groups, key=lambda g: (len(g), g))
    values = timeline.arrays["values"]
    for j, g in enumerate(groups):
        r = report.neurons[int(timeline.arrays["neuron_index"][j])]
        assert set(r.concepts) == {SETTINGS.objects[o] for o in g}
        if len(g) == 1:  # monosemantic: brightest in its own row
            assert values[g[0], j] == 1.0 and r.label == "monosemantic"
        else:
            assert r.label == "polysemantic" and not r.artifact_concepts
    blocks = timeline.meta["blocks"]
    assert [b["label"] for b in blocks[:3]] == ["cat only", "car only", "house only"]
    # every polysemantic neuron of the layer that passes is shown: shared columns are the report's, not filler
    shared_in_layer = [n for n in report.with_label("polysemantic") if not n.artifact_concepts]
    assert int(timeline.arrays["polysemantic"].sum()) <= len(shared_in_layer)
    for j in np.flatnonzero(timeline.arrays["polysemantic"]):
        r = report.neurons[int(timeline.arrays["neuron_index"][j])]
        assert all(x.p_value <= report.null.corrected_threshold for x in r.responses)
    assert sum(b["stop"] - b["start"] for b in blocks) == len(groups)
    assert timeline.arrays["polysemantic"].tolist() == [int(len(g) > 1) for g in groups]


def test_captions_quote_the_whole_layer_beside_chance(measured, timeline):
    _, report, _ = measured
    counts, chance = report.counts(), report.chance()
    assert timeline.meta["counts"] == counts
    caption = timeline.segments[-1].caption
    assert "(1,536 neurons)" in caption
    for label, words in (("polysemantic", "respond to two or more"), ("monosemantic", "to one")):
        c = chance[label]
        assert f"{c.real:,.0f} (chance {c.mean:.1f}) {words}" in caption
    assert f"{counts['broad']:,} to none beyond chance" in caption
    everything = sum(1 for n in report.with_label("polysemantic") if len(n.content_concepts) == len(SETTINGS.objects))
    assert timeline.meta["responds_to_all"] == everything
    assert "superposition" not in " ".join(s.caption for s in timeline.segments)


def test_columns_appear_single_first_then_shared(timeline):
    poly = timeline.arrays["polysemantic"].astype(bool)
    end_specific = timeline.sample("reveal", timeline.segment_start("shared") - 0.01)
    assert np.all(end_specific[~poly] == 1) and np.all(end_specific[poly] == 0)
    assert np.all(timeline.sample("reveal", timeline.duration) == 1)
    assert timeline.sample("marks", timeline.duration) == 1


def test_deterministic(timeline):
    again = build(SETTINGS)
    np.testing.assert_array_equal(again.arrays["values"], timeline.arrays["values"])
    assert again.meta == timeline.meta


@pytest.mark.parametrize("settings, words", [
    (HeatmapSettings(objects=("cat", "unicorn")), "no object 'unicorn'"),
    (HeatmapSettings(n_neurons=80), "n_neurons = 80"),
    (HeatmapSettings(objects=("cat", "car", "house", "dog", "tree", "boat", "fortran")), "2 to 6 objects"),
])
def test_bad_settings_are_one_line_errors(settings, words):
    with pytest.raises(SettingsError) as e:
        settings.validate()
    assert words in str(e.value) and "\n" not in str(e.value)


def test_renders_from_a_users_activation_file(measured, tmp_path):
    acts, _, _ = measured
    path = acts.select(neurons=range(1, 1536, 4)).save(tmp_path / "mine.npz")
    tl = build(HeatmapSettings(activations=str(path), n_neurons=20, per_object=4))
    mine = open_source(str(path)).capture(SETTINGS.objects)
    idx = tl.arrays["neuron_index"]
    np.testing.assert_allclose(tl.arrays["values"], normalise_per_neuron(concept_means(mine, SETTINGS.objects)[:, idx]))
    assert "mine.npz" in tl.source and len(idx) == 20
