"""Timeline for the toy model's signature picture: W^T W and b across sparsity, over training."""
from __future__ import annotations

import math
from dataclasses import dataclass

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
    negative_bias: float = 0.05  # a bias below -this counts as negative (filtering interference)
    antipodal_from: float = 0.8  # say "antipodal pairs" of a panel only if this share of its features has a partner

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


def _values(probs: np.ndarray, idx: np.ndarray) -> str:
    """'0.1, 0.03 and 0.01'."""
    items = [_fmt_p(p) for p in probs[idx]]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _counts(values: np.ndarray) -> str:
    return _values(np.asarray(values, dtype=float), np.arange(len(values)))


def superposition_caption(probs: np.ndarray, n_rep: np.ndarray, antipodal: np.ndarray, m: int) -> str:
    """Which panels hold more features than dimensions, and where those form antipodal pairs (computed)."""
    superposed = np.flatnonzero(n_rep > m)
    if not len(superposed):
        return f"No panel holds more than {m} features in {m} dimensions: no superposition at these densities."
    pairs = superposed[antipodal[superposed]]
    return (f"Sparser features (1\u2212S = {_values(probs, superposed)}): {_counts(n_rep[superposed])} features share "
            f"{m} dimensions (superposition), with interference off the diagonal."
            + (f" At 1\u2212S = {_values(probs, pairs)} most form antipodal pairs (blue \u22121 entries)."
               if len(pairs) else ""))


def bias_caption(probs: np.ndarray, n_rep: np.ndarray, share: np.ndarray, negative: np.ndarray,
                 max_bias: np.ndarray, max_positive: np.ndarray, m: int, threshold: float) -> str:
    """Where negative biases appear (most represented features below -threshold), and what the rest show."""
    superposed = np.flatnonzero(n_rep > m)
    neg = np.flatnonzero(negative)
    flat = np.array([k for k in superposed if not negative[k] and max_bias[k] < threshold], dtype=int)
    if not len(neg):
        text = f"No panel gives most of its represented features a negative bias (b < \u2212{threshold:g})."
    else:
        counts = ", ".join(f"{round(share[k] * n_rep[k])} of {n_rep[k]}" for k in neg)
        text = (f"Negative biases (b < \u2212{threshold:g}) appear {'only ' if len(neg) < len(probs) else ''}at "
                f"1\u2212S = {_values(probs, neg)} ({counts} represented features), where positive interference (up to "
                f"{_counts(np.round(max_positive[neg], 2))}) needs filtering.")
    if len(flat):
        ceiling = math.ceil(max(float(max_positive[flat].max()), 0.0) * 100) / 100
        text += (f" At {_values(probs, flat)} positive interference is at most {ceiling:g} and represented features "
                 f"keep |b| < {threshold:g}.")
    return text


def build(settings: WtWSettings, progress: bool = False) -> Timeline:
    from engine.timelines.toy_tied_untied import antipodal_share, interference_stats
    from engine.toy import measure, train_cached

    run = train_cached(settings.toy_config(), progress=progress)
    n_inst, n = run.W.shape[0], run.W.shape[1]
    wtw = wtw_matrices(run.W_history, run.W2_history).astype(np.float32)  # [snap, inst, n, n]
    bias = run.b_history.astype(np.float32)  # [snap, inst, n]
    n_rep = measure.n_represented(run.W, settings.represented_threshold)
    d_star = measure.dimensions_per_feature(run.W)
    probs = np.asarray(run.feature_probability, dtype=float)
    dense = np.flatnonzero(probs >= 1 - 1e-6)
    m = settings.n_hidden

    # Every claim below is computed from the final weights and biases (thresholds in the settings).
    final = wtw_matrices(run.W, run.W2).astype(float)
    represented = measure.feature_norms(run.W) > settings.represented_threshold
    max_positive = interference_stats(final, settings.represented_threshold)["max_positive"]
    antipodal = np.array([antipodal_share(M, settings.represented_threshold) >= settings.antipodal_from for M in final])
    neg_share = measure.negative_bias_share(run.b, represented, settings.negative_bias)
    negative = neg_share >= 0.5
    max_bias = np.array([np.abs(b[r]).max() if r.any() else 0.0 for b, r in zip(run.b, represented)])
    superposed = n_rep > m

    segments = [
        Segment("setup", 3.5, f"A toy model squeezes {n} features into {m} dimensions. Each square shows W\u1d40W: "
                f"how much feature i's direction overlaps feature j's. The strip beside it is the bias b.", "linear"),
        Segment("training", settings.training_seconds, f"Training {n_inst} models at once, one per feature density 1\u2212S. "
                "Red: positive overlap. Blue: negative.", "linear"),
        Segment("dense", 4.0, f"Dense features (1\u2212S = 1): only the {int(n_rep[dense[0]]) if len(dense) else m} most important "
                "features get a direction, orthogonal to each other: a clean diagonal.", "smooth"),
        Segment("sparse", 5.0, superposition_caption(probs, n_rep, antipodal, m), "smooth"),
        Segment("bias", 6.0, bias_caption(probs, n_rep, neg_share, negative, max_bias, max_positive, m,
                                          settings.negative_bias), "smooth"),
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

    # Which panels are highlighted, as opacity keyframes [keys, instances]: the ones each caption names.
    hl_dense = np.zeros(n_inst); hl_dense[dense] = 1
    off = np.zeros(n_inst)
    hl_sparse, hl_bias = superposed.astype(float), negative.astype(float)
    d0, s0, b0, u0 = (tl.segment_start(k) for k in ("dense", "sparse", "bias", "summary"))
    tl.tracks["highlight"] = Track(np.array([0.0, d0, d0 + 1.0, s0, s0 + 1.0, b0, b0 + 1.0, u0, u0 + 1.0]),
                                   np.stack([off, off, hl_dense, hl_dense, hl_sparse, hl_sparse, hl_bias, hl_bias, off]))
    tl.arrays.update(
        feature_probability=probs, importance=np.asarray(run.importance, dtype=float),
        n_represented=np.asarray(n_rep, dtype=np.int64), dims_per_feature=np.asarray(d_star, dtype=float),
        feature_norms=measure.feature_norms(run.W).astype(float), superposed=superposed, antipodal=antipodal,
        negative_bias_share=neg_share.astype(float), negative_bias=negative, max_abs_bias=max_bias.astype(float),
        max_positive_interference=max_positive.astype(float),
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
