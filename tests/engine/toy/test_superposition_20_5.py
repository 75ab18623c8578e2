"""20 features -> 5 dimensions, importance 0.7^i (the paper's first figure), at reduced settings."""
import numpy as np
import pytest

from engine.toy import ToyConfig, train
from engine.toy.measure import dimensions_per_feature, feature_norms, n_represented, self_gain

DENSE, SPARSE = 1.0, 0.02
# Three instances per density act as three seeds; batch 256 and lr 5e-3 converge in 2,000 steps.
FAST = ToyConfig(n_features=20, n_hidden=5, importance_decay=0.7, feature_probability=(DENSE,) * 3 + (SPARSE,) * 3,
                 steps=2000, batch_size=256, lr=5e-3, seed=1, n_snapshots=8)


@pytest.fixture(scope="module")
def relu_run():
    return train(FAST)


@pytest.fixture(scope="module")
def linear_run():
    return train(FAST.replace(model="linear"))


def test_dense_relu_represents_exactly_the_five_most_important_features(relu_run):
    dense = feature_norms(relu_run.W)[:3]
    assert (dense[:, :5] > 0.9).all()
    assert (dense[:, 5:] < 0.5).all()


def test_sparse_relu_packs_more_features_than_dimensions_with_negative_biases(relu_run):
    represented = n_represented(relu_run.W)
    assert (represented[3:] >= 9).all(), represented
    # Negative biases filter positive interference (antipodal pairs need none: the ReLU removes theirs).
    most_negative = relu_run.b[3:].min(-1)
    assert most_negative.mean() < -0.05 and most_negative.min() < -0.1, most_negative
    assert (dimensions_per_feature(relu_run.W)[3:] < 0.6).all()
    assert np.allclose(dimensions_per_feature(relu_run.W)[:3], 1.0, atol=0.05)


def test_linear_model_keeps_the_top_five_at_every_sparsity(linear_run):
    norms = feature_norms(linear_run.W)
    assert (norms[:, :5] > 0.9).all()
    assert (norms[:, 5:] < 0.3).all()
    assert (n_represented(linear_run.W) == 5).all()


def test_untied_model_also_keeps_top_five_dense_and_more_when_sparse():
    run = train(FAST.replace(model="untied"))
    gain = self_gain(run.W, run.W2)            # diag of W2 W^T: the untied "W^T W"
    dense, sparse = gain[:3] > 0.5, gain[3:] > 0.5
    assert dense[:, :5].all() and not dense[:, 5:].any()
    assert (sparse.sum(-1) >= 8).all(), sparse.sum(-1)
