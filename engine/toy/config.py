"""What determines a toy-model run (Elhage et al. 2022, "Toy Models of Superposition").

A config is frozen and hashable so it can key the cache: same config + seed => same weights.
"""
from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

MODELS = ("linear", "relu", "untied", "neuron", "abs")
CORRELATIONS = ("none", "correlated", "anticorrelated")
# Models that compress n features into m < n dimensions; m >= n leaves nothing to study.
COMPRESSING_MODELS = ("linear", "relu", "untied", "neuron")
# Upper bounds, checked before anything is allocated: far above any run worth animating (the reference
# trains 10,000 steps of 1,024 samples), low enough that a typo fails in one line instead of
# exhausting memory or running for days.
MAX_SIZE = {"n_features": 100_000, "n_hidden": 100_000, "steps": 1_000_000, "batch_size": 65_536}
MAX_SNAPSHOTS = 10_000
MAX_INSTANCES = 10_000
MAX_TRAINING_BYTES = 2 * 1024**3  # estimated peak memory of training (batch tensors, weights, history)


class ToyConfigError(ValueError):
    """A config field is out of range; the message is one line naming the field and the valid range."""

    def __init__(self, field: str, value: Any, valid: str):
        self.field, self.value, self.valid = field, value, valid
        super().__init__(f"{field}={value!r} is invalid: {valid}")


@dataclass(frozen=True)
class ToyConfig:
    model: str = "relu"          # "linear" | "relu" | "untied" | "neuron" | "abs"
    n_features: int = 20
    n_hidden: int = 5
    importance_decay: float = 0.7          # importance_i = decay**i ; 1.0 = constant
    feature_probability: tuple[float, ...] = (1.0, 0.3, 0.1, 0.03, 0.01)   # one instance per value (1 - S)
    correlation: str = "none"    # "none" | "correlated" | "anticorrelated" (pairs of features)
    steps: int = 10_000
    batch_size: int = 1024
    lr: float = 1e-3
    weight_decay: float = 0.01
    seed: int = 0
    n_snapshots: int = 48        # weights kept for animation, log-spaced, always step 0 and the final step

    def __post_init__(self) -> None:
        # Accept any sequence (list from JSON or argparse) but store a tuple of floats so the config stays hashable.
        object.__setattr__(self, "feature_probability", tuple(float(p) for p in np.atleast_1d(self.feature_probability)))

    @property
    def n_instances(self) -> int:
        return len(self.feature_probability)

    def importance(self) -> np.ndarray:
        """importance_i = decay**i, float32 [features]."""
        return (self.importance_decay ** np.arange(self.n_features)).astype(np.float32)

    def validate(self) -> None:
        """Raise ToyConfigError (one line: field and valid range) for the first bad field."""
        def bad(field: str, value: Any, valid: str) -> None:
            raise ToyConfigError(field, value, valid)

        if self.model not in MODELS:
            bad("model", self.model, f"choose one of {', '.join(MODELS)}")
        if self.correlation not in CORRELATIONS:
            bad("correlation", self.correlation, f"choose one of {', '.join(CORRELATIONS)}")
        for name, most in MAX_SIZE.items():
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 1 <= value <= most:
                bad(name, value, f"must be an integer from 1 to {most:,}")
        if not isinstance(self.n_snapshots, (int, np.integer)) or not 2 <= self.n_snapshots <= MAX_SNAPSHOTS:
            bad("n_snapshots", self.n_snapshots,
                f"must be an integer from 2 (step 0 and the final step) to {MAX_SNAPSHOTS:,}")
        if not isinstance(self.seed, (int, np.integer)) or not 0 <= self.seed < 2**63:
            bad("seed", self.seed, "must be an integer in [0, 2**63)")
        if self.model in COMPRESSING_MODELS and self.n_hidden >= self.n_features:
            bad("n_hidden", self.n_hidden, f"must be in [1, {self.n_features - 1}], fewer than the {self.n_features} "
                f"features: the {self.model} model compresses features")
        if not (math.isfinite(self.importance_decay) and 0 < self.importance_decay <= 1):
            bad("importance_decay", self.importance_decay, "must be in (0, 1] (1 = equal importance)")
        if not 1 <= self.n_instances <= MAX_INSTANCES:
            bad("feature_probability", self.feature_probability, f"give 1 to {MAX_INSTANCES:,} values in (0, 1]")
        for p in self.feature_probability:
            if not (math.isfinite(p) and 0 < p <= 1):
                bad("feature_probability", p, "every value must be in (0, 1]")
        if self.correlation != "none" and self.n_features % 2:
            bad("n_features", self.n_features, f"correlation={self.correlation!r} pairs features, so it must be even")
        if self.correlation == "anticorrelated" and max(self.feature_probability) > 0.5:
            bad("feature_probability", max(self.feature_probability),
                "anticorrelated pairs hold at most one present feature, so every value must be in (0, 0.5]")
        for name in ("lr", "weight_decay"):
            value = getattr(self, name)
            low_ok = value > 0 if name == "lr" else value >= 0
            if not (math.isfinite(value) and low_ok):
                bad(name, value, "must be > 0" if name == "lr" else "must be >= 0")
        if self.training_bytes() > MAX_TRAINING_BYTES:
            bad("n_features", self.n_features, f"training would need about {self.training_bytes() / 1024**3:.1f} GiB "
                f"(limit {MAX_TRAINING_BYTES / 1024**3:.0f} GiB): use fewer features, hidden dimensions, snapshots, "
                f"instances or a smaller batch")

    def training_bytes(self) -> int:
        """Estimated peak memory of training: float32 batch tensors (inputs, outputs, their gradients),
        weights with their gradients and AdamW state, and the snapshots kept for animation."""
        per_instance = (6 * self.batch_size * self.n_features
                        + (self.n_snapshots + 8) * (2 * self.n_features * self.n_hidden + self.n_features + self.n_hidden))
        return 4 * self.n_instances * per_instance

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ToyConfig":
        fields = json.loads(text)
        fields["feature_probability"] = tuple(fields["feature_probability"])
        return cls(**fields)

    def replace(self, **changes: Any) -> "ToyConfig":
        return dataclasses.replace(self, **changes)
