"""The paper's results at full settings, on demand: ``python -m engine.toy.experiments NAME``.

Each experiment trains (through the cache) and prints a summary computed by a pure function of
the runs; the tests apply the same summaries to reduced, faster configs. ``SCENE_CONFIGS`` lists
what the video scenes need, so a benchmark or a warm-up can train it all.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Callable, Sequence

import numpy as np

from engine.toy import measure
from engine.toy.config import ToyConfig
from engine.toy.phase import (LABELS, PhaseDiagram, agreement, analytic_phase_diagram_cached, default_axes,
                              phase_grid_config, phase_grid_importance, trained_phase_diagram)
from engine.toy.training import ToyRun, train_cached

# --- configurations (full settings: AdamW 1e-3, batch 1024, 10,000 steps unless stated) -------------
SUPERPOSITION_20_5 = ToyConfig()                                     # 20 -> 5, importance 0.7^i
LINEAR_20_5 = SUPERPOSITION_20_5.replace(model="linear")
UNTIED_20_5 = SUPERPOSITION_20_5.replace(model="untied")
GEOMETRY_5_2 = ToyConfig(n_features=5, n_hidden=2, importance_decay=0.9,
                         feature_probability=(1.0, 0.3, 0.1, 0.05, 0.03, 0.01))
# Equal importance, density from 1 down to 1/50: the paper's dimensionality sweep, scaled down to
# 12 features in 4 dimensions (D* passes 1/2 = antipodal pairs, 3/8 = square antiprism, 1/3).
DIMENSIONALITY = ToyConfig(n_features=12, n_hidden=4, importance_decay=1.0,
                           feature_probability=tuple(np.round(50.0 ** -np.linspace(0, 1, 12), 4).tolist()))
NEURON = ToyConfig(model="neuron", n_features=10, n_hidden=5, importance_decay=0.75,
                   feature_probability=(1.0, 0.3, 0.1, 0.03, 0.01))
CORRELATED = ToyConfig(n_features=4, n_hidden=2, importance_decay=1.0, correlation="correlated",
                       feature_probability=(0.1,) * 8)               # 8 instances = 8 seeds
ANTICORRELATED = CORRELATED.replace(correlation="anticorrelated")
ABS = ToyConfig(model="abs", n_features=10, n_hidden=5, importance_decay=0.8,
                feature_probability=(1.0, 0.3, 0.1, 0.03))
PHASE_DENSITIES, PHASE_IMPORTANCES = default_axes(10, 10)
PHASE_SEEDS = 2

SCENE_CONFIGS: dict[str, ToyConfig] = {
    "superposition-20-5 relu": SUPERPOSITION_20_5, "superposition-20-5 untied": UNTIED_20_5,
    "geometry-5-2": GEOMETRY_5_2, "dimensionality": DIMENSIONALITY,
    "phase-diagram grid": phase_grid_config(PHASE_DENSITIES, PHASE_IMPORTANCES, PHASE_SEEDS),
}


def train_scene_run(name: str, progress: bool = False) -> ToyRun:
    """Train (or load from the cache) one of the runs in SCENE_CONFIGS."""
    importance = (phase_grid_importance(PHASE_DENSITIES, PHASE_IMPORTANCES, PHASE_SEEDS)
                  if name.startswith("phase") else None)
    return train_cached(SCENE_CONFIGS[name], progress=progress, importance=importance)


def train_scene_runs(progress: bool = False) -> dict[str, ToyRun]:
    """Train (or load) every run the scenes need."""
    return {name: train_scene_run(name, progress) for name in SCENE_CONFIGS}


# --- summaries: pure functions of trained runs -------------------------------------------------------
def superposition_summary(relu: ToyRun, linear: ToyRun, top_k: int = 5) -> dict[str, Any]:
    """Per instance: how many features each model keeps, whether the dense relu keeps exactly the top k,
    the relu's most negative bias and its dimensions per feature."""
    norms = measure.feature_norms(relu.W)
    kept = norms > 0.5
    return {
        "density": relu.feature_probability.tolist(),
        "relu_represented": measure.n_represented(relu.W).tolist(),
        "relu_keeps_exactly_top_k": [bool(k[:top_k].all() and not k[top_k:].any()) for k in kept],
        "relu_min_bias": relu.b.min(-1).round(3).tolist(),
        "relu_dims_per_feature": measure.dimensions_per_feature(relu.W).round(3).tolist(),
        "linear_represented": measure.n_represented(linear.W).tolist(),
        "linear_keeps_exactly_top_k": [bool(k[:top_k].all() and not k[top_k:].any())
                                       for k in measure.feature_norms(linear.W) > 0.5],
    }


