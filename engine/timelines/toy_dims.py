"""Timeline for dimensions per feature against sparsity: the D* curve, its plateaus, and each feature's D_i.

One batched run trains a model per sparsity (equal importance, n features in m dimensions). For each
it measures D* = m / ||W||_F^2 and every feature's dimensionality D_i = ||W_i||^2 / sum_j (W_i_hat . W_j)^2
(Elhage et al. 2022). The paper used far larger models; 12 features in 4 dimensions is the smallest
size that still shows the 1 and 1/2 plateaus and features sticking at 3/4, 2/3, 2/5, 3/8 and 1/3, and it
trains in about 20 s on one CPU core.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction

import numpy as np

from engine.timeline import Segment, Timeline, Track

KIND = "toy.dimensionality"


@dataclass(frozen=True)
class DimsSettings:
    """One model per sparsity, log-spaced from dense (1/(1-S) = 1) to 1/(1-S) = max_inverse_density."""

    n_features: int = 12
    n_hidden: int = 4
    importance_decay: float = 1.0
    n_densities: int = 28
    max_inverse_density: float = 16.0
    steps: int = 2500
    batch_size: int = 256
    lr: float = 5e-3
    seed: int = 0
    represented_threshold: float = 0.5
    plateau_tolerance: float = 0.035  # |D* - plateau| below this counts as on the plateau
    sticky_tolerance: float = 0.01  # |D_i - value| below this counts as sitting at a sticky value (vs. chance)
    sticky_min_features: int = 4  # label a sticky value only if this many features sit in verified polytopes there
    pairs_on_plateau: float = 0.9  # say "antipodal pairs" on the 1/2 plateau only if this share is verified pairs

    def validate(self) -> None:
        """Reject bad user choices in one line before anything is trained."""
        from engine.timelines.errors import SettingsError
        from engine.toy import ToyConfigError
        if not (isinstance(self.n_densities, int) and 4 <= self.n_densities <= 200):
            raise SettingsError(f"n_densities={self.n_densities!r}: give a whole number from 4 to 200 (models along the curve)")
        if not (2 <= self.max_inverse_density <= 1000):
            raise SettingsError(f"max_inverse_density={self.max_inverse_density!r}: give 1/(1-S) of the sparsest model, "
                                "from 2 to 1000 (e.g. 16 for 1-S = 1/16)")
        if not (self.represented_threshold > 0 and self.plateau_tolerance > 0 and self.sticky_tolerance > 0):
            raise SettingsError("represented_threshold, plateau_tolerance and sticky_tolerance must be positive")
        try:
            self.toy_config().validate()
        except ToyConfigError as e:
            raise SettingsError(str(e)) from None

    def densities(self) -> np.ndarray:
        """Feature probabilities 1 - S, from 1 down to 1 / max_inverse_density, log-spaced."""
        return np.geomspace(1.0, 1.0 / self.max_inverse_density, self.n_densities)

    def toy_config(self):
        from engine.toy import ToyConfig
        return ToyConfig(model="relu", n_features=self.n_features, n_hidden=self.n_hidden,
                         importance_decay=self.importance_decay,
                         feature_probability=tuple(float(p) for p in self.densities()), steps=self.steps,
                         batch_size=self.batch_size, lr=self.lr, seed=self.seed, n_snapshots=2)


def plateau_range(x: np.ndarray, d_star: np.ndarray, level: float, tolerance: float) -> np.ndarray:
    """[low, high] of the longest run of consecutive x where |D* - level| < tolerance, or [nan, nan]."""
    on = np.abs(d_star - level) < tolerance
    best, start = (0, -1, -1), None
    for i, flag in enumerate(np.append(on, False)):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start > best[0]:
                best = (i - start, start, i - 1)
            start = None
    return np.array([x[best[1]], x[best[2]]]) if best[0] else np.array([np.nan, np.nan])


def _span(r: np.ndarray) -> str:
    return f"up to 1/(1\u2212S) \u2248 {r[1]:.2g}" if r[0] <= 1 + 1e-9 else f"from {r[0]:.2g} to {r[1]:.2g}"


def fraction(value: float) -> str:
    """d/k as the fraction it is ("3/8"), for labels."""
    f = Fraction(value).limit_denominator(24)
    return str(f.numerator) if f.denominator == 1 else f"{f.numerator}/{f.denominator}"


def plateau_caption(plateau_1: np.ndarray, plateau_half: np.ndarray, pairs: bool = True) -> str:
    """What the plateau phase highlights, mentioning only plateaus the curve has (and pairs only if verified)."""
    parts = []
    if not np.isnan(plateau_1[0]):
        parts.append(f"D* is 1 for dense features ({_span(plateau_1)})")
    if not np.isnan(plateau_half[0]):
        parts.append(f"{'and ' if parts else 'D* '}sticks at 1/2 ({_span(plateau_half)})"
                     + (", where features form antipodal pairs: two per dimension" if pairs else ""))
    return (" ".join(parts) + ".") if parts else "D* has no plateau at 1 or 1/2 over these sparsities."


def sticky_caption(share: float, window: tuple[float, float], tolerance: float) -> str:
    """The share of features in verified polytopes (ringed), then the D_i clustering against chance."""
    return (f"Ringed: features in polytopes verified from W (equal norms, the shape\u2019s angles, orthogonal to the "
            f"rest), {share:.0%} of those represented. D\u1d62 within \u00b1{tolerance:g} of a polytope fraction: "
            f"{window[0]:.0%}; a uniform spread over the same range: {window[1]:.0%}.")


def polytope_summary(W: np.ndarray, represented: np.ndarray, D: np.ndarray, settings: DimsSettings) -> dict:
    """Everything the sticky captions and labels count, from the geometry: verified polytopes per feature, the
    values worth a label, and the D_i window share against a uniform spread over the same range."""
    from engine.toy import measure, polytopes

    membership = polytopes.classify(W, polytopes.PolytopeCriteria(represented=settings.represented_threshold))
    verified = membership.verified & represented
    counts = membership.counts()  # {(value, name): features}
    shown = [(v, name, c) for (v, name), c in counts.items() if c >= settings.sticky_min_features]
    observed, chance = polytopes.window_fraction(D[represented], np.asarray(measure.STICKY_DIMENSIONALITIES),
                                                 settings.sticky_tolerance)
    return {"membership": membership, "verified": verified, "shown": shown, "counts": list(counts.items()),
            "share": float(verified.sum() / max(represented.sum(), 1)),
            "window": (float(observed), float(chance))}


def build(settings: DimsSettings, progress: bool = False) -> Timeline:
    from engine.toy import measure, train_cached

    run = train_cached(settings.toy_config(), progress=progress)
    W = run.W
    probs = np.asarray(run.feature_probability, dtype=float)
    x = 1.0 / probs
    d_star = measure.dimensions_per_feature(W).astype(float)
    D = measure.feature_dimensionality(W).astype(float)
    norms = measure.feature_norms(W).astype(float)
    represented = norms > settings.represented_threshold
    n, m, K = settings.n_features, settings.n_hidden, len(probs)

    poly = polytope_summary(W.astype(float), represented, D, settings)
    membership, verified = poly["membership"], poly["verified"]
    # 1 and 1/2 have their own plateau lines; the others get a labelled line where verified polytopes sit.
    labelled = [(v, name, c) for v, name, c in poly["shown"] if abs(v - 1.0) > 1e-6 and abs(v - 0.5) > 1e-6]
    shown_sticky = np.array([v for v, _, _ in labelled], dtype=float)
    plateau_1 = plateau_range(x, d_star, 1.0, settings.plateau_tolerance)
    plateau_half = plateau_range(x, d_star, 0.5, settings.plateau_tolerance)
    on_half = (x >= plateau_half[0]) & (x <= plateau_half[1]) if not np.isnan(plateau_half[0]) else np.zeros(K, bool)
    pairs = membership.name[on_half] == "antipodal pair"
    pair_share = float(pairs[represented[on_half]].mean()) if represented[on_half].any() else 0.0
    clustered = poly["window"][0] >= 2 * poly["window"][1]

    segments = [
        Segment("axes", 3.5, f"{n} {'equally important ' if settings.importance_decay == 1 else ''}features in {m} "
                "dimensions, one model per sparsity. "
                "Left: dense features; right: sparse (x = 1/(1\u2212S), log scale).", "linear"),
        Segment("curve", 6.0, "Dimensions per feature D* = m / \u2016W\u2016\u00b2 (Frobenius norm, which roughly counts "
                "the features represented): 1 when dense, falling as features get sparser.", "linear"),
        Segment("features", 6.0, f"Each dot is one represented feature's dimensionality D\u1d62 (\u2016W\u1d62\u2016 > "
                f"{settings.represented_threshold:g}): the share of a dimension it gets."
                + (" They cluster on a few values." if clustered else ""), "linear"),
        Segment("plateaus", 5.5, plateau_caption(plateau_1, plateau_half, pair_share >= settings.pairs_on_plateau),
                "smooth"),
        Segment("sticky", 7.5, sticky_caption(poly["share"], poly["window"], settings.sticky_tolerance),
                "smooth"),
    ]
    tl = Timeline(kind=KIND, title="Dimensions per feature as features get sparse",
                  source=(f"Toy ReLU models: {n} features \u2192 {m} dims, "
                          + ("equal importance" if settings.importance_decay == 1 else f"importance {settings.importance_decay:g}^i")
                          + f", {K} sparsities; {settings.steps:,} steps, lr {settings.lr:g}, batch {settings.batch_size}"
                          + (f", seed {settings.seed}" if settings.seed else "")),
                  segments=segments)
    c0, f0, p0, s0 = (tl.segment_start(k) for k in ("curve", "features", "plateaus", "sticky"))
    tl.tracks["curve"] = Track(np.array([c0, c0 + tl.segments[1].duration]), np.array([0.0, 1.0]))
    tl.tracks["columns"] = Track(np.array([f0, f0 + tl.segments[2].duration * 0.9]), np.array([0.0, float(K)]))
    tl.tracks["plateau"] = Track(np.array([0.0, p0, p0 + 1.0]), np.array([0.0, 0.0, 1.0]))
    tl.tracks["sticky"] = Track(np.array([0.0, s0, s0 + 1.0]), np.array([0.0, 0.0, 1.0]))
    tl.arrays.update(
        feature_probability=probs, inverse_density=x, dims_per_feature=d_star, feature_dimensionality=D,
        feature_norms=norms, represented=represented, plateau_1=plateau_1, plateau_half=plateau_half,
        sticky_values=shown_sticky, sticky_counts=np.array([c for _, _, c in labelled], dtype=np.int64),
        in_polytope=verified,
    )
    tl.meta.update(
        n_features=n, n_hidden=m, sticky_labels=[fraction(v) for v in shown_sticky],
        sticky_names=[name for _, name, _ in labelled],
        polytope_share=poly["share"], polytope_counts=[[v, name, c] for (v, name), c in poly["counts"]],
        window_fraction=poly["window"][0], window_chance=poly["window"][1], antipodal_share_on_plateau=pair_share,
        settings={k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(settings).items()},
    )
    return tl.validate()
