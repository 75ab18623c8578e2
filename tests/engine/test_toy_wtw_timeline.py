"""The first scene's timeline shows what the trained toy models really are, and shows it reproducibly."""
from __future__ import annotations

import numpy as np
import pytest

from engine.timelines.toy_tied_untied import antipodal_share, interference_stats
from engine.timelines.toy_wtw import WtWSettings, bias_caption, build, superposition_caption, wtw_matrices
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


def test_bias_caption_says_what_the_trained_biases_show(run, timeline):
    """Negative biases only where most represented features have b < -0.05 (only at 1-S = 0.01 at 10,000 steps);
    at 0.1 and 0.03 the features form antipodal pairs with b ~ 0. Counts on screen are recomputed from run.b."""
    thr = SETTINGS.negative_bias
    represented = measure.feature_norms(run.W) > SETTINGS.represented_threshold
    share = ((run.b < -thr) & represented).sum(-1) / represented.sum(-1)
    np.testing.assert_allclose(timeline.arrays["negative_bias_share"], share)
    probs = run.feature_probability
    negative = np.flatnonzero(share >= 0.5)
    assert probs[negative].tolist() == pytest.approx([0.01])
    caption = timeline.segments[4].caption
    k = int(negative[0])
    assert f"only at 1\u2212S = 0.01 ({(share[k] * represented[k].sum()):.0f} of {represented[k].sum()} represented" in caption
    max_pos = interference_stats(wtw_matrices(run.W), SETTINGS.represented_threshold)["max_positive"]
    assert f"up to {round(float(max_pos[k]), 2):g}" in caption
    # The old caption highlighted 0.1, 0.03 and 0.01 for "negative biases"; there the biases are ~0.
    for p in (0.1, 0.03):
        i = int(np.argmin(np.abs(probs - p)))
        assert np.abs(run.b[i, represented[i]]).max() < thr and max_pos[i] < 0.02
        assert antipodal_share(wtw_matrices(run.W)[i]) >= 0.8
    assert "At 0.3, 0.1 and 0.03 positive interference is at most 0.01 and represented features keep |b| < 0.05" in caption
    # The bias phase highlights exactly the panels with negative biases.
    end = timeline.segment_start("summary") - 1e-3
    np.testing.assert_array_equal(timeline.sample("highlight", end), share >= 0.5)


def test_superposition_caption_counts_and_highlights_the_superposed_panels(run, timeline):
    n_rep = measure.n_represented(run.W, SETTINGS.represented_threshold)
    superposed = n_rep > SETTINGS.n_hidden
    end = timeline.segment_start("bias") - 1e-3
    np.testing.assert_array_equal(timeline.sample("highlight", end), superposed)
    caption = timeline.segments[3].caption
    assert ", ".join(str(c) for c in n_rep[superposed][:-1]) + f" and {n_rep[superposed][-1]} features" in caption
    antipodal = np.array([antipodal_share(M) >= 0.8 for M in wtw_matrices(run.W)])
    np.testing.assert_array_equal(timeline.arrays["antipodal"], antipodal)


def test_captions_only_claim_what_the_numbers_hold():
    probs = np.array([1.0, 0.1, 0.01])
    n_rep, m = np.array([5, 10, 12]), 5
    text = bias_caption(probs, n_rep, np.array([0.0, 0.0, 0.0]), np.zeros(3, bool), np.array([0.0, 0.3, 0.2]),
                        np.array([0.0, 0.2, 0.4]), m, 0.05)
    assert text.startswith("No panel") and "|b| <" not in text   # no bias claims at all
    text = bias_caption(probs, n_rep, np.array([0.0, 0.6, 0.9]), np.array([False, True, True]),
                        np.array([0.0, 0.3, 0.3]), np.array([0.0, 0.2, 0.4]), m, 0.05)
    assert "appear only at 1\u2212S = 0.1 and 0.01 (6 of 10, 11 of 12" in text
    assert superposition_caption(probs, np.array([5, 5, 5]), np.zeros(3, bool), m).startswith("No panel")
    assert "antipodal" not in superposition_caption(probs, n_rep, np.zeros(3, bool), m)


def test_timeline_is_deterministic(timeline):
    again = build(SETTINGS)
    for k in timeline.tracks:
        np.testing.assert_array_equal(again.tracks[k].values, timeline.tracks[k].values)
    assert again.segments == timeline.segments and again.meta == timeline.meta
