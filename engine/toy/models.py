"""The toy models, each holding many independent instances along a leading dimension.

Weights are stored the way the paper draws them: ``W[instance, feature, hidden]`` is feature i's
direction in the hidden space (row W_i), so ``W @ W^T`` is the feature-feature Gram matrix.

    linear  x' = W^T W x + b
    relu    x' = ReLU(W^T W x + b)                      (tied weights)
    untied  x' = ReLU(W2 W1 x + b)                      W = W1^T, W2 = decoder rows
    neuron  x' = ReLU(W^T ReLU(W x) + b)                hidden units are neurons (privileged basis)
    abs     y  = ReLU(W2 ReLU(W1 x + b_hidden) + b)     target |x|, x_i uniform on [-1, 1] (computation)
"""
from __future__ import annotations

import math

import numpy as np

import torch
from jaxtyping import Float
from torch import Tensor, nn


def xavier_normal(generator: torch.Generator, n_instances: int, n_features: int, n_hidden: int
                  ) -> Float[Tensor, "instances features hidden"]:
    """Xavier-normal per instance: std = sqrt(2 / (features + hidden)).

    The reference calls ``nn.init.xavier_normal_`` on the whole 3-D tensor, whose fan-in/out then
    depend on how many instances are trained together; per instance keeps instances comparable.
    """
    std = math.sqrt(2.0 / (n_features + n_hidden))
    return torch.randn(n_instances, n_features, n_hidden, generator=generator) * std


class ToyModel(nn.Module):
    """Tied-weight base: ``W`` [instances, features, hidden] and output bias ``b`` [instances, features]."""

    signed_inputs = False   # inputs uniform on [0, 1]; the abs model uses [-1, 1]

    def __init__(self, n_instances: int, n_features: int, n_hidden: int, generator: torch.Generator):
        super().__init__()
        self.W = nn.Parameter(xavier_normal(generator, n_instances, n_features, n_hidden))
        self.b = nn.Parameter(torch.zeros(n_instances, n_features))

    def encode(self, x: Float[Tensor, "instances batch features"]) -> Float[Tensor, "instances batch hidden"]:
        return torch.bmm(x, self.W)

    def decode(self, h: Float[Tensor, "instances batch hidden"]) -> Float[Tensor, "instances batch features"]:
        return torch.baddbmm(self.b[:, None, :], h, self.W.transpose(1, 2))

    def forward(self, x: Float[Tensor, "instances batch features"]) -> Float[Tensor, "instances batch features"]:
        return torch.relu(self.decode(self.encode(x)))

    def target(self, x: Tensor) -> Tensor:
        """What the output should equal: the input itself, except for the abs model."""
        return x


class LinearModel(ToyModel):
    def forward(self, x: Tensor) -> Tensor:
        return self.decode(self.encode(x))


class ReluModel(ToyModel):
    pass


class UntiedModel(ToyModel):
    """Separate decoder ``W2`` [instances, features, hidden]; the Gram analogue is ``W2 @ W^T``."""

    def __init__(self, n_instances: int, n_features: int, n_hidden: int, generator: torch.Generator):
        super().__init__(n_instances, n_features, n_hidden, generator)
        self.W2 = nn.Parameter(xavier_normal(generator, n_instances, n_features, n_hidden))

    def decode(self, h: Tensor) -> Tensor:
        return torch.baddbmm(self.b[:, None, :], h, self.W2.transpose(1, 2))


class NeuronModel(ToyModel):
    """ReLU on the hidden layer makes its basis privileged, so individual neurons can be (poly)semantic."""

    def encode(self, x: Tensor) -> Tensor:
        return torch.relu(super().encode(x))


class AbsModel(UntiedModel):
    """Computation in superposition: a ReLU hidden layer that must compute |x_i| for every feature."""

    signed_inputs = True

    def __init__(self, n_instances: int, n_features: int, n_hidden: int, generator: torch.Generator):
        super().__init__(n_instances, n_features, n_hidden, generator)
        self.b_hidden = nn.Parameter(torch.zeros(n_instances, n_hidden))

    def encode(self, x: Tensor) -> Tensor:
        return torch.relu(torch.baddbmm(self.b_hidden[:, None, :], x, self.W))

    def target(self, x: Tensor) -> Tensor:
        return x.abs()


MODEL_CLASSES: dict[str, type[ToyModel]] = {
    "linear": LinearModel, "relu": ReluModel, "untied": UntiedModel, "neuron": NeuronModel, "abs": AbsModel,
}


def build_model(kind: str, n_instances: int, n_features: int, n_hidden: int,
                generator: torch.Generator) -> ToyModel:
    """A freshly initialised model of ``kind``; all randomness comes from ``generator``."""
    return MODEL_CLASSES[kind](n_instances, n_features, n_hidden, generator)


def model_from_weights(kind: str, W: np.ndarray, b: np.ndarray, W2: np.ndarray | None = None,
                       b_hidden: np.ndarray | None = None) -> ToyModel:
    """Rebuild a model of ``kind`` around stored numpy weights (for evaluating snapshots)."""
    n_instances, n_features, n_hidden = W.shape
    model = build_model(kind, n_instances, n_features, n_hidden, torch.Generator().manual_seed(0))
    stored = {"W": W, "b": b, "W2": W2, "b_hidden": b_hidden}
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            parameter.copy_(torch.as_tensor(np.asarray(stored[name], dtype=np.float32)))
    return model