def polygon_regularity(W: np.ndarray, threshold: float = 0.5) -> tuple[int, float, float]:
    """For 2-D features: (how many represented, worst deviation of neighbour angles from 360/k in degrees,
    max/min norm ratio among them)."""
    norms = np.linalg.norm(W, axis=-1)
    kept = W[norms > threshold]
    if len(kept) < 2:
        return len(kept), float("nan"), float("nan")
    angles = np.sort(np.degrees(np.arctan2(kept[:, 1], kept[:, 0])))
    gaps = np.diff(np.append(angles, angles[0] + 360))
    spread = norms[norms > threshold]
    return len(kept), float(np.abs(gaps - 360 / len(kept)).max()), float(spread.max() / spread.min())


def geometry_summary(run: ToyRun) -> dict[str, Any]:
    """Per instance of a 2-D model: represented features, their angular regularity and norm spread."""
    rows = [polygon_regularity(W) for W in run.W]
    return {"density": run.feature_probability.tolist(), "represented": [r[0] for r in rows],
            "worst_angle_error_deg": [round(r[1], 1) for r in rows], "norm_ratio": [round(r[2], 3) for r in rows],
            "dims_per_feature": measure.dimensions_per_feature(run.W).round(3).tolist()}


def sticky_fraction(W: np.ndarray, tolerance: float = 0.05) -> np.ndarray:
    """Per instance, the share of represented features whose dimensionality sits at a polytope value."""
    D, kept = measure.feature_dimensionality(W), measure.feature_norms(W) > 0.5
    near = measure.nearest_sticky_distance(D) < tolerance
    return np.array([near[i][kept[i]].mean() if kept[i].any() else np.nan for i in range(len(W))])


def dimensionality_summary(run: ToyRun) -> dict[str, Any]:
    D = measure.feature_dimensionality(run.W)
    return {"density": run.feature_probability.tolist(),
            "dims_per_feature": measure.dimensions_per_feature(run.W).round(3).tolist(),
            "represented": measure.n_represented(run.W).tolist(),
            "sticky_fraction": sticky_fraction(run.W).round(2).tolist(),
            "median_feature_dimensionality": [round(float(np.median(d[d > 0.05])), 3) if (d > 0.05).any() else 0.0
                                              for d in D]}


def neuron_summary(run: ToyRun) -> dict[str, Any]:
    mono = measure.neuron_monosemanticity(run.W)
    return {"density": run.feature_probability.tolist(),
            "mean_monosemanticity": np.nanmean(mono, -1).round(3).tolist(),
            "monosemantic_neurons": (mono > 0.9).sum(-1).tolist(),
            "features_per_neuron": measure.features_per_neuron(run.W).mean(-1).round(2).tolist()}


def pair_cosines(run: ToyRun) -> np.ndarray:
    """[instances, pairs]: cosine between the two features of each (0, 1), (2, 3), ... pair."""
    cos = measure.cosine_similarity(run.W)
    i = np.arange(0, run.config.n_features, 2)
    return cos[:, i, i + 1]


