"""Train every instance of a toy config at once: one tensor program, one optimiser, one data stream.

AdamW (lr 1e-3, weight decay 0.01 on all parameters, constant lr), batch 1024, a fresh batch every
step, loss = sum over instances of mean over batch and features of I_i (target_i - x'_i)^2.
Seeded generators for init and data, and a fixed torch thread count while training, make the same
config bit-identical run to run.
"""
from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass
from typing import Iterator

import numpy as np
import torch
from jaxtyping import Float, Int

from engine.cache import ArrayCache, cache_key, source_fingerprint
from engine.toy import config as config_module
from engine.toy import data as data_module
from engine.toy import models as models_module
from engine.toy.config import ToyConfig
from engine.toy.data import sample_features
from engine.toy.models import ToyModel, build_model

TRAIN_THREADS = 1   # tiny matmuls: one thread is as fast as two here, and the result never depends on the machine's core count
_PROGRESS_EVERY = 50


@dataclass
class ToyRun:
    """Weights over training for every instance of one config (numpy, ready for measuring and drawing)."""

    config: ToyConfig
    importance: Float[np.ndarray, "features"]        # [instances, features] when trained with a per-instance override
    feature_probability: Float[np.ndarray, "instances"]
    snapshot_steps: Int[np.ndarray, "snapshots"]
    W_history: Float[np.ndarray, "snapshots instances features hidden"]
    b_history: Float[np.ndarray, "snapshots instances features"]
    W2_history: Float[np.ndarray, "snapshots instances features hidden"] | None   # untied/abs decoder
    loss_history: Float[np.ndarray, "snapshots instances"]
    b_hidden_history: Float[np.ndarray, "snapshots instances hidden"] | None = None   # abs model only

    @property
    def W(self) -> Float[np.ndarray, "instances features hidden"]:
        return self.W_history[-1]

    @property
    def b(self) -> Float[np.ndarray, "instances features"]:
        return self.b_history[-1]

    @property
    def W2(self) -> Float[np.ndarray, "instances features hidden"] | None:
        return None if self.W2_history is None else self.W2_history[-1]

    @property
    def b_hidden(self) -> Float[np.ndarray, "instances hidden"] | None:
        return None if self.b_hidden_history is None else self.b_hidden_history[-1]

    @property
    def final_loss(self) -> Float[np.ndarray, "instances"]:
        return self.loss_history[-1]

    def gram(self, snapshot: int = -1) -> Float[np.ndarray, "instances features features"]:
        """W W^T (tied) or W2 W^T (untied): how much each feature's output reads each feature's input."""
        W = self.W_history[snapshot]
        decoder = W if self.W2_history is None else self.W2_history[snapshot]
        return decoder @ np.swapaxes(W, -1, -2)

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {name: getattr(self, name) for name in _ARRAY_FIELDS if getattr(self, name) is not None}

    @classmethod
    def from_arrays(cls, config: ToyConfig, arrays: dict[str, np.ndarray]) -> "ToyRun":
        return cls(config=config, **{name: arrays.get(name) for name in _ARRAY_FIELDS})


_ARRAY_FIELDS = ("importance", "feature_probability", "snapshot_steps", "W_history", "b_history",
                 "W2_history", "loss_history", "b_hidden_history")


def snapshot_schedule(steps: int, n_snapshots: int) -> Int[np.ndarray, "snapshots"]:
    """Distinct steps from 0 to ``steps``, log-spaced so the fast early changes are well sampled."""
    n = min(n_snapshots, steps + 1)
    targets = np.expm1(np.linspace(0.0, np.log1p(steps), n))
    chosen: list[int] = []
    for k, target in enumerate(targets):
        lowest = chosen[-1] + 1 if chosen else 0
        highest = steps - (n - 1 - k)
        chosen.append(int(min(max(round(target), lowest), highest)))
    return np.asarray(chosen, dtype=np.int64)


def seeded_generators(seed: int) -> tuple[torch.Generator, torch.Generator]:
    """Independent generators for initialisation and data, both derived from one seed."""
    init_seed, data_seed = (int(s.generate_state(1, np.uint64)[0] >> np.uint64(1))
                            for s in np.random.SeedSequence(seed).spawn(2))
    return torch.Generator().manual_seed(init_seed), torch.Generator().manual_seed(data_seed)


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run with ``n`` intra-op threads, restoring the caller's setting afterwards."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _importance_matrix(config: ToyConfig, importance: np.ndarray | None) -> np.ndarray:
    base = config.importance() if importance is None else np.asarray(importance, dtype=np.float32)
    if base.shape not in ((config.n_features,), (config.n_instances, config.n_features)):
        raise ValueError(f"importance must have shape ({config.n_features},) or "
                         f"({config.n_instances}, {config.n_features}), got {base.shape}")
    return base


