"""The hunt's timeline: counts, the chosen polysemantic neuron, its snippets and the artifact, all as measured."""
from __future__ import annotations

import numpy as np
import pytest

from engine.polysemantic import capture_with_background, detect
from engine.real.tokens import token_type
from engine.timelines.errors import SettingsError
from engine.timelines.hunt import HuntSettings, build, display_tokens

SETTINGS = HuntSettings()  # fortran, spanish_poetry, medical, gibberish on MiniLM block 5


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def measured():
    acts = capture_with_background("minilm", None, SETTINGS.objects)
    assert acts.concepts == SETTINGS.objects  # four genres: no matched background
    return acts, detect(acts, concepts=SETTINGS.objects)


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


def test_counts_on_screen_carry_their_chance_level(measured, timeline):
    """Each count of the matrix phases is the report's, beside the same count on label shuffles."""
    _, report = measured
    m, chance = timeline.arrays["pair_counts"], timeline.arrays["pair_chance"]
    shuffled = []
    for c in report.shuffles:
        mono = [int(((c.labels == "monosemantic") & c.content[i] & ~c.tokens.any(0)).sum()) for i in range(len(m))]
        shuffled.append(sum(mono))
    alone, pairs, _ = (s.caption for s in timeline.segments[1:4])
    assert f"{int(np.trace(m)):,} in all; chance: {np.mean(shuffled):.1f}." in alone
    assert np.trace(chance) == pytest.approx(np.mean(shuffled), abs=1e-4)
    assert f"{int(np.triu(m, 1).sum()):,} in all (chance {np.triu(chance, 1).sum():.1f})" in pairs
    # real structure: more two-kind neurons than any shuffle gives
    assert np.triu(m, 1).sum() > max(np.triu(x, 1).sum() for x in [np.asarray(timeline.meta["pair_chance"]["max"])])
    p = timeline.meta["polysemantic"]
    assert f"p = {p['p_values'][0]:.2g}, {p['p_values'][1]:.2g}" in timeline.segments[4].caption
    assert "p = 0," not in timeline.segments[4].caption and "p = 0)" not in timeline.segments[4].caption  # never a bare 0


def test_the_chosen_neuron_is_the_most_interesting_two_concept_neuron(measured, timeline):
    _, report = measured
    p = timeline.meta["polysemantic"]
    neuron = report.neurons[p["neuron"]]
    assert neuron.label == "polysemantic" and len(neuron.concepts) == 2 and neuron.artifact_concepts == ()
    assert p["concepts"] == list(neuron.concepts) and p["label"] == f"L5 N{p['neuron']}"

    def score(n):
        return (-max(r.p_value for r in n.responses), min(r.rate * (1 - r.token_share) for r in n.responses))
    two = [n for n in report.neurons if n.label == "polysemantic" and len(n.concepts) == 2]
    assert score(neuron) == max(score(n) for n in two)
    assert all(r.p_value <= report.null.corrected_threshold for r in neuron.responses)


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


def test_the_artifact_answers_tokens_it_also_fires_on_elsewhere(measured, timeline):
    acts, report = measured
    art = timeline.meta["artifact"]
    neuron = report.neurons[art["neuron"]]
    assert neuron.label == "artifact" and neuron.artifact_concepts
    shared = next(r for r in art["responses"] if r["carried_by"] != "content")
    assert shared["token_share"] >= art["shared_threshold"] and shared["shared_types"]
    # Independently, on the tokens themselves: the types occur in the other kinds of text and the
    # neuron fires on them there too.
    kinds = np.array([token_type(t) for t in acts.token.tolist()])
    elsewhere = np.isin(kinds, shared["shared_types"]) & (acts.concept != shared["concept"])
    active = acts.activations[:, art["neuron"]] >= neuron.threshold
    assert elsewhere.sum() >= 3 and active[elsewhere].mean() > 0.2
    quoted = [e["concept"] for e in shared["elsewhere"] if not e["tested"] and e["active"]]
    assert quoted and all((active & elsewhere & (acts.concept == c)).any() for c in quoted)
    np.testing.assert_array_equal(timeline.arrays["snippet_art"],
                                  acts.activations[timeline.arrays["snippet_rows_art"], art["neuron"]])
    lesson = timeline.segments[-1].caption
    assert "artifact" in lesson and f"{shared['token_share']:.0%}" in lesson


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
