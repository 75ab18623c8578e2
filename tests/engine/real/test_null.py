"""The detector's null: calibrated on noise, near-silent on label-shuffled real captures, beaten by real labels.

A claim about real neurons must survive a null test: the same measurement with the concept labels
carrying no meaning (shuffled across whole snippets, or one concept's text split at random) must
give almost no polysemantic neurons (at most 1% of a layer), while the real labels beat every
shuffle where real structure exists.
"""
from __future__ import annotations

import numpy as np
import pytest

from engine.polysemantic import background_of, open_source
from engine.real.activations import ActivationSet
from engine.real.detect import DetectionConfig, detect
from engine.real.null import units_of

GRID = ("cat", "car", "house")
HUNT = ("fortran", "spanish_poetry", "medical", "gibberish")
AT_MOST = 0.01  # of a layer's neurons may come out polysemantic when labels mean nothing


def relabel_snippets(acts: ActivationSet, seed: int) -> ActivationSet:
    """The same tokens with concept labels permuted across whole snippets (each snippet keeps one label)."""
    units = units_of(np.unique(acts.concept, return_inverse=True)[1], acts.sequence, acts.image, 16)
    shuffled = np.random.default_rng(seed).permutation(units.concept)
    names = np.unique(acts.concept)
    return ActivationSet(activations=acts.activations, concept=names[shuffled[units.of_token]], token=acts.token,
                         neuron=acts.neuron, source=acts.source, sequence=acts.sequence, position=acts.position,
                         image=acts.image)


def split_one_concept(acts: ActivationSet, concept: str, parts: int, seed: int) -> ActivationSet:
    """One concept's snippets dealt at random into ``parts`` pseudo-concepts of the same text."""
    rows = np.flatnonzero(acts.concept == concept)
    snippets = np.unique(acts.sequence[rows])
    deal = dict(zip(np.random.default_rng(seed).permutation(snippets).tolist(), np.arange(len(snippets)) % parts))
    labels = np.array([f"{concept}_{deal[int(q)]}" for q in acts.sequence[rows]])
    return ActivationSet(activations=acts.activations[rows], concept=labels, token=acts.token[rows],
                         neuron=acts.neuron, source=acts.source, sequence=acts.sequence[rows],
                         position=acts.position[rows])


# --- the null itself ------------------------------------------------------------------------------

