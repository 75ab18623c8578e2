"""Measurements on hand-built geometries whose answers are known from the paper."""
import numpy as np

from engine.toy.measure import (STICKY_DIMENSIONALITIES, cosine_similarity, dimensions_per_feature,
                                feature_dimensionality, feature_norms, features_per_neuron, interference,
                                n_represented, nearest_sticky_distance, neuron_monosemanticity, self_gain)


def polygon(k: int, norm: float = 1.0) -> np.ndarray:
    angles = 2 * np.pi * np.arange(k) / k
    return norm * np.stack([np.cos(angles), np.sin(angles)], -1)


def test_orthogonal_features_own_a_whole_dimension_each():
    W = np.zeros((1, 4, 2)); W[0, 0, 0] = W[0, 1, 1] = 1.0          # two kept, two ignored
    assert np.allclose(feature_norms(W), [[1, 1, 0, 0]])
    assert np.allclose(interference(W), 0)
    assert np.allclose(feature_dimensionality(W), [[1, 1, 0, 0]])
    assert np.allclose(dimensions_per_feature(W), [1.0])
    assert n_represented(W).tolist() == [2]


def test_antipodal_pair_shares_one_dimension_and_interferes_fully():
    W = np.array([[[1.0, 0.0], [-1.0, 0.0]]])
    assert np.allclose(feature_dimensionality(W), 0.5)
    assert np.allclose(interference(W), 1.0)
    assert np.allclose(cosine_similarity(W)[0, 0, 1], -1.0)


def test_pentagon_gives_two_fifths_of_a_dimension_per_feature():
    W = polygon(5)[None]
    assert np.allclose(feature_dimensionality(W), 2 / 5)
    assert np.allclose(dimensions_per_feature(W), 2 / 5)
    assert np.allclose(nearest_sticky_distance(feature_dimensionality(W)), 0)


def test_dimensionality_does_not_depend_on_a_features_scale_but_dead_features_get_zero():
    W = polygon(4)[None].copy()
    W[0, 0] *= 3.0
    D = feature_dimensionality(W)
    assert 0 < D[0, 1] < 1 and np.isfinite(D).all()
    W[0, 2] = 0.0
    assert feature_dimensionality(W)[0, 2] == 0.0
    assert np.isfinite(feature_dimensionality(W)).all()


def test_instances_are_measured_independently():
    W = np.concatenate([polygon(5)[None], np.pad(np.eye(2), ((0, 3), (0, 0)))[None]])
    assert np.allclose(dimensions_per_feature(W), [0.4, 1.0])
    assert n_represented(W).tolist() == [5, 2]


def test_neuron_monosemanticity_separates_dedicated_from_shared_neurons():
    dedicated = np.eye(4)[:, :2][None]                       # 4 features, 2 neurons, one feature each
    shared = np.full((1, 4, 2), 0.5)                         # every feature into every neuron
    dead = np.zeros((1, 4, 1))
    assert np.allclose(neuron_monosemanticity(dedicated), 1.0)
    assert np.allclose(neuron_monosemanticity(shared), 0.25)
    assert np.isnan(neuron_monosemanticity(dead)).all()
    assert features_per_neuron(dedicated).tolist() == [[1, 1]]
    assert features_per_neuron(shared).tolist() == [[4, 4]]


def test_sticky_values_are_the_polytope_dimensionalities():
    assert {round(v, 3) for v in STICKY_DIMENSIONALITIES} >= {1.0, 0.5, 0.4, 0.333}


def test_self_gain_is_scale_free_for_untied_weights():
    W = np.array([[[0.1, 0.0], [0.0, 0.0]]])
    W2 = np.array([[[10.0, 0.0], [0.0, 1.0]]])
    assert np.allclose(self_gain(W, W2), [[1.0, 0.0]])
    assert np.allclose(self_gain(W), feature_norms(W) ** 2)


def test_negative_bias_share_counts_only_represented_features():
    from engine.toy.measure import negative_bias_share
    b = np.array([[-0.2, -0.01, -0.3, 0.5], [0.0, 0.0, 0.0, 0.0]])
    represented = np.array([[True, True, False, False], [False, False, False, False]])
    np.testing.assert_allclose(negative_bias_share(b, represented, 0.05), [0.5, 0.0])
