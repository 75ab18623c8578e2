"""Feature dimensionality sticks to polytope values; sparse features let a ReLU layer compute more |x_i|."""
import numpy as np
import pytest

from engine.toy import ToyConfig, train
from engine.toy.experiments import abs_summary, dimensionality_summary

FAST = dict(batch_size=256, lr=5e-3, n_snapshots=4, seed=0)


@pytest.fixture(scope="module")
def dimensionality():
    # Equal importance, 12 features in 4 dimensions; three seeds at a moderate and at a high sparsity.
    run = train(ToyConfig(n_features=12, n_hidden=4, importance_decay=1.0,
                          feature_probability=(0.4,) * 3 + (0.1,) * 3, steps=3000, **FAST))
    return dimensionality_summary(run)


def test_moderate_sparsity_gives_antipodal_pairs_with_half_a_dimension_each(dimensionality):
    assert np.allclose(dimensionality["dims_per_feature"][:3], 0.5, atol=0.06), dimensionality
    assert np.allclose(dimensionality["median_feature_dimensionality"][:3], 0.5, atol=0.03), dimensionality


def test_sparser_features_sit_at_polytope_dimensionalities_below_one_half(dimensionality):
    assert all(d < 0.45 for d in dimensionality["dims_per_feature"][3:]), dimensionality
    # Features cluster on the sticky values (1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3) rather than anywhere.
    assert np.mean(dimensionality["sticky_fraction"]) >= 0.8, dimensionality


def test_sparse_relu_layer_computes_abs_for_more_features_than_it_has_neuron_pairs():
    run = train(ToyConfig(model="abs", n_features=10, n_hidden=5, importance_decay=0.8,
                          feature_probability=(1.0,) * 2 + (0.03,) * 3, steps=3000, **FAST))
    summary = abs_summary(run, n_samples=32_768)
    dense, sparse = summary["features_computed"][:2], summary["features_computed"][2:]
    limit = summary["without_superposition_at_most"]        # 5 neurons / 2 ReLUs per |x| = 2.5
    assert max(dense) <= limit + 0.2, summary
    assert min(sparse) > limit and np.mean(sparse) > limit + 0.8, summary
    assert min(summary["features_at_least_quarter_computed"][2:]) > max(summary["features_at_least_quarter_computed"][:2])