def test_a_snippet_holding_two_concepts_is_refused_in_one_line(tmp_path, capsys):
    """Tokens of two concepts in one snippet move together under every shuffle: the null cannot judge them."""
    from engine import polysemantic
    from engine.real.null import SnippetError
    rng = np.random.default_rng(0)
    n = 300
    acts = ActivationSet(activations=rng.random((n, 4)).astype(np.float32),
                         concept=np.array(["a", "b", "c"])[np.arange(n) % 3], token=np.array(["t"] * n),
                         sequence=(np.arange(n) // 12).astype(np.int32))
    with pytest.raises(SnippetError, match="holds tokens of 3 concepts"):
        detect(acts)
    assert polysemantic.main([str(acts.save(tmp_path / "mixed.npz")), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "each must belong to one concept" in err


def test_p_values_are_calibrated_on_noise():
    """With labels that mean nothing, about 5% of responses reach p <= 0.05, and about 1% reach 0.01."""
    rng = np.random.default_rng(0)
    n, neurons = 1200, 200
    acts = ActivationSet(activations=rng.gamma(1.0, 1.0, size=(n, neurons)).astype(np.float32),
                         concept=np.array(["a", "b", "c"])[rng.integers(0, 3, n // 10).repeat(10)],
                         token=np.array([f"w{i}" for i in rng.integers(0, 50, n)]),
                         sequence=(np.arange(n) // 10).astype(np.int32))
    from engine.real.detect import neuron_stats
    p = neuron_stats(acts, DetectionConfig(n_permutations=1000, n_shuffles=0)).p_value
    assert 0.03 <= (p <= 0.05).mean() <= 0.075
    assert (p <= 0.01).mean() <= 0.025


def test_units_are_snippets_images_or_token_runs():
    codes = np.array([0, 0, 0, 1, 1, 0])
    snippets = units_of(codes, np.array([0, 0, 1, 3, 3, 2]), None, 16)
    assert snippets.kind == "snippets" and snippets.n == 4
    np.testing.assert_array_equal(snippets.tokens, [2, 1, 1, 2])  # by concept, then first seen
    # any ids: negative or huge ones name snippets too, never merge them
    odd = units_of(codes, np.array([-1, -1, 2**62, -7, -7, 5]), None, 16)
    np.testing.assert_array_equal(odd.tokens, snippets.tokens)
    np.testing.assert_array_equal(odd.concept, snippets.concept)
    images = units_of(codes, None, np.zeros((6, 2, 2)), 16)
    assert images.kind == "images" and images.n == 6
    runs = units_of(codes, None, None, 2)
    assert runs.kind == "token runs of 2" and runs.n == 3  # concept 0: 4 tokens, 2 runs; concept 1: 1 run
    assert sorted(runs.tokens.tolist()) == [2, 2, 2]


def test_detection_of_a_layer_is_seconds_and_seeded(minilm):
    import time
    acts = minilm.capture([*GRID, *background_of(minilm, GRID)])
    start = time.process_time()
    a = detect(acts, DetectionConfig(n_permutations=1000), concepts=GRID)
    assert time.process_time() - start < 60  # 1,536 neurons x 1,000 permutations x 20 shuffles: CPU seconds
    b = detect(acts, DetectionConfig(n_permutations=1000), concepts=GRID)
    assert a.neurons == b.neurons
    c = detect(acts, DetectionConfig(n_permutations=1000, seed=1), concepts=GRID)
    assert abs(c.counts()["monosemantic"] - a.counts()["monosemantic"]) <= 0.05 * a.counts()["monosemantic"]


# --- real captures: shuffled labels say nothing, real labels beat every shuffle ------------------------

@pytest.fixture(scope="module")
def grid_acts(minilm):
    return minilm.capture([*GRID, *background_of(minilm, GRID)])


@pytest.fixture(scope="module")
def hunt_acts(minilm):
    return minilm.capture(list(HUNT))


def test_background_of_the_grid_objects_is_the_other_english_objects(minilm):
    assert set(background_of(minilm, GRID)) == {"dog", "tree", "boat"}
    assert background_of(minilm, HUNT) == ()


@pytest.mark.parametrize("seed", [1, 2])
def test_shuffled_grid_objects_give_almost_no_polysemantic_neurons(grid_acts, seed):
    report = detect(relabel_snippets(grid_acts, seed), concepts=GRID)
    assert report.counts()["polysemantic"] <= AT_MOST * grid_acts.n_neurons


def test_one_concept_split_at_random_gives_almost_no_polysemantic_neurons(minilm):
    cat = minilm.capture(["cat"])
    for seed in (0, 1):
        report = detect(split_one_concept(cat, "cat", 3, seed))
        assert report.counts()["polysemantic"] <= AT_MOST * cat.n_neurons


def test_real_grid_labels_beat_every_shuffle(grid_acts):
    chance = detect(grid_acts, concepts=GRID).chance()
    assert chance["monosemantic"].real > 3 * chance["monosemantic"].max
    assert chance["polysemantic"].max <= AT_MOST * grid_acts.n_neurons


def test_shuffled_hunt_concepts_give_almost_no_polysemantic_neurons(hunt_acts):
    report = detect(relabel_snippets(hunt_acts, 3))
    assert report.counts()["polysemantic"] <= AT_MOST * hunt_acts.n_neurons


def test_real_hunt_labels_beat_every_shuffle(hunt_acts):
    chance = detect(hunt_acts).chance()
    for label in ("monosemantic", "polysemantic"):
        assert chance[label].real > chance[label].max, label
    assert chance["polysemantic"].real >= 10


def test_digit_classes_shuffled_across_images_give_no_polysemantic_neuron():
    acts = open_source("digits").capture()
    real = detect(acts)
    shuffled = detect(relabel_snippets(acts, 4))
    assert shuffled.counts()["polysemantic"] <= AT_MOST * acts.n_neurons
    chance = real.chance()["polysemantic"]
    assert chance.real > chance.max and chance.real >= 16
    assert real.null.units == "images"
