"""The 7x7 grid's neurons: deterministic, one layer, specific and shared neurons by the documented rule."""
from __future__ import annotations

import numpy as np
import pytest

from engine.polysemantic import grid_neurons
from engine.real.activations import ActivationSet
from engine.real.grid import GRID_CELLS, concept_means, select_grid


def test_concept_means_match_a_direct_computation(planted):
    acts = planted.acts
    means = concept_means(acts)
    assert means.shape == (len(acts.concepts), acts.n_neurons)
    np.testing.assert_allclose(means[1], acts.activations[acts.concept == acts.concepts[1]].mean(0), rtol=1e-6)
    np.testing.assert_array_equal(concept_means(acts, ["car", "cat"]), means[[1, 0]])


def test_planted_groups_are_found(planted):
    """Planted neurons fire on cat only, car only, cat+car, ...: each lands in its own group."""
    acts = planted.acts
    grid = select_grid(acts, objects=("cat", "car", "house"), cells=12)
    by_index = dict(zip(grid.indices.tolist(), grid.groups))
    for index, (label, content, _) in planted.expected.items():
        if label == "monosemantic" and content[0] in ("cat", "car", "house"):
            assert by_index.get(index) == content
    pair = next(i for i, e in planted.expected.items() if e[1] == ("car", "cat"))
    assert set(by_index[pair]) == {"car", "cat"}


def test_real_grid_is_deterministic_and_mixes_specific_and_shared(minilm_acts):
    a = select_grid(minilm_acts)
    b = select_grid(minilm_acts)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.groups == b.groups and a.rule == b.rule
    assert len(set(a.indices.tolist())) == GRID_CELLS and (np.diff(a.indices) > 0).all()
    assert a.names[0] == f"{minilm_acts.hook}[{a.indices[0]}]"
    assert a.means.shape == a.zscores.shape == (3, GRID_CELLS)
    for k, obj in enumerate(a.objects):
        mine = np.array([g == (obj,) for g in a.groups])
        assert mine.sum() >= 5, obj
        # a neuron chosen for one object is more active on it than on each other object
        others = np.delete(a.means[:, mine], k, axis=0)
        assert (a.means[k, mine] > others.max(axis=0)).all()
    shared = a.shared
    assert shared.sum() >= 10 and {len(g) for g in a.groups} >= {1, 2, 3}
    np.testing.assert_allclose(a.means, concept_means(minilm_acts, a.objects)[:, a.indices], rtol=1e-6)
    assert a.token_activations["cat"].shape == (len(a.tokens["cat"]), GRID_CELLS)
    assert "gap(S, n)" in a.rule


def test_grid_for_other_objects_through_the_facade(minilm):
    grid = grid_neurons("minilm", objects=("dog", "tree", "boat"), layer=minilm.layer)
    assert grid.objects == ("dog", "tree", "boat") and len(grid.indices) == GRID_CELLS
    assert grid.source == minilm.description


def test_grid_needs_enough_neurons_and_known_objects(planted):
    with pytest.raises(ValueError, match="needs at least 49 neurons"):
        select_grid(planted.acts)
    with pytest.raises(KeyError, match="concept 'unicorn'"):
        select_grid(planted.acts, objects=("cat", "unicorn"), cells=4)
