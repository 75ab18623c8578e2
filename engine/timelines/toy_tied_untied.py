"""Timeline comparing tied and untied toy models: W^T W (tied) against W2 W^T (untied), across sparsity.

Both models map x to h = W x; the tied model reads back with W^T, the untied one with its own decoder
W2. Entry (i, j) of W2 W^T (W^T W when tied) is how much feature j's input reaches feature i's output
before the ReLU: the diagonal is how well a feature is read back, off-diagonal entries are interference.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from engine.timeline import Segment, Timeline, Track
from engine.timelines.toy_geometry import training_keyframes
from engine.timelines.toy_wtw import wtw_matrices

KIND = "toy.wtw_tied_untied"
MODELS = ("relu", "untied")
ROW_NAMES = {"relu": "tied", "untied": "untied"}
ROW_MATRICES = {"relu": "W\u1d40W", "untied": "W\u2082W\u1d40"}


@dataclass(frozen=True)
class TiedUntiedSettings:
    """One row per model, one panel per sparsity; both models trained with the same settings and seed."""

    n_features: int = 20
    n_hidden: int = 5
    importance_decay: float = 0.7
    feature_probability: tuple[float, ...] = (1.0, 0.3, 0.1, 0.03, 0.01)
    steps: int = 5000
    batch_size: int = 256
    lr: float = 3e-3
    seed: int = 0
    n_snapshots: int = 40
    training_seconds: float = 9.0
    read_back_threshold: float = 0.5  # a feature is represented if its diagonal entry exceeds this
    sparse_from: float = 0.1  # panels with 1-S at or below this count as "sparse" in the summary
    stuck_fire_rate: float = 0.001  # a dropped feature whose output fires on at most this share of inputs is stuck

    def validate(self) -> None:
        """Reject bad user choices in one line before anything is trained."""
        from engine.timelines.errors import SettingsError
        from engine.toy import ToyConfigError
        if not 1 <= len(self.feature_probability) <= 6:
            raise SettingsError(f"feature_probability has {len(self.feature_probability)} values; give 1 to 6 "
                                "(one panel per row each), e.g. 1,0.3,0.1,0.03,0.01")
        if not (self.training_seconds > 0 and 0 < self.read_back_threshold < 1):
            raise SettingsError("training_seconds must be positive and read_back_threshold in (0, 1)")
        try:
            for config in self.toy_configs():
                config.validate()
        except ToyConfigError as e:
            raise SettingsError(str(e)) from None

    def toy_configs(self):
        from engine.toy import ToyConfig
        return [ToyConfig(model=model, n_features=self.n_features, n_hidden=self.n_hidden,
                          importance_decay=self.importance_decay, feature_probability=tuple(self.feature_probability),
                          steps=self.steps, batch_size=self.batch_size, lr=self.lr, seed=self.seed,
                          n_snapshots=self.n_snapshots) for model in MODELS]


def read_back(M: np.ndarray) -> np.ndarray:
    """Diagonal of W2 W^T (or W^T W): how much of each feature comes back out, [..., features]."""
    return np.diagonal(M, axis1=-2, axis2=-1)


def interference_stats(M: np.ndarray, threshold: float = 0.5) -> dict[str, np.ndarray]:
    """Per matrix [..., n, n], among represented features (diagonal > threshold): the largest positive and the most
    negative off-diagonal entry, and the largest asymmetry |M_ij - M_ji|."""
    n = M.shape[-1]
    kept = read_back(M) > threshold
    pair = kept[..., :, None] & kept[..., None, :] & ~np.eye(n, dtype=bool)
    off = np.where(pair, M, 0.0)
    return {"max_positive": off.max(axis=(-2, -1)).clip(min=0.0), "most_negative": off.min(axis=(-2, -1)).clip(max=0.0),
            "asymmetry": np.abs(M - np.swapaxes(M, -1, -2)).max(axis=(-2, -1))}


def antipodal_share(M: np.ndarray, threshold: float = 0.5, level: float = -0.8) -> float:
    """Share of represented features (diagonal > threshold) with an antipodal partner (an entry below ``level``)."""
    kept = read_back(M) > threshold
    if kept.sum() < 2:
        return 0.0
    block = M[np.ix_(kept, kept)] - np.diag(np.diag(M)[kept])
    return float((block.min(1) < level).mean())


def _fmt_p(p: float) -> str:
    return f"{p:g}"


def _listing(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def dropped_features(final: np.ndarray, bias: np.ndarray, probs: np.ndarray, threshold: float,
                     max_fire_rate: float) -> list[tuple[int, list[int], float]]:
    """Panels where the untied model drops features the tied one reads back and whose untied outputs (almost) never
    fire on training-like inputs (engine.toy.measure.output_fire_rate): (panel, features, their highest fire rate).

    final [2, panels, n, n] and bias [2, panels, n]; row 0 tied, row 1 untied.
    """
    from engine.toy.measure import output_fire_rate

    diag = read_back(final)
    out = []
    for k, p in enumerate(probs):
        lost = np.flatnonzero((diag[0, k] > threshold) & (diag[1, k] <= threshold))
        if len(lost):
            rate = output_fire_rate(final[1, k], bias[1, k], float(p))[lost]
            if rate.max() <= max_fire_rate:
                out.append((k, lost.tolist(), float(rate.max())))
    return out


def _rate(rate: float) -> str:
    return "under 1 in 10,000 inputs" if rate < 1e-4 else f"{rate:.2%} of inputs"


def dropped_caption(probs: np.ndarray, dropped: list[tuple[int, list[int], float]]) -> str:
    """Where the untied model is stuck: features the tied model keeps, lost to outputs that (almost) never fire."""
    prefix = ["1\u2212S = "] + [""] * (len(dropped) - 1)
    where = "; ".join(f"{', '.join(str(i + 1) for i in lost)} at {pre}{_fmt_p(probs[k])}"
                      for pre, (k, lost, _) in zip(prefix, dropped))
    rate = max(r for _, _, r in dropped)
    return (f"Untied drops features the tied model keeps (diagonal \u2248 0; 1 = most important): {where}. Their "
            f"outputs fire on {_rate(rate)}, so almost no gradient reaches them: stuck, not the tied solution.")


def build(settings: TiedUntiedSettings, progress: bool = False) -> Timeline:
    from engine.toy import train_cached

    runs = [train_cached(c, progress=progress) for c in settings.toy_configs()]
    wtw = np.stack([wtw_matrices(r.W_history, r.W2_history) for r in runs], 1).astype(np.float32)  # [snap, 2, inst, n, n]
    bias = np.stack([r.b_history for r in runs], 1).astype(np.float32)  # [snap, 2, inst, n]
    final = wtw[-1].astype(float)
    thr = settings.read_back_threshold
    n_rep = (read_back(final) > thr).sum(-1)  # [2, inst]
    stats = interference_stats(final, thr)
    probs = np.asarray(settings.feature_probability, dtype=float)
    n, m, n_inst = settings.n_features, settings.n_hidden, len(probs)
    sparse = probs <= settings.sparse_from * (1 + 1e-6)

    # Captions state only what this run's matrices show (checked here, and in the tests for the defaults).
    dense = probs >= probs.max() * (1 - 1e-6)
    top_m = (np.arange(n) < m)
    dense_top = bool(dense.any() and all(((read_back(final[r, k]) > thr) == top_m).all()
                                         for r in range(2) for k in np.flatnonzero(dense)))
    superposed = bool(sparse.any() and (n_rep[:, sparse] > m).all())
    antipodal = bool(sparse.any() and all(antipodal_share(final[0, k], thr) >= 0.8 for k in np.flatnonzero(sparse)))
    far_negative = bool(sparse.any() and (stats["most_negative"][1, sparse] < -1.5).all())
    tied_text = (f"Tied: W\u1d40W is symmetric by construction. Sparse features share the {m} dimensions (superposition)"
                 + (", mostly as antipodal pairs: blue \u22121 entries off the diagonal." if antipodal else "."))
    dropped = dropped_features(final, bias[-1].astype(float), probs, thr, settings.stuck_fire_rate)
    untied_text = ("Untied: W\u2082W\u1d40 need not be symmetric."
                   + (" The decoder turns interference strongly negative (the colours clip at \u22121), where the "
                      "ReLU removes it for free." if far_negative else " Compare its off-diagonal entries with the tied row."))
    summary = [f"once features are sparse, both hold more than {m} features in {m} dimensions" if superposed else "",
               f"dense, both keep just the {m} most important" if dense_top else ""]
    summary_text = (f"Features read back (diagonal > {thr:g}) per panel"
                    + (": " + "; ".join(p for p in summary if p) if any(summary) else "") + ".")
    segments = [
        Segment("setup", 4.0, f"Two toy models squeeze {n} features into {m} dimensions, h = Wx. Top: tied, read back "
                "with W\u1d40, so W\u1d40W. Bottom: untied, with its own decoder W\u2082, so W\u2082W\u1d40.",
                "linear"),
        Segment("training", settings.training_seconds, "Both train at each feature density 1\u2212S. Diagonal: how much "
                "of a feature comes back out. Off the diagonal: interference, red positive, blue negative.", "linear"),
        Segment("tied", 4.5, tied_text, "smooth"),
        Segment("untied", 5.0, untied_text, "smooth"),
        *([Segment("stuck", 6.0, dropped_caption(probs, dropped), "smooth")] if dropped else []),
        Segment("summary", 5.0, summary_text, "smooth"),
    ]
    tl = Timeline(kind=KIND, title="Tied and untied weights across sparsity",
                  source=(f"Toy ReLU models, tied and untied: {n} features \u2192 {m} dims, importance "
                          f"{settings.importance_decay:g}^i; {settings.steps:,} steps, lr {settings.lr:g}, batch "
                          f"{settings.batch_size}" + (f", seed {settings.seed}" if settings.seed else "")),
                  segments=segments)
    snap_times = training_keyframes(runs[0].snapshot_steps, tl.segment_start("training"), settings.training_seconds)
    tl.tracks["wtw"] = Track(snap_times, wtw)
    tl.tracks["bias"] = Track(snap_times, bias)
    tl.tracks["step"] = Track(snap_times, np.asarray(runs[0].snapshot_steps, dtype=np.int64), "step")
    # Which row is highlighted, as opacity keyframes [keys, rows].
    t0, t1, t2 = (tl.segment_start(k) for k in ("tied", "untied", "summary"))
    tl.tracks["highlight"] = Track(np.array([0.0, t0, t0 + 1.0, t1, t1 + 1.0, t2, t2 + 1.0]),
                                   np.array([[0, 0], [0, 0], [1, 0], [1, 0], [0, 1], [0, 1], [0, 0]], dtype=float))
    tl.arrays.update(
        feature_probability=probs, importance=np.asarray(runs[0].importance, dtype=float),
        n_read_back=n_rep.astype(np.int64), max_positive_interference=stats["max_positive"],
        most_negative_interference=stats["most_negative"], asymmetry=stats["asymmetry"],
        sparse=sparse,
    )
    tl.meta.update(claims={"dense_top": dense_top, "superposed": superposed, "antipodal": antipodal,
                           "far_negative": far_negative},
                   dropped=[{"panel": k, "features": lost, "max_fire_rate": rate} for k, lost, rate in dropped])
    vmax_bias = float(max(np.abs(bias).max(), 1e-6))
    tl.meta.update(
        panel_labels=[f"1\u2212S = {_fmt_p(p)}" for p in probs], row_names=[ROW_NAMES[k] for k in MODELS],
        row_matrices=[ROW_MATRICES[k] for k in MODELS], wtw_vmax=1.0, bias_vmax=vmax_bias,
        n_features=n, n_hidden=m, total_steps=int(settings.steps), n_instances=n_inst,
        settings={k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(settings).items()},
    )
    return tl.validate()
