"""Reproducibility, caching, snapshots and config validation: what the scenes rely on."""
import dataclasses

import numpy as np
import pytest

from engine.cache import ArrayCache
from engine.toy import ToyConfig, ToyConfigError, ToyRun, train, train_cached
from engine.toy.evaluate import per_feature_loss
from engine.toy.training import run_cache_key, snapshot_schedule

TINY = ToyConfig(n_features=6, n_hidden=2, feature_probability=(1.0, 0.1), steps=120, batch_size=64, n_snapshots=10)


@pytest.mark.parametrize("model", ["linear", "relu", "untied", "neuron", "abs"])
def test_same_config_and_seed_give_bit_identical_runs(model):
    config = TINY.replace(model=model)
    first, second = train(config), train(config)
    for name in ("W_history", "b_history", "W2_history", "b_hidden_history", "loss_history", "snapshot_steps"):
        a, b = getattr(first, name), getattr(second, name)
        assert (a is None) == (b is None), name
        if a is not None:
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert not np.array_equal(train(config.replace(seed=1)).W, first.W)


def test_run_shapes_follow_the_contract():
    run = train(TINY.replace(model="untied"))
    snapshots, instances, features, hidden = 10, 2, 6, 2
    assert run.W_history.shape == run.W2_history.shape == (snapshots, instances, features, hidden)
    assert run.b_history.shape == (snapshots, instances, features)
    assert run.loss_history.shape == (snapshots, instances)
    assert run.W.shape == run.W2.shape == (instances, features, hidden)
    assert run.importance.shape == (features,) and run.feature_probability.shape == (instances,)
    assert run.gram().shape == (instances, features, features)
    np.testing.assert_allclose(run.gram(), run.W2 @ run.W.transpose(0, 2, 1), rtol=1e-6)
    assert train(TINY).W2_history is None


def test_training_reduces_the_loss_of_every_instance():
    run = train(TINY.replace(steps=400))
    before, after = (per_feature_loss(run, snapshot=s, n_samples=16_384) @ run.importance for s in (0, -1))
    assert (after < 0.7 * before).all()
    assert (run.loss_history[-1] < run.loss_history[0]).all()


def test_snapshots_start_at_zero_end_at_the_last_step_and_crowd_the_early_steps():
    steps = snapshot_schedule(10_000, 48)
    assert steps[0] == 0 and steps[-1] == 10_000 and len(steps) == 48
    assert (np.diff(steps) > 0).all()
    assert (steps < 1000).sum() > 24, "most snapshots should fall in the first 10% of training"
    assert snapshot_schedule(5, 48).tolist() == [0, 1, 2, 3, 4, 5]
    assert snapshot_schedule(10, 2).tolist() == [0, 10]


def test_train_cached_builds_once_then_loads_the_same_arrays():
    first = train_cached(TINY)
    path = ArrayCache("toy").path(run_cache_key(TINY))
    assert path.exists()
    stamp = path.stat().st_mtime_ns
    second = train_cached(TINY)
    assert path.stat().st_mtime_ns == stamp
    assert isinstance(second, ToyRun) and second.config == TINY
    np.testing.assert_array_equal(first.W_history, second.W_history)
    assert run_cache_key(TINY) != run_cache_key(TINY.replace(seed=3))


def test_a_truncated_cache_entry_is_reported_and_retrained(capsys):
    config = TINY.replace(seed=7)
    expected = train_cached(config)
    path = ArrayCache("toy").path(run_cache_key(config))
    path.write_bytes(path.read_bytes()[:200])
    rebuilt = train_cached(config)
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "corrupt" in err[0]
    np.testing.assert_array_equal(rebuilt.W_history, expected.W_history)


@pytest.mark.parametrize("changes, field", [
    ({"model": "cnn"}, "model"), ({"n_features": 0}, "n_features"), ({"n_hidden": -1}, "n_hidden"),
    ({"n_hidden": 6}, "n_hidden"), ({"feature_probability": (1.0, 0.0)}, "feature_probability"),
    ({"feature_probability": (1.5,)}, "feature_probability"), ({"feature_probability": ()}, "feature_probability"),
    ({"importance_decay": 0.0}, "importance_decay"), ({"correlation": "pairs"}, "correlation"),
    ({"correlation": "anticorrelated"}, "feature_probability"), ({"n_features": 5, "correlation": "correlated"}, "n_features"),
    ({"steps": 0}, "steps"), ({"lr": -1.0}, "lr"), ({"n_snapshots": 1}, "n_snapshots"),
])
def test_invalid_configs_fail_with_one_line_naming_the_field(changes, field):
    config = dataclasses.replace(TINY, **changes)
    with pytest.raises(ToyConfigError) as error:
        config.validate()
    assert error.value.field == field
    assert str(error.value).startswith(field) and "\n" not in str(error.value)
    with pytest.raises(ValueError):
        train(config)


def test_abs_model_may_have_more_neurons_than_features():
    ToyConfig(model="abs", n_features=4, n_hidden=8, feature_probability=(0.5,)).validate()


def test_config_round_trips_through_json():
    config = TINY.replace(feature_probability=[0.5, 0.25])
    assert config.feature_probability == (0.5, 0.25)
    assert ToyConfig.from_json(config.to_json()) == config
