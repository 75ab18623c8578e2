"""The first scene's timeline shows what the trained toy models really are, and shows it reproducibly."""
from __future__ import annotations

import numpy as np
import pytest

from engine.timelines.toy_wtw import WtWSettings, build, wtw_matrices
from engine.toy import measure, train_cached

SETTINGS = WtWSettings()  # the catalogue's default: 20 -> 5, importance 0.7^i, 10,000 steps


@pytest.fixture(scope="module")
def run():
    return train_cached(SETTINGS.toy_config())


@pytest.fixture(scope="module")
def timeline(run):
    return build(SETTINGS)


def test_dense_model_represents_exactly_the_five_most_important_features(run):
    norms = measure.feature_norms(run.W)
    dense = int(np.argmax(run.feature_probability))
    assert run.feature_probability[dense] == pytest.approx(1.0)
    assert np.flatnonzero(norms[dense] > 0.5).tolist() == [0, 1, 2, 3, 4]


def test_sparser_models_represent_more_features_than_dimensions(run):
    n_rep = measure.n_represented(run.W, 0.5)
    order = np.argsort(-run.feature_probability)  # dense -> sparse
    sparse = [i for i in order if run.feature_probability[i] <= 0.1]
    assert all(n_rep[i] > 5 for i in sparse)
    assert n_rep[order[-1]] >= n_rep[order[0]] + 4
    # Superposition shows up as interference the dense model does not have.
    assert measure.dimensions_per_feature(run.W)[order[-1]] < 0.6


def test_timeline_shows_the_trained_weights(run, timeline):
    # The last keyframe of each track is the final trained model, exactly.
    np.testing.assert_allclose(timeline.tracks["wtw"].values[-1], wtw_matrices(run.W), rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(timeline.tracks["bias"].values[-1], run.b.astype(np.float32))
    np.testing.assert_array_equal(timeline.tracks["step"].values, run.snapshot_steps)
    np.testing.assert_array_equal(timeline.arrays["n_represented"], measure.n_represented(run.W, 0.5))
    assert timeline.tracks["step"].values[-1] == SETTINGS.steps
    # At the end of the video the viewer sees the final weights.
    np.testing.assert_allclose(timeline.sample("wtw", timeline.duration), wtw_matrices(run.W), atol=1e-6)


def test_features_in_superposition_get_negative_biases(run):
    # Negative biases filter out the small interference between superposed features; the dense
    # model has no interference to filter (its unused features get positive biases, their mean).
    sparsest, dense = int(np.argmin(run.feature_probability)), int(np.argmax(run.feature_probability))
    represented = measure.feature_norms(run.W)[sparsest] > 0.5
    assert run.b[sparsest, represented].mean() < -0.05
    assert run.b[dense, measure.feature_norms(run.W)[dense] > 0.5].mean() > -0.02


def test_timeline_is_deterministic(timeline):
    again = build(SETTINGS)
    for k in timeline.tracks:
        np.testing.assert_array_equal(again.tracks[k].values, timeline.tracks[k].values)
    assert again.segments == timeline.segments and again.meta == timeline.meta
