"""What the detector finds in the real MiniLM (block 5) over the shipped probe texts."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from engine.real.detect import detect
from engine.real.tokens import token_type


@pytest.fixture(scope="module")
def report(minilm_acts):
    return detect(minilm_acts)


def test_every_class_occurs_and_beats_chance(report):
    counts, chance = report.counts(), report.chance()
    assert counts["monosemantic"] > 200 and counts["polysemantic"] > 50 and counts["broad"] > 50
    assert counts["artifact"] >= 5
    for label in ("monosemantic", "polysemantic"):
        assert chance[label].real > 3 * chance[label].max, label


def test_polysemantic_neurons_with_exactly_two_concepts(report):
    two = [n for n in report.with_label("polysemantic") if len(n.concepts) == 2]
    assert len(two) >= 20
    pairs = Counter(frozenset(n.concepts) for n in two)
    assert len(pairs) >= 10  # not one odd pair repeated
    # related objects share neurons beyond chance: cat and dog are the commonest pair
    assert pairs.most_common(1)[0][0] == frozenset({"cat", "dog"})


def test_artifact_responses_rest_on_tokens_the_neuron_answers_elsewhere(report, minilm_acts):
    """Checked on the tokens themselves, independently of the detector's bookkeeping."""
    kinds = np.array([token_type(t) for t in minilm_acts.token.tolist()])
    responses = [(n, r) for n in report.with_label("artifact") for r in n.responses if r.carried_by != "content"]
    assert responses
    for neuron, r in responses:
        assert r.shared_types and r.token_share >= report.config.token_share_max
        on = np.isin(kinds, r.shared_types)
        inside, outside = on & (minilm_acts.concept == r.concept), on & (minilm_acts.concept != r.concept)
        active = minilm_acts.activations[:, neuron.index] >= neuron.threshold
        assert outside.sum() >= report.config.min_other_occurrences  # the other texts do contain them
        assert active[outside].mean() >= report.config.token_fraction * active[inside].mean() * 0.5
    # what carries them: punctuation and function words, never a concept's own vocabulary
    assert all(set(r.shared_types) & {".", ",", "the", "a", "and", "of", "on", "all", "every", "under", "it"}
               for _, r in responses)


@pytest.mark.parametrize("obj", ["car", "house", "boat"])
def test_object_neurons_fire_on_the_object_word(report, obj):
    mono = [n for n in report.with_label("monosemantic") if n.concepts == (obj,)]
    assert any(any(token_type(h.token).startswith(obj) for h in n.responses[0].top_tokens) for n in mono)
