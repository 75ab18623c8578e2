"""What the detector finds in the real MiniLM (block 5) over the shipped probe texts."""
from __future__ import annotations

from collections import Counter

import pytest

from engine.real.detect import detect
from engine.real.tokens import is_symbolic, token_type


@pytest.fixture(scope="module")
def report(minilm_acts):
    return detect(minilm_acts)


def _generic(acts):
    """Independent of the detector: punctuation, or a type found in at least half of the concepts."""
    seen: dict[str, set[str]] = {}
    for token, concept in zip(acts.token.tolist(), acts.concept.tolist()):
        seen.setdefault(token_type(token), set()).add(concept)
    half = len(acts.concepts) / 2
    return lambda token: is_symbolic(token) or len(seen[token_type(token)]) >= half


def test_every_class_occurs(report):
    counts = report.counts()
    assert counts["polysemantic"] > counts["monosemantic"] > 50 and counts["artifact"] > 20


def test_polysemantic_neurons_with_exactly_two_concepts(report):
    two = [n for n in report.with_label("polysemantic") if len(n.concepts) == 2]
    assert len(two) >= 5
    pairs = Counter(frozenset(n.concepts) for n in two)
    assert len(pairs) >= 5  # not one odd pair repeated
    # related objects share neurons: cat and dog
    assert any(set(n.content_concepts) == {"cat", "dog"} for n in report.with_label("polysemantic"))


def test_artifact_neurons_are_driven_by_shared_tokens(report, minilm_acts):
    generic = _generic(minilm_acts)
    responses = [r for n in report.with_label("artifact") for r in n.responses if r.carried_by != "content"]
    assert responses
    top1 = sum(generic(r.top_tokens[0].token) for r in responses) / len(responses)
    assert top1 > 0.75
    assert any(r.top_tokens[0].token == "." for r in responses)


@pytest.mark.parametrize("obj", ["car", "house", "boat"])
def test_object_neurons_fire_on_the_object_word(report, obj):
    mono = [n for n in report.with_label("monosemantic") if n.concepts == (obj,)]
    assert any(any(token_type(h.token).startswith(obj) for h in n.responses[0].top_tokens) for n in mono)
