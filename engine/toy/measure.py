"""Geometry of trained toy-model weights (pure numpy; W is [instances, features, hidden]).

Definitions follow Elhage et al. 2022: W_i is feature i's direction, W_i_hat = W_i / ||W_i||.
"""
from __future__ import annotations

import numpy as np
from jaxtyping import Float, Int

_EPS = 1e-12

# Feature dimensionalities of the uniform polytopes the paper found features "sticking" to:
# dedicated dimension, tetrahedron, triangle, antipodal pair, pentagon, square antiprism, and 1/3.
STICKY_DIMENSIONALITIES = (1.0, 3 / 4, 2 / 3, 1 / 2, 2 / 5, 3 / 8, 1 / 3)


def feature_norms(W: Float[np.ndarray, "instances features hidden"]) -> Float[np.ndarray, "instances features"]:
    """||W_i||: about 1 for a represented feature, about 0 for an ignored one."""
    return np.linalg.norm(W, axis=-1)


def _projections(W: np.ndarray) -> Float[np.ndarray, "instances features features"]:
    """P[i, j] = W_i_hat . W_j (rows of a zero-norm feature are zero)."""
    unit = W / np.maximum(feature_norms(W), _EPS)[..., None]
    return unit @ np.swapaxes(W, -1, -2)


def interference(W: Float[np.ndarray, "instances features hidden"]) -> Float[np.ndarray, "instances features"]:
    """sum_{j != i} (W_i_hat . W_j)^2: how much other features leak into feature i's direction."""
    squared = _projections(W) ** 2
    return squared.sum(-1) - np.diagonal(squared, axis1=-2, axis2=-1)


def feature_dimensionality(W: Float[np.ndarray, "instances features hidden"]
                           ) -> Float[np.ndarray, "instances features"]:
    """D_i = ||W_i||^2 / sum_j (W_i_hat . W_j)^2: the fraction of a dimension feature i owns (0 if unrepresented)."""
    denominator = (_projections(W) ** 2).sum(-1)
    return np.where(denominator > _EPS, feature_norms(W) ** 2 / np.maximum(denominator, _EPS), 0.0)


def dimensions_per_feature(W: Float[np.ndarray, "instances features hidden"]) -> Float[np.ndarray, "instances"]:
    """D* = m / ||W||_F^2 (||W||_F^2 roughly counts represented features): 1 without superposition."""
    return W.shape[-1] / np.maximum((W ** 2).sum(axis=(-2, -1)), _EPS)


def n_represented(W: Float[np.ndarray, "instances features hidden"], threshold: float = 0.5
                  ) -> Int[np.ndarray, "instances"]:
    """Number of features with ||W_i|| > threshold."""
    return (feature_norms(W) > threshold).sum(-1)


def cosine_similarity(W: Float[np.ndarray, "instances features hidden"]) -> Float[np.ndarray, "instances features features"]:
    """cos(W_i, W_j); zero for a zero-norm feature."""
    unit = W / np.maximum(feature_norms(W), _EPS)[..., None]
    return unit @ np.swapaxes(unit, -1, -2)


def neuron_monosemanticity(W: Float[np.ndarray, "instances features neurons"]) -> Float[np.ndarray, "instances neurons"]:
    """Share of a neuron's squared input weight carried by its strongest feature: max_i W_ik^2 / sum_i W_ik^2.

    1 means the neuron reads one feature (monosemantic); 1/features means it reads all equally.
    Dead neurons (all weights ~0) are NaN: they are neither.
    """
    squared = W ** 2
    total = squared.sum(-2)
    return np.where(total > 1e-6, squared.max(-2) / np.maximum(total, _EPS), np.nan)


def features_per_neuron(W: Float[np.ndarray, "instances features neurons"], threshold: float = 0.1
                        ) -> Int[np.ndarray, "instances neurons"]:
    """Features whose weight into a neuron exceeds ``threshold`` of that neuron's largest weight (polysemanticity count)."""
    magnitude = np.abs(W)
    strongest = magnitude.max(-2, keepdims=True)
    return ((magnitude > threshold * strongest) & (strongest > 1e-3)).sum(-2)


def nearest_sticky_distance(dimensionality: np.ndarray) -> np.ndarray:
    """Distance from each feature dimensionality to the nearest polytope value in STICKY_DIMENSIONALITIES."""
    sticky = np.asarray(STICKY_DIMENSIONALITIES)
    return np.abs(np.asarray(dimensionality)[..., None] - sticky).min(-1)


def self_gain(W: Float[np.ndarray, "instances features hidden"],
              W2: Float[np.ndarray, "instances features hidden"] | None = None) -> Float[np.ndarray, "instances features"]:
    """Diagonal of W2 W^T (W W^T when tied): how strongly feature i's input reaches its own output.

    For untied models the encoder norm alone is not scale-free (W can shrink while W2 grows), so
    count represented features there with ``self_gain > 0.5``; for tied models it is ||W_i||^2.
    """
    decoder = W if W2 is None else W2
    return np.einsum("ifh,ifh->if", decoder, W)


def negative_bias_share(b: Float[np.ndarray, "instances features"], represented: np.ndarray, threshold: float = 0.05
                        ) -> Float[np.ndarray, "instances"]:
    """Share of each model's represented features whose bias is below -threshold (0 where none is represented).

    A negative bias is how a ReLU model filters positive interference (Elhage et al. 2022); antipodal pairs
    interfere only negatively, which the ReLU removes without one, so their biases stay near 0.
    """
    represented = np.asarray(represented, dtype=bool)
    negative = (np.asarray(b) < -threshold) & represented
    return negative.sum(-1) / np.maximum(represented.sum(-1), 1)



def output_fire_rate(gram: Float[np.ndarray, "features features"], b: Float[np.ndarray, "features"],
                     probability: float, n_samples: int = 65_536, seed: int = 0) -> Float[np.ndarray, "features"]:
    """Share of inputs drawn as in training (x_i = 0 w.p. 1 - p, else uniform [0, 1]) on which each output's ReLU fires.

    An output that almost never fires gets almost no gradient: a feature dropped that way is stuck (a dead
    unit, a local minimum), not merely under-trained. Seeded numpy draws, so the rate is reproducible.
    """
    rng = np.random.default_rng(seed)
    n = len(b)
    x = (rng.random((n_samples, n)) < probability) * rng.random((n_samples, n))
    return ((x @ np.asarray(gram, dtype=float).T + np.asarray(b, dtype=float)) > 0).mean(0)
