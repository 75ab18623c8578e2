"""Timeline for the toy model's signature picture: W^T W and b across sparsity, over training."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from engine.timeline import Segment, Timeline, Track, keyframes_over

KIND = "toy.wtw_sparsity"


@dataclass(frozen=True)
class WtWSettings:
    """What the video shows; the training itself is described by the ToyConfig it implies."""

    model: str = "relu"
    n_features: int = 20
    n_hidden: int = 5
    importance_decay: float = 0.7
    feature_probability: tuple[float, ...] = (1.0, 0.3, 0.1, 0.03, 0.01)
    steps: int = 10_000
    seed: int = 0
    n_snapshots: int = 48
    training_seconds: float = 8.0
    represented_threshold: float = 0.5
    sparse_from: float = 0.1  # panels with 1-S at or below this are "sparse" in the captions

    def validate(self) -> None:
        """Reject bad user choices in one line before anything is trained."""
        from engine.timelines.errors import SettingsError
        from engine.toy import ToyConfigError
        try:
            self.toy_config().validate()
        except ToyConfigError as e:
            raise SettingsError(str(e)) from None
        if not (self.training_seconds > 0 and 0 < self.represented_threshold):
            raise SettingsError("training_seconds and represented_threshold must be positive")

    def toy_config(self):
        from engine.toy import ToyConfig
        return ToyConfig(model=self.model, n_features=self.n_features, n_hidden=self.n_hidden,
                         importance_decay=self.importance_decay, feature_probability=tuple(self.feature_probability),
                         steps=self.steps, seed=self.seed, n_snapshots=self.n_snapshots)


def _fmt_p(p: float) -> str:
    return f"{p:g}"


def wtw_matrices(W: np.ndarray, W2: np.ndarray | None = None) -> np.ndarray:
    """W^T W in the paper's feature-by-feature form: [..., features, features] (W2 W^T when untied)."""
    dec = W if W2 is None else W2
    return np.einsum("...ih,...jh->...ij", dec, W)


def build(settings: WtWSettings, progress: bool = False) -> Timeline:
    from engine.toy import measure, train_cached

    run = train_cached(settings.toy_config(), progress=progress)
    n_inst, n = run.W.shape[0], run.W.shape[1]
    wtw = wtw_matrices(run.W_history, run.W2_history).astype(np.float32)  # [snap, inst, n, n]
    bias = run.b_history.astype(np.float32)  # [snap, inst, n]
    n_rep = measure.n_represented(run.W, settings.represented_threshold)
    d_star = measure.dimensions_per_feature(run.W)
    probs = np.asarray(run.feature_probability, dtype=float)
    dense = np.flatnonzero(probs >= 1 - 1e-6)
    sparse = np.flatnonzero(probs <= settings.sparse_from * (1 + 1e-6))
    m = settings.n_hidden

    segments = [
        Segment("setup", 3.5, f"A toy model squeezes {n} features into {m} dimensions. Each square shows W\u1d40W: "
                f"how much feature i's direction overlaps feature j's. The strip beside it is the bias b.", "linear"),
        Segment("training", settings.training_seconds, f"Training {n_inst} models at once, one per feature density 1\u2212S. "
                "Red: positive overlap. Blue: negative.", "linear"),
        Segment("dense", 4.0, f"Dense features (1\u2212S = 1): only the {int(n_rep[dense[0]]) if len(dense) else m} most important "
                "features get a direction, orthogonal to each other: a clean diagonal.", "smooth"),
        Segment("sparse", 4.5, "Sparse features: the model packs more features than dimensions (superposition), accepts "
                "interference off the diagonal, and uses negative biases to filter it out.", "smooth"),
        Segment("summary", 4.5, f"Features represented (\u2016W\u1d62\u2016 > {settings.represented_threshold:g}) grow as features get sparser; "
                "dimensions per feature D* fall below 1.", "smooth"),
    ]
    tl = Timeline(kind=KIND, title="Superposition appears as features get sparse",
                  source=(f"Toy model ({settings.model}, tied weights): {n} features \u2192 {m} dims, importance "
                          f"{settings.importance_decay:g}^i, {settings.steps:,} AdamW steps, seed {settings.seed}"),
                  segments=segments)
    t_train = tl.segment_start("training")
    snap_times = keyframes_over(t_train, settings.training_seconds, len(run.snapshot_steps))
    tl.tracks["wtw"] = Track(snap_times, wtw)
    tl.tracks["bias"] = Track(snap_times, bias)
    tl.tracks["step"] = Track(snap_times, np.asarray(run.snapshot_steps, dtype=np.int64), "step")

    # Which panels are highlighted, as opacity keyframes [keys, instances].
    hl_dense = np.zeros(n_inst); hl_dense[dense] = 1
    hl_sparse = np.zeros(n_inst); hl_sparse[sparse] = 1
    off = np.zeros(n_inst)
    d0, s0, u0 = (tl.segment_start(k) for k in ("dense", "sparse", "summary"))
    tl.tracks["highlight"] = Track(np.array([0.0, d0, d0 + 1.0, s0, s0 + 1.0, u0, u0 + 1.0]),
                                   np.stack([off, off, hl_dense, hl_dense, hl_sparse, hl_sparse, off]))
    tl.arrays.update(
        feature_probability=probs, importance=np.asarray(run.importance, dtype=float),
        n_represented=np.asarray(n_rep, dtype=np.int64), dims_per_feature=np.asarray(d_star, dtype=float),
        feature_norms=measure.feature_norms(run.W).astype(float),
    )
    tl.meta.update(
        panel_labels=[f"1\u2212S = {_fmt_p(p)}" for p in probs], wtw_vmax=1.0,
        bias_vmax=float(max(np.abs(bias).max(), 1e-6)), n_features=n, n_hidden=m,
        total_steps=int(settings.steps), settings=_jsonable(settings),
    )
    return tl.validate()


def _jsonable(settings: WtWSettings) -> dict:
    from dataclasses import asdict
    d = asdict(settings)
    d["feature_probability"] = list(d["feature_probability"])
    return d