def _progress_bar(total: int, enabled: bool):
    if not enabled:
        return contextlib.nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
    return Progress(TextColumn("toy model"), BarColumn(), TextColumn("{task.completed}/{task.total} steps"),
                    TimeRemainingColumn(), console=Console(file=sys.stderr), transient=True)


def _capture(model: ToyModel) -> dict[str, np.ndarray]:
    weights = {"W_history": model.W, "b_history": model.b}
    if hasattr(model, "W2"):
        weights["W2_history"] = model.W2
    if hasattr(model, "b_hidden"):
        weights["b_hidden_history"] = model.b_hidden
    return {name: p.detach().numpy().copy() for name, p in weights.items()}


def train(config: ToyConfig, progress: bool = False, importance: np.ndarray | None = None) -> ToyRun:
    """Train all instances of ``config`` together and keep ``n_snapshots`` weight snapshots.

    ``importance`` overrides ``importance_decay**i``; give [features] or [instances, features]
    (the phase diagram trains a different importance in every instance).
    """
    config.validate()
    importance_np = _importance_matrix(config, importance)
    probability_np = np.asarray(config.feature_probability, dtype=np.float32)
    steps = snapshot_schedule(config.steps, config.n_snapshots)
    with torch_threads(TRAIN_THREADS):
        init_gen, data_gen = seeded_generators(config.seed)
        model = build_model(config.model, config.n_instances, config.n_features, config.n_hidden, init_gen)
        optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                                      fused=True)
        weight = torch.from_numpy(importance_np).expand(config.n_instances, config.n_features)[:, None, :]
        probability = torch.from_numpy(probability_np)
        history: dict[str, list[np.ndarray]] = {}
        losses: list[np.ndarray] = []
        next_snapshot = 0
        with _progress_bar(config.steps, progress) as bar:
            task = bar.add_task("train", total=config.steps) if bar is not None else None
            for step in range(config.steps + 1):
                x = sample_features(data_gen, config.batch_size, probability, config.n_features,
                                    config.correlation, signed=model.signed_inputs)
                per_instance = (weight * (model.target(x) - model(x)) ** 2).mean(dim=(1, 2))
                if step == steps[next_snapshot]:
                    for name, array in _capture(model).items():
                        history.setdefault(name, []).append(array)
                    losses.append(per_instance.detach().numpy().copy())
                    next_snapshot = min(next_snapshot + 1, len(steps) - 1)
                if step == config.steps:
                    break
                optimizer.zero_grad(set_to_none=True)
                per_instance.sum().backward()
                optimizer.step()
                if bar is not None and (step + 1) % _PROGRESS_EVERY == 0:
                    bar.update(task, completed=step + 1)
    stacked = {name: np.stack(arrays) for name, arrays in history.items()}
    return ToyRun(config=config, importance=importance_np, feature_probability=probability_np,
                  snapshot_steps=steps, W_history=stacked["W_history"], b_history=stacked["b_history"],
                  W2_history=stacked.get("W2_history"), loss_history=np.stack(losses),
                  b_hidden_history=stacked.get("b_hidden_history"))


def training_fingerprint() -> str:
    """Hash of the code that determines trained weights (a change there invalidates cached runs)."""
    return source_fingerprint(config_module, data_module, models_module, sys.modules[__name__]) + torch.__version__


def run_cache_key(config: ToyConfig, importance: np.ndarray | None = None) -> str:
    return cache_key(config, None if importance is None else np.asarray(importance, np.float32),
                     training_fingerprint(), TRAIN_THREADS)


def train_cached(config: ToyConfig, progress: bool = False, importance: np.ndarray | None = None) -> ToyRun:
    """:func:`train`, through ``ArrayCache("toy")`` keyed by the config and the training code."""
    config.validate()

    def build() -> tuple[dict[str, np.ndarray], dict]:
        return train(config, progress=progress, importance=importance).to_arrays(), {"config": config.to_json()}

    arrays, _ = ArrayCache("toy").get_or_build(run_cache_key(config, importance), build)
    return ToyRun.from_arrays(config, arrays)
