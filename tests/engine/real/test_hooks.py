"""Generic forward-hook capture on plain torch modules: exact values, no trace left on the model."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from engine.real.hooks import HookPoint, HookRecorder


class Explodes(nn.Module):
    def forward(self, x):
        raise AssertionError("the forward pass should have stopped before this layer")


def tiny_mlp() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3))


def test_capture_equals_manual_forward_and_leaves_no_hooks():
    model = tiny_mlp()
    x = torch.randn(4, 5)
    with HookRecorder(model, {"blocks.0.mlp.hook_post": HookPoint("1"),
                              "pre_down": HookPoint("2", side="input")}, stop_early=False) as rec:
        rec.run(lambda: model(x))
        got = rec.pop()
    manual = torch.relu(x @ model[0].weight.T + model[0].bias)
    torch.testing.assert_close(got["blocks.0.mlp.hook_post"], manual)
    torch.testing.assert_close(got["pre_down"], manual)  # the down-projection's input is the same tensor
    assert all(not m._forward_hooks and not m._forward_pre_hooks for m in model.modules())
    torch.testing.assert_close(model(x), model[2](manual))  # the model still computes what it did


def test_only_requested_neurons_are_kept():
    model = tiny_mlp()
    x = torch.randn(2, 5)
    with HookRecorder(model, {"h": HookPoint("1")}, neurons=[6, 0, 3]) as rec:
        rec.run(lambda: model(x))
        got = rec.pop()["h"]
    assert got.shape == (2, 3)
    torch.testing.assert_close(got, torch.relu(model[0](x))[:, [6, 0, 3]])


def test_forward_stops_once_everything_is_recorded():
    model = nn.Sequential(nn.Linear(3, 3), nn.ReLU(), Explodes())
    with HookRecorder(model, {"h": HookPoint("1")}) as rec:
        rec.run(lambda: model(torch.ones(1, 3)))
        assert rec.pop()["h"].shape == (1, 3)
    with pytest.raises(AssertionError, match="should have stopped"):
        with HookRecorder(model, {"h": HookPoint("1")}, stop_early=False) as rec:
            rec.run(lambda: model(torch.ones(1, 3)))


def test_hooks_are_removed_after_an_error():
    model = tiny_mlp()
    with pytest.raises(RuntimeError):
        with HookRecorder(model, {"h": HookPoint("1")}) as rec:
            rec.run(lambda: model(torch.ones(2, 99)))  # wrong width: the forward fails
    assert all(not m._forward_hooks for m in model.modules())


def test_unknown_module_and_unreached_points_are_clear_errors():
    model = tiny_mlp()
    with pytest.raises(ValueError, match="has no module 'encoder.layer.9'"):
        HookRecorder(model, {"h": HookPoint("encoder.layer.9")})
    with pytest.raises(ValueError, match="no hook points"):
        HookRecorder(model, {})
    with HookRecorder(model, {"h": HookPoint("2")}) as rec:
        with pytest.raises(RuntimeError, match="never ran"):
            rec.run(lambda: model[0](torch.ones(1, 5)))
