"""The phase diagram's training grid: one 2 -> 1 instance per (importance, density, seed).

Plain numpy, apart from ``engine.toy.phase``'s torch, so a scene's settings can be checked
without importing torch.
"""
from __future__ import annotations

import numpy as np
from jaxtyping import Float

from engine.toy.config import ToyConfig


def phase_grid_config(densities: np.ndarray, importances: np.ndarray, seeds: int, **overrides) -> ToyConfig:
    """One relu 2 -> 1 instance per (importance, density, seed); importance-major, then density, then seed."""
    n_importance = len(importances)
    probability = np.tile(np.repeat(np.asarray(densities, float), seeds), n_importance)
    settings = dict(model="relu", n_features=2, n_hidden=1, importance_decay=1.0,
                    feature_probability=tuple(probability.tolist()))
    settings.update(overrides)
    return ToyConfig(**settings)


def phase_grid_importance(densities: np.ndarray, importances: np.ndarray,
                          seeds: int) -> Float[np.ndarray, "instances 2"]:
    """Per-instance importance [instances, 2] = [1, r] matching :func:`phase_grid_config`."""
    r = np.repeat(np.asarray(importances, float), len(densities) * seeds)
    return np.stack([np.ones_like(r), r], 1).astype(np.float32)
