"""The 7x7 grid's neurons: deterministic, one layer, specific and shared neurons by the documented rule."""
from __future__ import annotations

import numpy as np
import pytest

from engine.polysemantic import grid_neurons
from engine.real.grid import GRID_CELLS, GRID_OBJECTS, concept_means, select_grid


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


@pytest.fixture(scope="module")
def grid_acts(minilm):
    from engine.polysemantic import background_of
    return minilm.capture([*GRID_OBJECTS, *background_of(minilm, GRID_OBJECTS)])


def test_real_grid_is_deterministic_and_shows_only_shared_neurons_that_pass(grid_acts):
    a = select_grid(grid_acts)
    b = select_grid(grid_acts)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert a.groups == b.groups and a.rule == b.rule
    assert len(set(a.indices.tolist())) == GRID_CELLS and (np.diff(a.indices) > 0).all()
    assert a.names[0] == f"{grid_acts.hook}[{a.indices[0]}]"
    assert a.means.shape == a.zscores.shape == a.p_values.shape == (3, GRID_CELLS)
    for k, obj in enumerate(a.objects):
        assert sum(g == (obj,) for g in a.groups) >= 5, obj
    # every object a cell serves beats the null; the shared cells are exactly the layer's shared neurons
    served = np.array([[o in g for g in a.groups] for o in a.objects])
    assert (a.p_values[served] <= a.null.corrected_threshold).all()
    shared_in_layer = int(sum(c.real for c in a.layer_counts[2:]))
    assert a.shared.sum() == min(shared_in_layer, GRID_CELLS // 2)
    assert shared_in_layer > sum(c.max for c in a.layer_counts[2:])  # a few shared neurons beat every shuffle
    assert a.layer_counts[1].real > 3 * a.layer_counts[1].max
    assert sum(c.real for c in a.layer_counts) == grid_acts.n_neurons
    np.testing.assert_allclose(a.means, concept_means(grid_acts, a.objects)[:, a.indices], rtol=1e-6)
    assert a.token_activations["cat"].shape == (len(a.tokens["cat"]), GRID_CELLS)
    assert "permutation null" in a.rule


def test_a_grid_from_shuffled_labels_has_no_shared_cells(grid_acts):
    """The rule does not fill cells with shared neurons by construction."""
    from tests.engine.real.test_null import relabel_snippets
    grid = select_grid(relabel_snippets(grid_acts, 5))
    assert grid.shared.sum() <= 0.01 * grid_acts.n_neurons


def test_grid_for_other_objects_through_the_facade(minilm):
    grid = grid_neurons("minilm", objects=("dog", "tree", "boat"), layer=minilm.layer)
    assert grid.objects == ("dog", "tree", "boat") and len(grid.indices) == GRID_CELLS
    assert grid.source == minilm.description


def test_grid_needs_enough_neurons_and_known_objects(planted):
    with pytest.raises(ValueError, match="needs at least 49 neurons"):
        select_grid(planted.acts)
    with pytest.raises(KeyError, match="concept 'unicorn'"):
        select_grid(planted.acts, objects=("cat", "unicorn"), cells=4)
