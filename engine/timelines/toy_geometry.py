"""Timeline for the toy model's feature geometry: 5 features in 2 dimensions, over training, per sparsity.

The picture of the paper's introduction: dense features get two orthogonal directions, moderately
sparse ones form antipodal pairs, very sparse ones a regular pentagon. Each panel trains several
seeds at once and shows the one of lowest expected loss (geometry depends on the seed and on local
minima); the panel's final label is read off the trained weights, never assumed.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from engine.timeline import Segment, Timeline, Track

KIND = "toy.feature_geometry"
POLYGONS = {3: "triangle", 4: "square", 5: "pentagon", 6: "hexagon", 7: "heptagon", 8: "octagon"}
MAX_PANELS = 6


@dataclass(frozen=True)
class GeometrySettings:
    """What the video shows; the training is the ToyConfig it implies (one instance per panel and seed)."""

    n_features: int = 5
    n_hidden: int = 2
    importance_decay: float = 0.9
    feature_probability: tuple[float, ...] = (1.0, 0.3, 0.1, 0.03)
    seeds: int = 3  # per panel; the panel shows the seed of lowest expected loss
    steps: int = 4000
    batch_size: int = 256
    lr: float = 5e-3
    seed: int = 0
    n_snapshots: int = 40
    training_seconds: float = 10.0
    represented_threshold: float = 0.5
    loss_samples: int = 32_768

    def validate(self) -> None:
        """Reject bad user choices in one line before anything is trained."""
        from engine.timelines.errors import SettingsError
        from engine.toy import ToyConfigError
        if self.n_hidden != 2:
            raise SettingsError(f"n_hidden={self.n_hidden}: this scene draws feature vectors in a plane; use n_hidden=2")
        if not 1 <= len(self.feature_probability) <= MAX_PANELS:
            raise SettingsError(f"feature_probability has {len(self.feature_probability)} values; give 1 to {MAX_PANELS} "
                                "(one panel each), e.g. 1,0.3,0.1,0.03")
        if not (isinstance(self.seeds, int) and 1 <= self.seeds <= 16):
            raise SettingsError(f"seeds={self.seeds!r}: give a whole number from 1 to 16 (seeds trained per panel)")
        if not (self.training_seconds > 0 and self.represented_threshold > 0 and self.loss_samples >= 1024):
            raise SettingsError("training_seconds and represented_threshold must be positive and loss_samples >= 1024")
        try:
            self.toy_config().validate()
        except ToyConfigError as e:
            raise SettingsError(str(e)) from None

    def toy_config(self):
        """Instance k trains panel k // seeds with seed k % seeds (all in one batched run)."""
        from engine.toy import ToyConfig
        return ToyConfig(model="relu", n_features=self.n_features, n_hidden=self.n_hidden,
                         importance_decay=self.importance_decay,
                         feature_probability=tuple(np.repeat(np.asarray(self.feature_probability, float), self.seeds)),
                         steps=self.steps, batch_size=self.batch_size, lr=self.lr, seed=self.seed,
                         n_snapshots=self.n_snapshots)


def training_keyframes(steps: np.ndarray, start: float, duration: float, knee: float = 10.0) -> np.ndarray:
    """Times at which to show snapshots taken at ``steps``: log-like in the step beyond ``knee``, linear before it.

    The engine snapshots log-spaced steps (0, 1, 2, ... 12, 15, 19, ...); spacing them evenly in time would
    spend a third of the training phase on the first dozen steps, where little moves.
    """
    steps = np.asarray(steps, dtype=float)
    return start + duration * np.log1p(steps / knee) / np.log1p(max(steps[-1], 1.0) / knee)


def describe_geometry(W: np.ndarray, threshold: float = 0.5) -> str:
    """Name the arrangement of one model's 2-D feature vectors W [features, 2], as the paper does."""
    from engine.toy.experiments import polygon_regularity
    norms = np.linalg.norm(W, axis=-1)
    kept = W[norms > threshold]
    k = len(kept)
    if k < 2:
        return "1 feature" if k == 1 else "no features"
    unit = kept / np.linalg.norm(kept, axis=-1, keepdims=True)
    cos = unit @ unit.T
    if k == 2 and abs(cos[0, 1]) < 0.2:
        return "2 orthogonal"
    partner = cos < -0.95
    if k % 2 == 0 and partner.sum(1).min() == 1 and partner.sum(0).min() == 1:
        return "antipodal pair" if k == 2 else f"{k // 2} antipodal pairs"
    _, angle_error, norm_ratio = polygon_regularity(W, threshold)
    if k in POLYGONS and angle_error < 12 and norm_ratio < 1.3:
        return POLYGONS[k]
    return f"{k} features"


