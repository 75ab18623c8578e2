"""Per-feature reconstruction loss of a trained run, estimated on fresh seeded samples."""
from __future__ import annotations

import numpy as np
import torch
from jaxtyping import Float

from engine.toy.data import sample_features
from engine.toy.models import model_from_weights
from engine.toy.training import TRAIN_THREADS, ToyRun, torch_threads


def per_feature_loss(run: ToyRun, snapshot: int = -1, n_samples: int = 65_536, seed: int = 1234,
                     chunk: int = 8192) -> Float[np.ndarray, "instances features"]:
    """E[(target_i - x'_i)^2] per instance and feature (not importance-weighted), from ``n_samples`` draws.

    Multiply by ``run.importance`` and average over features to get the training loss.
    """
    pick = lambda history: None if history is None else history[snapshot]  # noqa: E731
    model = model_from_weights(run.config.model, run.W_history[snapshot], run.b_history[snapshot],
                               pick(run.W2_history), pick(run.b_hidden_history))
    probability = torch.as_tensor(run.feature_probability, dtype=torch.float32)
    generator = torch.Generator().manual_seed(seed)
    total = torch.zeros(run.config.n_instances, run.config.n_features, dtype=torch.float64)
    with torch_threads(TRAIN_THREADS), torch.no_grad():
        for start in range(0, n_samples, chunk):
            size = min(chunk, n_samples - start)
            x = sample_features(generator, size, probability, run.config.n_features, run.config.correlation,
                                signed=model.signed_inputs)
            total += ((model.target(x) - model(x)) ** 2).sum(1, dtype=torch.float64)
    return (total / n_samples).numpy()


def target_variance(feature_probability: np.ndarray) -> np.ndarray:
    """Var of a target that is 0 w.p. 1 - p, else uniform on [0, 1] (x_i, or |x_i| for the abs model)."""
    p = np.asarray(feature_probability, dtype=np.float64)
    return p / 3 - p ** 2 / 4


def explained_fraction(run: ToyRun, snapshot: int = -1, n_samples: int = 65_536) -> Float[np.ndarray, "instances features"]:
    """1 - loss_i / Var(target_i): 1 = feature reproduced (or |x_i| computed) exactly, 0 = only its mean."""
    loss = per_feature_loss(run, snapshot=snapshot, n_samples=n_samples)
    return 1 - loss / target_variance(run.feature_probability)[:, None]
