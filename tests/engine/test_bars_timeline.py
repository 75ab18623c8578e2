"""The bar chart's timeline shows what MiniLM's neurons really do on the objects' texts, chosen by its rule."""
from __future__ import annotations

import numpy as np
import pytest

from engine.polysemantic import capture_with_background, concept_means, detect, open_source
from engine.timelines.bars import BarsSettings, build
from engine.timelines.errors import SettingsError
from engine.timelines.hunt_common import short_name

SETTINGS = BarsSettings()  # the catalogue's: cat, car, house on MiniLM block 5, 10 neurons


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def measured():
    acts = capture_with_background("minilm", None, SETTINGS.objects)
    return acts, detect(acts, concepts=SETTINGS.objects), concept_means(acts, SETTINGS.objects)


@pytest.fixture(scope="module")
def timeline(measured):
    return build(SETTINGS)


def test_bars_are_the_neurons_mean_activations(measured, timeline):
    acts, _, means = measured
    idx = timeline.arrays["neuron_index"]
    np.testing.assert_allclose(timeline.arrays["means"], means[:, idx], rtol=1e-6)
    # At the end every bar stands at its measured height.
    np.testing.assert_allclose(timeline.sample("heights", timeline.duration), means[:, idx], rtol=1e-6)
    assert timeline.meta["neuron_names"] == [str(acts.neuron[i]) for i in idx]
    assert timeline.meta["neuron_labels"][0] == short_name(str(acts.neuron[idx[0]]))
    assert all(name.startswith("L5 N") for name in timeline.meta["neuron_labels"])


def test_neurons_follow_the_detector_and_the_bars_show_their_group(measured, timeline):
    _, report, means = measured
    objects = SETTINGS.objects
    groups = [tuple(g) for g in timeline.meta["groups"]]
    for n, g in zip(timeline.arrays["neuron_index"], groups):
        r = report.neurons[int(n)]
        assert set(r.concepts) == {objects[o] for o in g} and not r.artifact_concepts
        assert r.label == ("monosemantic" if len(g) == 1 else "polysemantic")
        others = [o for o in range(len(objects)) if o not in g]
        if others:  # every member of its group stands above every other object
            assert means[list(g), n].min() > means[others, n].max()
    # The rule: per_object single-object neurons per object, the rest shared (pairs before the triple),
    # and only neurons whose every response beats the null.
    assert [g for g in groups if len(g) == 1] == [(0,), (0,), (1,), (1,), (2,), (2,)]
    shared = [g for g in groups if len(g) > 1]
    assert shared == sorted(shared, key=lambda g: (len(g), g)) and len(shared) == 4
    for n in timeline.arrays["neuron_index"]:
        assert all(r.p_value <= report.null.corrected_threshold for r in report.neurons[int(n)].responses)
    poly = timeline.arrays["polysemantic"].astype(bool)
    assert poly.tolist() == [len(g) > 1 for g in groups]
    assert [bool(s) for s in timeline.meta["highlight_labels"]] == poly.tolist()
    assert timeline.meta["highlight_labels"][6] == "responds to " + " and ".join(objects[o] for o in groups[6])


def test_counts_on_screen_are_the_reports_with_their_chance_level(measured, timeline):
    _, report, _ = measured
    chance = report.chance()
    caption = timeline.segments[-1].caption
    for label in ("polysemantic", "monosemantic"):
        c = chance[label]
        assert f"{c.real:,.0f} (chance {c.mean:.1f}) {label}" in caption
    assert f"{report.counts()['broad']:,} broad" in caption
    assert timeline.meta["chance"]["labels"]["polysemantic"]["max"] == chance["polysemantic"].max
    assert "superposition" not in " ".join(s.caption for s in timeline.segments)


def test_best_single_object_neuron_is_chosen(measured, timeline):
    """For each object, no eligible monosemantic neuron beats the chosen ones on the documented score."""
    _, report, means = measured
    chosen = {int(n) for n in timeline.arrays["neuron_index"]}
    for o, obj in enumerate(SETTINGS.objects):
        others = [k for k in range(len(SETTINGS.objects)) if k != o]
        score = means[o] - means[others].max(axis=0)
        eligible = [r.index for r in report.neurons if r.label == "monosemantic" and r.concepts == (obj,)]
        best = sorted(eligible, key=lambda n: (-score[n], n))[: SETTINGS.per_object]
        assert set(best) <= chosen


