"""The feature-geometry timeline shows what the trained 5 -> 2 models are: orthogonal, antipodal pairs, pentagon."""
from __future__ import annotations

import numpy as np
import pytest

from engine.timelines.errors import SettingsError
from engine.timelines.toy_geometry import GeometrySettings, build, describe_geometry, left_out, training_keyframes
from engine.toy import measure, train_cached
from engine.toy.evaluate import per_feature_loss
from engine.toy.experiments import polygon_regularity

SETTINGS = GeometrySettings()  # the catalogue's default: 1-S = 1, 0.3, 0.1, 0.03, three seeds each


@pytest.fixture(scope="module")
def run():
    return train_cached(SETTINGS.toy_config())


@pytest.fixture(scope="module")
def timeline(run):
    return build(SETTINGS)


def _seed_shapes(run) -> list[list[str]]:
    """Shape of every trained instance, grouped by panel (sparsity)."""
    shapes = [describe_geometry(W) for W in run.W]
    return [shapes[k * SETTINGS.seeds:(k + 1) * SETTINGS.seeds] for k in range(len(SETTINGS.feature_probability))]


def test_sparsity_turns_orthogonal_features_into_antipodal_pairs_then_a_pentagon_across_seeds(run):
    dense, moderate, sparse, sparsest = _seed_shapes(run)
    assert dense == ["2 orthogonal"] * SETTINGS.seeds
    assert moderate.count("2 antipodal pairs") >= 2, moderate
    assert sparsest.count("pentagon") >= 2, sparsest
    assert "2 orthogonal" not in sparse + sparsest


def test_timeline_names_what_formed_in_the_lowest_loss_seed(run, timeline):
    assert timeline.meta["shapes"] == ["2 orthogonal", "2 antipodal pairs", "pentagon", "pentagon"]
    assert timeline.meta["shape_details"][:2] == ["features 3\u20135 left out", "feature 5 left out"]
    # The pentagons are regular: neighbours 72 degrees apart, equal lengths, 2/5 of a dimension per feature.
    W = timeline.tracks["W"].values[-1]
    for k in (2, 3):
        k_rep, angle_error, norm_ratio = polygon_regularity(W[k])
        assert k_rep == 5 and angle_error < 12 and norm_ratio < 1.3
        np.testing.assert_allclose(measure.feature_dimensionality(W[k:k + 1])[0], 0.4, atol=0.04)
    # Dense: the two most important features, at right angles, one dimension each.
    assert abs(measure.cosine_similarity(W[:1])[0, 0, 1]) < 0.1
    np.testing.assert_allclose(timeline.arrays["feature_dimensionality"][0, :2], 1.0, atol=0.02)


def test_timeline_shows_the_trained_weights_of_the_chosen_seed(run, timeline):
    importance = run.importance
    loss = (per_feature_loss(run, n_samples=SETTINGS.loss_samples) * importance).mean(-1)
    loss = loss.reshape(len(SETTINGS.feature_probability), SETTINGS.seeds)
    np.testing.assert_array_equal(timeline.arrays["chosen_seed"], loss.argmin(1))
    instances = np.arange(len(loss)) * SETTINGS.seeds + loss.argmin(1)
    np.testing.assert_array_equal(timeline.tracks["W"].values, run.W_history[:, instances].astype(np.float32))
    np.testing.assert_array_equal(timeline.tracks["step"].values, run.snapshot_steps)
    # At the end of the video the viewer sees the final weights.
    np.testing.assert_allclose(timeline.sample("W", timeline.duration), run.W[instances], atol=1e-6)
    np.testing.assert_array_equal(timeline.arrays["n_represented"], measure.n_represented(run.W[instances]))


def test_describe_geometry_reads_the_arrangement():
    angle = lambda deg: np.array([np.cos(np.radians(deg)), np.sin(np.radians(deg))])  # noqa: E731
    assert describe_geometry(np.stack([angle(0), angle(90), 0.01 * angle(30)])) == "2 orthogonal"
    assert describe_geometry(np.stack([angle(0), angle(180), angle(90), angle(270), 0 * angle(0)])) == "2 antipodal pairs"
    assert describe_geometry(np.stack([angle(72 * i + 5) for i in range(5)])) == "pentagon"
    assert describe_geometry(np.stack([angle(0), angle(120), angle(240)])) == "triangle"
    assert describe_geometry(np.stack([angle(0), angle(20), angle(250)])) == "3 features"
    assert left_out(np.stack([angle(0), angle(90), np.zeros(2), np.zeros(2), np.zeros(2)])) == "features 3\u20135 left out"


def test_training_plays_in_log_time_without_lingering_on_the_first_steps(timeline):
    times = training_keyframes(np.array([0, 1, 2, 12, 100, 1000, 4000]), 3.5, 10.0)
    assert times[0] == 3.5 and times[-1] == pytest.approx(13.5) and np.all(np.diff(times) > 0)
    assert times[3] - times[0] < 0.15 * 10.0, "the first dozen steps take a small part of the phase"
    keys = timeline.tracks["W"].times
    assert keys[0] == timeline.segment_start("training") and keys[-1] == pytest.approx(timeline.segment_start("shapes"))


def test_timeline_is_deterministic(timeline):
    again = build(SETTINGS)
    for k in timeline.tracks:
        np.testing.assert_array_equal(again.tracks[k].values, timeline.tracks[k].values)
    assert again.segments == timeline.segments and again.meta == timeline.meta


@pytest.mark.parametrize("changes, words", [
    ({"n_hidden": 3}, "n_hidden=3"),
    ({"feature_probability": (1.0, 0.5, 0.3, 0.1, 0.03, 0.01, 0.003)}, "1 to 6"),
    ({"feature_probability": (1.0, 1.5)}, "feature_probability"),
    ({"seeds": 0}, "seeds=0"),
    ({"steps": 0}, "steps"),
])
def test_bad_settings_fail_in_one_line_before_training(changes, words):
    with pytest.raises(SettingsError) as info:
        GeometrySettings(**changes).validate()
    assert words in str(info.value) and "\n" not in str(info.value)