def left_out(W: np.ndarray, threshold: float = 0.5) -> str:
    """Which features the model leaves out, 1-based (feature 1 is the most important)."""
    out = np.flatnonzero(np.linalg.norm(W, axis=-1) <= threshold) + 1
    if len(out) == 0:
        return f"all {len(W)} features"
    if len(out) == 1:
        return f"feature {out[0]} left out"
    contiguous = np.all(np.diff(out) == 1)
    names = f"{out[0]}\u2013{out[-1]}" if contiguous and len(out) > 2 else ", ".join(str(i) for i in out)
    return f"features {names} left out"


def shapes_caption(shapes: list[str], n_represented: np.ndarray, n_hidden: int) -> str:
    """The last phase's caption, claiming only what the panels show (dense first, sparsest last)."""
    if shapes[0] == f"{n_hidden} orthogonal" and int(np.max(n_represented)) > n_hidden:
        return ("What formed: dense features get orthogonal directions; sparse features rarely co-occur, so the "
                "model can afford to share the plane and accept some interference.")
    return "What formed in each panel, read off the trained weights."


def _fmt_p(p: float) -> str:
    return f"{p:g}"


def build(settings: GeometrySettings, progress: bool = False) -> Timeline:
    from engine.toy import measure, train_cached
    from engine.toy.evaluate import per_feature_loss
    from engine.toy.experiments import polygon_regularity

    run = train_cached(settings.toy_config(), progress=progress)
    probs = np.asarray(settings.feature_probability, dtype=float)
    n_panels, seeds, n, m = len(probs), settings.seeds, settings.n_features, settings.n_hidden
    importance = np.asarray(run.importance, dtype=float)
    loss = (per_feature_loss(run, n_samples=settings.loss_samples) * importance).mean(-1).reshape(n_panels, seeds)
    chosen = loss.argmin(1)
    instances = np.arange(n_panels) * seeds + chosen
    W_hist = run.W_history[:, instances].astype(np.float32)  # [snap, panels, features, 2]
    W = run.W[instances]
    thr = settings.represented_threshold
    shapes = [describe_geometry(w, thr) for w in W]
    regularity = np.array([polygon_regularity(w, thr) for w in W], dtype=float)  # [panels, (k, angle err, ratio)]
    n_rep = measure.n_represented(W, thr)

    seed_note = (f"; best of {seeds} seeds" if seeds > 1 else "") + (f", seed {settings.seed}" if settings.seed else "")
    segments = [
        Segment("setup", 3.5, f"{n} features squeezed into {m} dimensions. Each arrow is one feature's direction W\u1d62 "
                "in the hidden plane, coloured by importance (key below). The circle marks length 1.", "linear"),
        Segment("training", settings.training_seconds, f"Training one model per feature density 1\u2212S: features "
                "that matter enough grow to length 1; the rest shrink towards 0.", "linear"),
        Segment("shapes", 6.0, shapes_caption(shapes, n_rep, m), "smooth"),
    ]
    tl = Timeline(kind=KIND, title=f"{n} features in {m} dimensions: geometry as sparsity rises",
                  source=(f"Toy ReLU model: {n} features \u2192 {m} dims, importance {settings.importance_decay:g}^i; "
                          f"{settings.steps:,} steps, lr {settings.lr:g}, batch {settings.batch_size}{seed_note}"),
                  segments=segments)
    t_train = tl.segment_start("training")
    snap_times = training_keyframes(run.snapshot_steps, t_train, settings.training_seconds)
    tl.tracks["W"] = Track(snap_times, W_hist)
    tl.tracks["step"] = Track(snap_times, np.asarray(run.snapshot_steps, dtype=np.int64), "step")
    tl.arrays.update(
        feature_probability=probs, importance=importance, chosen_seed=chosen.astype(np.int64),
        seed_loss=loss.astype(float), n_represented=np.asarray(n_rep, dtype=np.int64),
        feature_dimensionality=measure.feature_dimensionality(W).astype(float),
        angle_error=regularity[:, 1], norm_ratio=regularity[:, 2],
    )
    tl.meta.update(
        panel_labels=[f"1\u2212S = {_fmt_p(p)}" for p in probs], shapes=shapes,
        shape_details=[left_out(w, thr) for w in W], n_features=n, n_hidden=m,
        max_norm=float(np.linalg.norm(W_hist, axis=-1).max()), total_steps=int(settings.steps),
        settings={k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(settings).items()},
    )
    return tl.validate()
