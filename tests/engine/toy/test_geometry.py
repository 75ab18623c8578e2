"""Feature geometry at reduced settings: 5 -> 2 polygons, correlated pairs, privileged neurons."""
import numpy as np
import pytest

from engine.toy import ToyConfig, train
from engine.toy.experiments import correlation_summary, geometry_summary, neuron_summary
from engine.toy.measure import cosine_similarity, feature_dimensionality, feature_norms

# Reduced settings: batch 256 and lr 5e-3 converge these small models in a few thousand steps.
# Repeated densities are independent instances, i.e. several seeds trained at once.
FAST = dict(batch_size=256, lr=5e-3, n_snapshots=4, seed=0)


@pytest.fixture(scope="module")
def geometry_5_2():
    return train(ToyConfig(n_features=5, n_hidden=2, importance_decay=0.9,
                           feature_probability=(1.0,) * 3 + (0.03,) * 4, steps=4000, **FAST))


def test_dense_5_2_model_keeps_two_orthogonal_features(geometry_5_2):
    summary = geometry_summary(geometry_5_2)
    norms, cos = feature_norms(geometry_5_2.W), cosine_similarity(geometry_5_2.W)
    assert all(d > 0.9 for d in summary["dims_per_feature"][:3]), "dense: no superposition in any seed"
    # Features 1 and 2 (importance 0.9 and 0.81) compete slowly for the second dimension, so at these
    # reduced settings a seed may still be mid-way; most have settled on the top two at right angles.
    settled = [summary["represented"][i] == 2 and (norms[i, :2] > 0.9).all() and abs(cos[i, 0, 1]) < 0.1
               for i in range(3)]
    assert sum(settled) >= 2, summary


def test_sparse_5_2_model_forms_a_regular_pentagon_in_most_seeds(geometry_5_2):
    summary = geometry_summary(geometry_5_2)
    pentagons = [summary["represented"][i] == 5 and summary["worst_angle_error_deg"][i] < 12
                 and summary["norm_ratio"][i] < 1.25 for i in range(3, 7)]
    assert sum(pentagons) >= 3, summary
    D = feature_dimensionality(geometry_5_2.W)[3:][pentagons]
    assert np.allclose(D, 2 / 5, atol=0.04), "each pentagon feature owns 2/5 of a dimension"


@pytest.fixture(scope="module")
def correlation_runs():
    config = ToyConfig(n_features=4, n_hidden=2, importance_decay=1.0, feature_probability=(0.1,) * 8,
                       steps=3000, **FAST)
    return correlation_summary(train(config.replace(correlation="correlated")),
                               train(config.replace(correlation="anticorrelated")))


def test_correlated_pairs_are_orthogonal_and_anticorrelated_pairs_tend_to_be_antipodal(correlation_runs):
    correlated, anti = correlation_runs["correlated"], correlation_runs["anticorrelated"]
    assert correlated["orthogonal_pairs"] >= 0.9 and correlated["antipodal_pairs"] == 0
    # Antipodal is the anticorrelated optimum (zero interference: the two never co-occur), but some
    # seeds stop in the orthogonal local minimum; assert on the distribution over 8 seeds...
    assert anti["antipodal_pairs"] >= 0.25, anti
    # ...and that the seeds that found it reconstruct far better than those that did not.
    assert anti["loss_when_antipodal"] < 0.2 * anti["loss_when_orthogonal"], anti


@pytest.fixture(scope="module")
def neuron_run():
    # 6 -> 3 aligns with the neuron basis faster than the paper's 10 -> 5 (see experiments.NEURON for that).
    return train(ToyConfig(model="neuron", n_features=6, n_hidden=3, importance_decay=0.75,
                           feature_probability=(1.0,) * 4 + (0.03,) * 4, steps=3000,
                           **{**FAST, "lr": 1e-2}))


def test_neurons_are_monosemantic_when_dense_and_polysemantic_when_sparse(neuron_run):
    summary = neuron_summary(neuron_run)
    dense, sparse = np.array(summary["mean_monosemanticity"][:4]), np.array(summary["mean_monosemanticity"][4:])
    assert np.median(dense) > 0.9 and dense.mean() > 0.85, summary
    assert sparse.mean() < 0.6 and sparse.max() < 0.8, summary
    assert sparse.mean() < dense.mean() - 0.3, summary
    assert np.mean(summary["features_per_neuron"][4:]) > 2 * np.mean(summary["features_per_neuron"][:4])
