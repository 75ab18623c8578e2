"""Phase diagram of 2 features in 1 hidden dimension (relu model), in theory and after training.

Feature 1 has importance 1, feature 2 ("the extra feature") importance r; both have density p.
Three solutions compete (the paper's Figure "phase change"):
    0 "not represented"      W = [1, 0]:   feature 2 ignored, its output a constant bias
    1 "dedicated dimension"  W = [0, 1]:   feature 2 takes the dimension, feature 1 is dropped
    2 "superposition"        W = [a, -c]:  antipodal pair; the ReLU removes its (negative) interference
Expected losses are exact over the presence pattern (none / one / both present) and over one
magnitude, Gauss-Legendre in the other; the superposition family is optimised with L-BFGS over
(a, c, b1, b2), batched over all cells. The optimum is the candidate of lowest loss.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch
from jaxtyping import Float, Int
from scipy.special import roots_legendre

from engine.toy.phase_grid import phase_grid_config, phase_grid_importance
from engine.toy.training import TRAIN_THREADS, ToyRun, torch_threads, train, train_cached

SOLUTIONS = ("not represented", "dedicated dimension", "superposition")
OTHER = 3   # a trained solution that is none of the three (e.g. nothing represented yet)
LABELS = SOLUTIONS + ("other",)
_QUADRATURE_POINTS = 48


@dataclass
class PhaseDiagram:
    """Which solution wins in each cell: ``label[importance, density]`` indexes LABELS."""

    densities: Float[np.ndarray, "densities"]          # feature probability 1 - S, both features
    importances: Float[np.ndarray, "importances"]      # importance of feature 2 relative to feature 1
    label: Int[np.ndarray, "importances densities"]
    loss: Float[np.ndarray, "importances densities"]   # expected loss of the chosen solution
    W: Float[np.ndarray, "importances densities 2"]    # weights of the chosen solution
    b: Float[np.ndarray, "importances densities 2"]
    instance: Int[np.ndarray, "importances densities"] | None = None   # trained: the run instance chosen per cell

    def fraction(self, solution: str) -> float:
        return float((self.label == LABELS.index(solution)).mean())


@functools.lru_cache(maxsize=4)
def _unit_interval_quadrature(n: int = _QUADRATURE_POINTS) -> tuple[torch.Tensor, torch.Tensor]:
    nodes, weights = roots_legendre(n)
    return torch.from_numpy((nodes + 1) / 2), torch.from_numpy(weights / 2)


def _mean_relu_power(alpha: torch.Tensor, beta: torch.Tensor, k: int) -> torch.Tensor:
    """Exact integral over t in [0, 1] of ReLU(alpha + beta t)^k (antiderivative ReLU(.)^(k+1) / ((k+1) beta))."""
    small = beta.abs() < 1e-6
    safe_beta = torch.where(small, torch.full_like(beta, 1e-6), beta)
    exact = (torch.relu(alpha + safe_beta) ** (k + 1) - torch.relu(alpha) ** (k + 1)) / ((k + 1) * safe_beta)
    return torch.where(small, torch.relu(alpha + beta / 2) ** k, exact)


def _both_present_term(u: torch.Tensor, q: torch.Tensor, own: torch.Tensor, bias: torch.Tensor,
                       cross: torch.Tensor) -> torch.Tensor:
    """E over x_i, x_j ~ U[0, 1] of (x_i - ReLU(own x_i + cross x_j + bias))^2: exact in x_j, quadrature in x_i."""
    alpha = own * u + bias
    return (u ** 2 - 2 * u * _mean_relu_power(alpha, cross, 1) + _mean_relu_power(alpha, cross, 2)) @ q


def expected_loss_torch(W: torch.Tensor, b: torch.Tensor, density: torch.Tensor, importance2: torch.Tensor
                        ) -> torch.Tensor:
    """E[0.5 * sum_i I_i (x_i - ReLU(W_i (W . x) + b_i))^2] for [cells, 2] tied weights with 1 hidden unit.

    Exact over which features are present (none / one / both); over magnitudes, exact in one
    variable and Gauss-Legendre in the other.
    """
    u, q = _unit_interval_quadrature()
    w1, w2, b1, b2 = W[:, 0, None], W[:, 1, None], b[:, 0, None], b[:, 1, None]
    p, r = density, importance2
    cross = w1 * w2
    alone1 = (u - torch.relu(w1 ** 2 * u + b1)) ** 2 @ q
    alone2 = (u - torch.relu(w2 ** 2 * u + b2)) ** 2 @ q
    leak_into_1 = _mean_relu_power(b1, cross, 2)[:, 0]      # feature 1 absent, feature 2 present
    leak_into_2 = _mean_relu_power(b2, cross, 2)[:, 0]
    none = torch.relu(b1[:, 0]) ** 2 + r * torch.relu(b2[:, 0]) ** 2
    one = alone1 + r * leak_into_2 + r * alone2 + leak_into_1
    both = _both_present_term(u, q, w1 ** 2, b1, cross) + r * _both_present_term(u, q, w2 ** 2, b2, cross)
    return 0.5 * ((1 - p) ** 2 * none + p * (1 - p) * one + p ** 2 * both)


def expected_loss(W: np.ndarray, b: np.ndarray, density: np.ndarray, importance2: np.ndarray) -> np.ndarray:
    """numpy front end of :func:`expected_loss_torch`; W is [cells, 2] or [cells, 2, 1]."""
    as_tensor = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float64))  # noqa: E731
    W = np.asarray(W).reshape(len(W), 2)
    with torch.no_grad():
        return expected_loss_torch(as_tensor(W), as_tensor(b), as_tensor(density), as_tensor(importance2)).numpy()


def _optimise_superposition(density: np.ndarray, importance2: np.ndarray, max_iter: int = 150
                            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best antipodal solution per cell: several starts, all cells optimised in one L-BFGS program."""
    starts = np.array([[1.0, -1.0, -0.1, -0.1], [1.0, -0.5, -0.05, 0.0], [0.5, -1.0, 0.0, -0.05],
                       [1.2, -1.2, -0.4, -0.4]])
    n_cells, n_starts = len(density), len(starts)
    params = torch.tensor(np.tile(starts, (n_cells, 1)), dtype=torch.float64, requires_grad=True)
    p = torch.as_tensor(np.repeat(density, n_starts), dtype=torch.float64)
    r = torch.as_tensor(np.repeat(importance2, n_starts), dtype=torch.float64)
    # Cells' losses span orders of magnitude; dividing each by the variance of its inputs gives every
    # cell the same weight in the one joint objective, so sparse cells converge as fast as dense ones.
    scale = (p / 3 - p ** 2 / 4) * (1 + r)
    optimizer = torch.optim.LBFGS([params], lr=1, max_iter=max_iter, tolerance_grad=1e-12, tolerance_change=1e-15,
                                  history_size=20, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = (expected_loss_torch(params[:, :2], params[:, 2:], p, r) / scale).sum()
        loss.backward()
        return loss

    with torch_threads(TRAIN_THREADS):
        optimizer.step(closure)
    with torch.no_grad():
        loss = expected_loss_torch(params[:, :2], params[:, 2:], p, r).reshape(n_cells, n_starts)
        best = loss.argmin(1)
        chosen = params.detach().reshape(n_cells, n_starts, 4)[torch.arange(n_cells), best]
    return chosen[:, :2].numpy(), chosen[:, 2:].numpy(), loss[torch.arange(n_cells), best].numpy()


def classify(W: Float[np.ndarray, "cells 2"], threshold: float = 0.5) -> Int[np.ndarray, "cells"]:
    """Label weights by geometry: which features have norm > threshold, and whether they are antipodal."""
    W = np.asarray(W).reshape(len(W), 2)
    kept = np.abs(W) > threshold
    label = np.full(len(W), OTHER)
    label[kept[:, 0] & ~kept[:, 1]] = 0
    label[~kept[:, 0] & kept[:, 1]] = 1
    label[kept[:, 0] & kept[:, 1] & (W[:, 0] * W[:, 1] < 0)] = 2
    return label


def analytic_phase_diagram(densities: np.ndarray, importances: np.ndarray) -> PhaseDiagram:
    """Optimal solution per (importance, density) cell: argmin over the three candidates' expected losses."""
    densities, importances = np.asarray(densities, float), np.asarray(importances, float)
    r, p = (a.ravel() for a in np.meshgrid(importances, densities, indexing="ij"))
    n = len(p)
    candidates_W = [np.tile([1.0, 0.0], (n, 1)), np.tile([0.0, 1.0], (n, 1))]
    # Within each non-superposed family the ignored feature's best output is its mean, p/2.
    candidates_b = [np.stack([np.zeros(n), p / 2], 1), np.stack([p / 2, np.zeros(n)], 1)]
    W_sup, b_sup, loss_sup = _optimise_superposition(p, r)
    losses = np.stack([expected_loss(candidates_W[0], candidates_b[0], p, r),
                       expected_loss(candidates_W[1], candidates_b[1], p, r), loss_sup], 1)
    # Superposition wins only if it is a genuine antipodal pair that beats both by a margin
    # (otherwise the optimiser has merely slid onto one of the other two solutions).
    genuine = classify(W_sup) == 2
    losses[~genuine, 2] = np.inf
    label = losses.argmin(1)
    margin = losses[:, 2] < np.minimum(losses[:, 0], losses[:, 1]) * (1 - 1e-3)
    label[(label == 2) & ~margin] = losses[(label == 2) & ~margin, :2].argmin(1)
    W = np.choose(label[:, None], [candidates_W[0], candidates_W[1], W_sup])
    b = np.choose(label[:, None], [candidates_b[0], candidates_b[1], b_sup])
    shape = (len(importances), len(densities))
    return PhaseDiagram(densities, importances, label.reshape(shape), losses[np.arange(n), label].reshape(shape),
                        W.reshape(shape + (2,)), b.reshape(shape + (2,)))


def analytic_phase_diagram_cached(densities: np.ndarray, importances: np.ndarray) -> PhaseDiagram:
    """:func:`analytic_phase_diagram` through ``ArrayCache("toy-phase")`` (a fine grid takes seconds)."""
    import sys

    from engine.cache import ArrayCache, cache_key, source_fingerprint
    densities, importances = np.asarray(densities, float), np.asarray(importances, float)
    key = cache_key(densities, importances, source_fingerprint(sys.modules[__name__]), torch.__version__)

    def build() -> tuple[dict[str, np.ndarray], dict]:
        d = analytic_phase_diagram(densities, importances)
        return {"label": d.label, "loss": d.loss, "W": d.W, "b": d.b}, {}

    arrays, _ = ArrayCache("toy-phase").get_or_build(key, build)
    return PhaseDiagram(densities, importances, arrays["label"], arrays["loss"], arrays["W"], arrays["b"])


def phase_grid_run(densities: np.ndarray, importances: np.ndarray, seeds: int = 2, cached: bool = True,
                   progress: bool = False, **overrides) -> ToyRun:
    """The batched training run behind :func:`trained_phase_diagram` (its W_history animates the grid)."""
    config = phase_grid_config(densities, importances, seeds, **overrides)
    importance = phase_grid_importance(densities, importances, seeds)
    return (train_cached if cached else train)(config, progress=progress, importance=importance)


def trained_phase_diagram(densities: np.ndarray, importances: np.ndarray, seeds: int = 2,
                          cached: bool = True, progress: bool = False, **overrides) -> PhaseDiagram:
    """Train every cell ``seeds`` times in one batched run; keep the seed of lowest expected loss."""
    densities, importances = np.asarray(densities, float), np.asarray(importances, float)
    run = phase_grid_run(densities, importances, seeds, cached=cached, progress=progress, **overrides)
    importance = run.importance
    W, b = run.W[:, :, 0].astype(np.float64), run.b.astype(np.float64)
    loss = expected_loss(W, b, run.feature_probability, importance[:, 1])
    shape = (len(importances), len(densities), seeds)
    best = loss.reshape(shape).argmin(-1)
    pick = lambda a: np.take_along_axis(a.reshape(shape + a.shape[1:]),  # noqa: E731
                                        best.reshape(shape[:2] + (1,) * (a.ndim)), axis=2)[:, :, 0]
    instance = np.arange(len(loss)).reshape(shape)[np.arange(shape[0])[:, None], np.arange(shape[1]), best]
    return PhaseDiagram(densities, importances, classify(pick(W).reshape(-1, 2)).reshape(shape[:2]),
                        pick(loss), pick(W), pick(b), instance)


def agreement(theory: PhaseDiagram, trained: PhaseDiagram) -> float:
    """Fraction of cells where the trained solution is the analytic optimum."""
    return float((theory.label == trained.label).mean())


def default_axes(n_densities: int = 12, n_importances: int = 12) -> tuple[np.ndarray, np.ndarray]:
    """The paper's axes: density 1-S from 0.01 to 1 and relative importance 0.1 to 10, both log-spaced."""
    return np.geomspace(0.01, 1.0, n_densities), np.geomspace(0.1, 10.0, n_importances)
