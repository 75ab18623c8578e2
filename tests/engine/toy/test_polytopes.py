"""The polytope check on planted geometry: perfect shapes pass and get their names, tangles and near-misses fail."""
import numpy as np
import pytest

from engine.toy.measure import STICKY_DIMENSIONALITIES, feature_dimensionality
from engine.toy.polytopes import NAMED_SHAPES, PolytopeCriteria, classify, classify_model, window_fraction


def embed(*blocks: np.ndarray, hidden: int | None = None, unused: int = 0) -> np.ndarray:
    """Shapes in mutually orthogonal subspaces (a tegum product), plus ``unused`` zero-norm features."""
    dims = sum(b.shape[1] for b in blocks)
    W = np.zeros((sum(len(b) for b in blocks) + unused, hidden or dims))
    r = c = 0
    for b in blocks:
        W[r:r + len(b), c:c + b.shape[1]] = b
        r, c = r + len(b), c + b.shape[1]
    return W


def rotation(d: int, seed: int) -> np.ndarray:
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q


@pytest.mark.parametrize("shape", sorted(NAMED_SHAPES))
def test_each_named_shape_is_verified_with_its_name_and_fraction(shape):
    name, vectors = NAMED_SHAPES[shape]
    W = embed(vectors) @ rotation(vectors.shape[1], 0)   # any orientation
    [group] = classify_model(W)
    assert group.verified and group.name == name and group.reason == ""
    assert group.value == pytest.approx(shape[1] / shape[0])
    np.testing.assert_allclose(feature_dimensionality(W[None])[0], shape[1] / shape[0], atol=1e-9)


def test_a_tegum_product_splits_into_its_shapes():
    pair, triangle, pentagon = (NAMED_SHAPES[k][1] for k in ((2, 1), (3, 2), (5, 2)))
    W = embed(pair, triangle, pentagon, unused=2) @ rotation(5, 1)
    membership = classify(W[None])
    assert membership.verified[0].tolist() == [True] * 10 + [False] * 2
    assert membership.name[0, :10].tolist() == ["antipodal pair"] * 2 + ["triangle"] * 3 + ["pentagon"] * 5
    assert membership.counts() == {(0.666667, "triangle"): 3, (0.5, "antipodal pair"): 2, (0.4, "pentagon"): 5}


def test_a_random_tangle_is_no_polytope():
    W = np.random.default_rng(0).normal(size=(12, 4))
    W /= np.linalg.norm(W, axis=1, keepdims=True)
    groups = classify_model(W)
    assert len(groups) == 1 and not groups[0].verified


def test_features_that_happen_to_have_dimensionality_two_thirds_are_not_a_triangle():
    """The old caption's fault: D_i near 2/3 with positive overlaps. Three unit features at 0, 60 and 120 degrees
    have D_i = 2/3 exactly but cosines +1/2, -1/2, +1/2; a triangle leaking into a fourth feature fails isolation."""
    a = np.radians([0.0, 60.0, 120.0])
    fan = np.stack([np.cos(a), np.sin(a)], 1)
    np.testing.assert_allclose(feature_dimensionality(fan[None]), 2 / 3)
    [group] = classify_model(fan)
    assert not group.verified and group.name == ""
    triangle = NAMED_SHAPES[(3, 2)][1]
    leaky = np.vstack([embed(triangle, hidden=3), [0.3, 0.0, 0.95]])
    assert not any(g.verified and g.name == "triangle" for g in classify_model(leaky))


def test_a_triangle_with_unequal_norms_fails_for_that_and_a_dead_extra_feature_changes_nothing():
    triangle = embed(NAMED_SHAPES[(3, 2)][1], hidden=3)
    assert [g.reason for g in classify_model(triangle * np.array([[1.0], [1.0], [1.4]]))] == ["unequal norms"]
    assert [g.name for g in classify_model(np.vstack([triangle, [0.0, 0.0, 0.0]]))] == ["triangle"]


def test_a_square_is_two_antipodal_pairs_not_one_shape():
    square = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [0.0, -1.0]])
    assert sorted(g.name for g in classify_model(square)) == ["antipodal pair", "antipodal pair"]


def test_an_irregular_pentagon_is_rejected():
    a = np.radians([0.0, 60.0, 144.0, 216.0, 288.0])
    groups = classify_model(np.stack([np.cos(a), np.sin(a)], 1))
    assert len(groups) == 1 and not groups[0].verified


def test_small_noise_is_tolerated():
    pentagon = NAMED_SHAPES[(5, 2)][1]
    W = embed(pentagon, hidden=4) + np.random.default_rng(3).normal(scale=0.01, size=(5, 4))
    assert [g.name for g in classify_model(W)] == ["pentagon"]


def test_criteria_are_configurable():
    W = NAMED_SHAPES[(3, 2)][1] * np.array([[1.0], [1.0], [1.03]])
    assert classify_model(W)[0].verified
    assert classify_model(W, PolytopeCriteria(norm_tol=0.02))[0].reason == "unequal norms"


def test_window_fraction_and_its_uniform_chance():
    centres = np.array(STICKY_DIMENSIONALITIES)
    observed, chance = window_fraction(np.array([0.5, 0.5, 0.4, 0.45]), centres, 0.01)
    assert observed == pytest.approx(0.75)
    # Range [0.4, 0.5]: windows [0.4, 0.41) and (0.49, 0.5] cover 0.02 of 0.1.
    assert chance == pytest.approx(0.2)
    # A uniform spread gives (about) its own chance.
    spread = np.linspace(0.3, 1.0, 10_001)
    observed, chance = window_fraction(spread, centres, 0.01)
    assert observed == pytest.approx(chance, abs=1e-3)
