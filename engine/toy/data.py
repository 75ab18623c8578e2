"""Synthetic sparse features: x_i = 0 with probability S = 1 - p, else uniform; a fresh batch every step.

Presence and magnitude are independent, as in the reference implementation. Without correlations
one uniform draw u gives both: present iff u < p, and then u / p is uniform on [0, 1] and
independent of the presence event (same distribution as two draws, half the random numbers).
Correlations act on consecutive pairs (0, 1), (2, 3), ...: correlated pairs share their presence,
anticorrelated pairs never co-occur (a pair is "on" with probability 2p, then exactly one of its
two features is present), so every feature keeps marginal probability p in all three modes.
Batches are laid out [instances, batch, features] so the models can use batched matmuls.
"""
from __future__ import annotations

import torch
from jaxtyping import Bool, Float
from torch import Tensor


def presence_mask(generator: torch.Generator, batch_size: int, probability: Float[Tensor, "instances"],
                  n_features: int, correlation: str) -> Bool[Tensor, "instances batch features"]:
    """Which features are present, for the paired correlation modes."""
    p = probability[:, None, None]
    pair_shape = (probability.shape[0], batch_size, n_features // 2)
    if correlation == "correlated":
        return (torch.rand(pair_shape, generator=generator) < p).repeat_interleave(2, dim=-1)
    if correlation == "anticorrelated":
        pair_on = torch.rand(pair_shape, generator=generator) < 2 * p
        first = torch.rand(pair_shape, generator=generator) < 0.5
        return torch.stack([pair_on & first, pair_on & ~first], dim=-1).flatten(-2)
    raise ValueError(f"unknown correlation {correlation!r}")


def sample_features(generator: torch.Generator, batch_size: int, probability: Float[Tensor, "instances"],
                    n_features: int, correlation: str = "none", signed: bool = False
                    ) -> Float[Tensor, "instances batch features"]:
    """One batch of sparse features; magnitudes uniform on [0, 1], or on [-1, 1] when ``signed``."""
    shape = (probability.shape[0], batch_size, n_features)
    if correlation == "none":
        p = probability[:, None, None]
        u = torch.rand(shape, generator=generator)
        present = u < p
        magnitude = u / p
    else:
        present = presence_mask(generator, batch_size, probability, n_features, correlation)
        magnitude = torch.rand(shape, generator=generator)
    if signed:
        magnitude = 2 * magnitude - 1
    return torch.where(present, magnitude, 0.0)