def correlation_summary(correlated: ToyRun, anticorrelated: ToyRun, n_samples: int = 32_768) -> dict[str, Any]:
    """Within-pair cosines per instance (seed), the share of orthogonal / antipodal pairs, and the mean
    loss of instances whose pairs all went antipodal vs all orthogonal (which geometry the optimum is)."""
    from engine.toy.evaluate import per_feature_loss
    summary = {}
    for name, run in (("correlated", correlated), ("anticorrelated", anticorrelated)):
        cos = pair_cosines(run)
        loss = per_feature_loss(run, n_samples=n_samples) @ run.importance / run.config.n_features
        antipodal, orthogonal = (cos < -0.9).all(-1), (np.abs(cos) < 0.2).all(-1)
        summary[name] = {"pair_cosines": cos.round(2).tolist(),
                         "orthogonal_pairs": float((np.abs(cos) < 0.2).mean()),
                         "antipodal_pairs": float((cos < -0.9).mean()),
                         "loss_when_antipodal": float(loss[antipodal].mean()) if antipodal.any() else None,
                         "loss_when_orthogonal": float(loss[orthogonal].mean()) if orthogonal.any() else None}
    return summary


def abs_summary(run: ToyRun, n_samples: int = 65_536) -> dict[str, Any]:
    """How many features' |x| the hidden layer computes: summed explained variance (one feature computed
    exactly counts 1) against the n_hidden / 2 a superposition-free layer could (two ReLUs per |x|)."""
    from engine.toy.evaluate import explained_fraction
    explained = np.clip(explained_fraction(run, n_samples=n_samples), 0, 1)
    return {"density": run.feature_probability.tolist(), "features_computed": explained.sum(-1).round(2).tolist(),
            "features_at_least_quarter_computed": (explained > 0.25).sum(-1).tolist(),
            "without_superposition_at_most": run.config.n_hidden / 2}


def phase_summary(theory: PhaseDiagram, trained: PhaseDiagram) -> dict[str, Any]:
    return {"agreement": round(agreement(theory, trained), 3),
            "theory_fractions": {s: round(theory.fraction(s), 3) for s in LABELS},
            "trained_fractions": {s: round(trained.fraction(s), 3) for s in LABELS},
            "theory": theory.label.tolist(), "trained": trained.label.tolist()}


# --- experiments (full settings) ---------------------------------------------------------------------
def superposition_20_5(progress: bool = False) -> dict[str, Any]:
    summary = superposition_summary(train_cached(SUPERPOSITION_20_5, progress), train_cached(LINEAR_20_5, progress))
    untied = train_cached(UNTIED_20_5, progress)
    summary["untied_represented"] = (measure.self_gain(untied.W, untied.W2) > 0.5).sum(-1).tolist()
    return summary


def phase_diagrams(progress: bool = False) -> tuple[PhaseDiagram, PhaseDiagram]:
    """(theory, trained) on the scene's grid; both cached."""
    theory = analytic_phase_diagram_cached(PHASE_DENSITIES, PHASE_IMPORTANCES)
    trained = trained_phase_diagram(PHASE_DENSITIES, PHASE_IMPORTANCES, seeds=PHASE_SEEDS, progress=progress)
    return theory, trained


def experiment_phase_diagram(progress: bool = False) -> dict[str, Any]:
    return phase_summary(*phase_diagrams(progress))


EXPERIMENTS: dict[str, Callable[[bool], dict[str, Any]]] = {
    "superposition-20-5": superposition_20_5,
    "geometry-5-2": lambda progress=False: geometry_summary(train_cached(GEOMETRY_5_2, progress)),
    "dimensionality": lambda progress=False: dimensionality_summary(train_cached(DIMENSIONALITY, progress)),
    "phase-diagram": experiment_phase_diagram,
    "neuron": lambda progress=False: neuron_summary(train_cached(NEURON, progress)),
    "correlation": lambda progress=False: correlation_summary(train_cached(CORRELATED, progress),
                                                              train_cached(ANTICORRELATED, progress)),
    "abs": lambda progress=False: abs_summary(train_cached(ABS, progress)),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.toy.experiments",
                                     description="Reproduce a result of Toy Models of Superposition at full settings.")
    parser.add_argument("name", choices=[*EXPERIMENTS, "all"])
    parser.add_argument("--progress", action="store_true", help="progress bars while training")
    args = parser.parse_args(argv)
    for name in EXPERIMENTS if args.name == "all" else [args.name]:
        start = time.perf_counter()
        summary = EXPERIMENTS[name](args.progress or sys.stderr.isatty())
        print(json.dumps({"experiment": name, "seconds": round(time.perf_counter() - start, 1), **summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
