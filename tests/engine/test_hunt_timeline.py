"""The hunt's timeline: counts, the chosen polysemantic neuron, its snippets and the artifact, all as measured."""
from __future__ import annotations

import numpy as np
import pytest

from engine.polysemantic import detect, open_source
from engine.real.tokens import is_symbolic, token_type
from engine.timelines.errors import SettingsError
from engine.timelines.hunt import HuntSettings, build, display_tokens

SETTINGS = HuntSettings()  # fortran, spanish_poetry, medical, gibberish on MiniLM block 5


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def measured():
    acts = open_source("minilm").capture(SETTINGS.objects)
    return acts, detect(acts)


@pytest.fixture(scope="module")
def timeline(measured):
    return build(SETTINGS)


def test_pair_counts_are_the_detectors(measured, timeline):
    _, report = measured
    concepts = SETTINGS.objects
    m = timeline.arrays["pair_counts"]
    assert (m == m.T).all()
    for i, a in enumerate(concepts):
        assert m[i, i] == sum(1 for n in report.neurons if n.label == "monosemantic" and n.concepts == (a,))
        for j, b in enumerate(concepts):
            if i != j:
                assert m[i, j] == sum(1 for n in report.neurons
                                      if n.label == "polysemantic" and set(n.concepts) == {a, b})
    assert timeline.meta["counts"] == report.counts()


def test_the_chosen_neuron_is_the_most_interesting_two_concept_neuron(measured, timeline):
    _, report = measured
    p = timeline.meta["polysemantic"]
    neuron = report.neurons[p["neuron"]]
    assert neuron.label == "polysemantic" and len(neuron.concepts) == 2 and neuron.artifact_concepts == ()
    assert p["concepts"] == list(neuron.concepts) and p["label"] == f"L5 N{p['neuron']}"

    def score(n):
        return min(r.rate * (1 - r.generic_share) for r in n.responses)
    two = [n for n in report.neurons if n.label == "polysemantic" and len(n.concepts) == 2]
    assert score(neuron) == max(score(n) for n in two)


def test_snippets_show_the_neurons_own_activations_around_its_peak(measured, timeline):
    acts, _ = measured
    n = timeline.meta["polysemantic"]["neuron"]
    for key in ("a", "b"):
        rows = timeline.arrays[f"snippet_rows_{key}"]
        meta = timeline.meta["snippets"][key]
        np.testing.assert_array_equal(timeline.arrays[f"snippet_{key}"], acts.activations[rows, n])
        assert len(rows) <= SETTINGS.max_tokens and len(set(acts.sequence[rows].tolist())) == 1
        assert set(acts.concept[rows].tolist()) == {meta["concept"]}
        in_concept = acts.activations[acts.concept == meta["concept"], n]
        assert timeline.arrays[f"snippet_{key}"].max() == in_concept.max()  # the concept's peak token is shown
        assert len(meta["texts"]) == len(rows) == len(meta["joined"])


def test_the_artifact_neuron_rests_on_punctuation(measured, timeline):
    acts, report = measured
    art = timeline.meta["artifact"]
    neuron = report.neurons[art["neuron"]]
    assert neuron.label == "artifact" and len(neuron.content_concepts) == 1 and len(neuron.artifact_concepts) == 1
    shared = next(r for r in art["responses"] if r["carried_by"] != "content")
    assert shared["generic_share"] >= art["shared_threshold"]
    # Independently: most of the shared-token response's active mass sits on punctuation and symbols.
    rows = acts.concept == shared["concept"]
    a = acts.activations[rows, art["neuron"]]
    mass = np.where(a >= neuron.threshold, a, 0.0)
    sym = np.array([is_symbolic(token_type(t)) for t in acts.token[rows]])
    assert (mass * sym).sum() / mass.sum() > 0.5
    assert np.isclose(shared["symbol_share"], (mass * sym).sum() / mass.sum(), atol=1e-6)
    np.testing.assert_array_equal(timeline.arrays["snippet_art"],
                                  acts.activations[timeline.arrays["snippet_rows_art"], art["neuron"]])
    assert "artifact" in timeline.segments[-1].caption


def test_phases_and_panels(timeline):
    assert [s.name for s in timeline.segments] == ["concepts", "alone", "pairs", "neuron_a", "neuron_b",
                                                    "artifact", "lesson"]
    at = lambda seg: timeline.sample("panels", timeline.segment_start(seg) + 0.99 * timeline.segments[  # noqa: E731
        timeline.segment_index(seg)].duration)
    np.testing.assert_array_equal(at("pairs"), [1, 0, 0])
    np.testing.assert_array_equal(at("neuron_b"), [0, 1, 0])
    np.testing.assert_array_equal(at("lesson"), [0, 0, 1])
    assert timeline.sample("sweep_a", timeline.segment_start("neuron_b")) == len(timeline.meta["snippets"]["a"]["texts"])
    assert 15 <= timeline.duration <= 35


def test_display_tokens_join_word_pieces_and_punctuation():
    texts, joined = display_tokens(["crack", "##les", "at", "the", "base", ".", "b", "(", "k", ")"])
    assert texts == ["crack", "les", "at", "the", "base", ".", "b", "(", "k", ")"]
    assert joined == [False, True, False, False, False, True, False, False, True, True]
    texts, joined = display_tokens([" the", " cat", "s", " sat"])  # byte-level BPE
    assert texts == ["the", "cat", "s", "sat"] and joined == [False, False, True, False]


def test_deterministic(timeline):
    again = build(SETTINGS)
    assert again.meta == timeline.meta
    np.testing.assert_array_equal(again.arrays["pair_counts"], timeline.arrays["pair_counts"])


@pytest.mark.parametrize("settings, words", [
    (HuntSettings(objects=("fortran", "klingon")), "no concept 'klingon' in the probe texts"),
    (HuntSettings(objects=("fortran",)), "2 to 6 concepts"),
    (HuntSettings(max_tokens=100), "max_tokens = 100"),
    (HuntSettings(neuron=-1), "neuron = -1"),
])
def test_bad_settings_are_one_line_errors(settings, words):
    with pytest.raises(SettingsError) as e:
        settings.validate()
    assert words in str(e.value) and "\n" not in str(e.value)


def test_forcing_a_monosemantic_neuron_is_refused(measured):
    _, report = measured
    mono = report.with_label("monosemantic")[0].index
    with pytest.raises(SettingsError, match=f"neuron {mono} is monosemantic"):
        build(HuntSettings(neuron=mono))