def test_phases_highlight_the_polysemantic_neurons_last(timeline):
    names = [s.name for s in timeline.segments]
    assert names == ["intro", "object_0", "object_1", "object_2", "together", "polysemantic"]
    poly = timeline.arrays["polysemantic"].astype(float)
    np.testing.assert_array_equal(timeline.sample("highlight", timeline.segment_start("polysemantic") - 0.01), 0 * poly)
    np.testing.assert_array_equal(timeline.sample("highlight", timeline.duration), poly)
    # While the car bars grow, only cat and car bars exist, and car is the one in focus.
    t = timeline.segment_start("object_2") - 0.01
    assert np.all(timeline.sample("heights", t)[2] == 0) and np.any(timeline.sample("heights", t)[1] != 0)
    np.testing.assert_allclose(timeline.sample("object_opacity", t), [0.3, 1.0, 0.3])
    assert 15 <= timeline.duration <= 35


def test_deterministic(timeline):
    again = build(SETTINGS)
    assert again.segments == timeline.segments and again.meta == timeline.meta
    for k in timeline.tracks:
        np.testing.assert_array_equal(again.tracks[k].values, timeline.tracks[k].values)


def test_renders_from_a_users_activation_file(measured, tmp_path):
    acts, _, _ = measured
    path = acts.select(neurons=range(0, 1536, 3)).save(tmp_path / "mine.npz")
    tl = build(BarsSettings(activations=str(path)))
    mine = open_source(str(path)).capture(SETTINGS.objects)
    np.testing.assert_allclose(tl.arrays["means"], concept_means(mine, SETTINGS.objects)[:, tl.arrays["neuron_index"]])
    assert "mine.npz" in tl.source


@pytest.mark.parametrize("settings, words", [
    (BarsSettings(objects=("cat", "zebra")), "no object 'zebra' in the probe texts"),
    (BarsSettings(objects=("cat",)), "2 to 4 objects"),
    (BarsSettings(objects=("cat", "cat")), "more than once"),
    (BarsSettings(n_neurons=40), "n_neurons = 40"),
    (BarsSettings(per_object=5), "per_object = 5"),
    (BarsSettings(source="gpt9"), "unknown source 'gpt9'"),
    (BarsSettings(activations="/nonexistent/acts.npz"), "no such activation file"),
])
def test_bad_settings_are_one_line_errors(settings, words):
    with pytest.raises(SettingsError) as e:
        settings.validate()
    assert words in str(e.value) and "\n" not in str(e.value)


def test_a_broken_activation_file_is_a_settings_error(tmp_path):
    path = tmp_path / "broken.npz"
    np.savez(path, activations=np.zeros((3, 2), np.float32), concept=np.array(["cat", "car"]), token=np.array(["a", "b", "c"]))
    with pytest.raises(SettingsError, match="array 'concept' has 2 entries but activations has 3 tokens"):
        BarsSettings(activations=str(path), objects=("cat", "car")).validate()
    np.savez(path, activations=np.ones((2, 2), np.float32), concept=np.array(["dog", "boat"]), token=np.array(["a", "b"]))
    with pytest.raises(SettingsError, match="no object 'cat' in activation file .*available: dog, boat"):
        BarsSettings(activations=str(path), objects=("cat", "car")).validate()


def test_a_users_file_is_described_as_labelled_tokens(measured, tmp_path):
    """Captions and the source line say 'tokens labelled', not 'probe texts', for a user's activation file."""
    acts, _, _ = measured
    path = acts.select(neurons=range(0, 1536, 3)).save(tmp_path / "mine.npz")
    tl = build(BarsSettings(activations=str(path)))
    words = " ".join([tl.source, *(s.caption for s in tl.segments)])
    assert "probe texts" not in words and "Texts about" not in words and "Tokens labelled cat" in words
