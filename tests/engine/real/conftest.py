"""Fixtures for the real-model tests: one MiniLM per session, one torch thread, planted activations.

The cache is isolated per session by tests/conftest.py (NEUROREEL_CACHE)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from engine.real.activations import ActivationSet

TEST_LAYER = 5


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread_in_every_module(one_torch_thread):
    """Every real-model test module runs on one torch thread (tests/engine/conftest.py)."""
    yield


@pytest.fixture(scope="session")
def minilm():
    """The real MiniLM source (loaded once per session, on first capture)."""
    from engine.real.minilm import open_minilm

    return open_minilm(layer=TEST_LAYER)


@pytest.fixture(scope="session")
def minilm_acts(minilm):
    """MiniLM activations of every probe concept at TEST_LAYER (through the cache)."""
    return minilm.capture()


# --- planted ground truth for the detector -----------------------------------------------------

CONCEPTS = ("cat", "car", "house", "fortran", "medical")
GENERIC = (".", ",", "the", "a", "of")
GENERIC_P = (0.3, 0.25, 0.25, 0.1, 0.1)
MEDICAL_GENERIC_P = (0.7, 0.075, 0.075, 0.075, 0.075)  # clinical notes are full of full stops ("b.i.d.", "y.o.")
SNIPPET_TOKENS = 12


@dataclass
class Planted:
    acts: ActivationSet
    expected: dict[int, tuple[str, tuple[str, ...], tuple[str, ...]]] = field(default_factory=dict)
    # neuron -> (label, content concepts, token-carried concepts)


def _planted(seed: int = 0, tokens_per_concept: int = 400) -> Planted:
    """Tokens: 60% concept-specific word types, 40% generic ones shared by every concept (60% in medical,
    most of them full stops), in snippets of SNIPPET_TOKENS tokens.

    Every neuron gets small Gaussian noise; planted neurons fire at 2-4 on their trigger tokens.
    """
    rng = np.random.default_rng(seed)
    vocab = {c: [f"{c}word{i}" for i in range(40)] for c in CONCEPTS}
    concept, token = [], []
    for c in CONCEPTS:
        generic_rate, generic_p = (0.6, MEDICAL_GENERIC_P) if c == "medical" else (0.4, GENERIC_P)
        for _ in range(tokens_per_concept):
            token.append(rng.choice(vocab[c]) if rng.random() >= generic_rate else rng.choice(GENERIC, p=generic_p))
            concept.append(c)
    concept, token = np.array(concept), np.array(token)
    # snippets of SNIPPET_TOKENS tokens, each within one concept (the null shuffles whole snippets)
    sequence = np.concatenate([1000 * i + np.arange(tokens_per_concept) // SNIPPET_TOKENS for i in range(len(CONCEPTS))])
    some = {c: set(vocab[c][::2]) for c in CONCEPTS}  # a neuron fires on half of a concept's own words
    words, counts = np.unique(token[concept == "cat"], return_counts=True)
    frequent_cat_word = words[np.argmax(np.where(np.char.startswith(words, "catword"), counts, 0))]

    def fires(cond: np.ndarray) -> np.ndarray:
        return np.where(cond, rng.uniform(2.0, 4.0, size=len(token)), 0.0)

    def content(c: str) -> np.ndarray:
        return (concept == c) & np.isin(token, list(some[c]))

    stop = token == "."
    planted: list[tuple[np.ndarray, tuple]] = []
    for c in CONCEPTS:
        planted.append((fires(content(c)), ("monosemantic", (c,), ())))
    planted.append((fires((concept == "cat") & (token == frequent_cat_word)), ("monosemantic", ("cat",), ())))  # one word
    for a, b in (("cat", "car"), ("house", "fortran"), ("car", "medical")):
        planted.append((fires(content(a) | content(b)), ("polysemantic", tuple(sorted((a, b))), ())))
    planted.append((fires(content("cat") | content("car") | content("house")),
                    ("polysemantic", ("car", "cat", "house"), ())))
    # Full stops everywhere: medical has the most, so it beats the null, but the neuron answers the
    # token wherever it occurs - an artifact. Full stops of medical text only: that is about medical text.
    planted.append((fires(stop), ("artifact", (), ("medical",))))
    planted.append((fires(stop & (concept == "medical")), ("monosemantic", ("medical",), ())))
    planted.append((fires(content("fortran") | stop), ("artifact", ("fortran",), ("medical",))))  # "Fortran and medical"
    planted.append((fires((concept == "car") & np.isin(token, ["the", ","])), ("monosemantic", ("car",), ())))
    planted.append((fires(rng.random(len(token)) < 0.2), ("broad", (), ())))  # fires on text in general
    planted.append((np.zeros(len(token)), ("dead", (), ())))
    planted.append((np.full(len(token), -0.01), ("dead", (), ())))

    n_noise = 12
    order = rng.permutation(len(planted) + n_noise)  # planted neurons scattered among noise neurons
    columns = np.zeros((len(token), len(order)))
    expected = {}
    for slot, k in enumerate(order):
        if k < len(planted):
            columns[:, slot] = planted[k][0]
            expected[slot] = planted[k][1]
        else:
            expected[slot] = ("dead", (), ())  # noise only: never fires compared with the layer
    columns += rng.normal(0.0, 0.05, size=columns.shape) * (columns != -0.01)  # the constant one stays flat
    acts = ActivationSet(activations=columns.astype(np.float32), concept=concept, token=token,
                         neuron=np.array([f"blocks.0.mlp.hook_post[{i}]" for i in range(len(order))]),
                         source="planted synthetic activations", sequence=sequence.astype(np.int32))
    return Planted(acts=acts, expected=expected)


@pytest.fixture(scope="session")
def planted() -> Planted:
    return _planted()
