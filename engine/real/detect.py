"""Classify every neuron as dead, monosemantic, polysemantic or artifact, from an ActivationSet.

The rule, per neuron (thresholds are :class:`DetectionConfig` fields, justified in docs/activations.md):

1. **dead** if its robust peak (its ``peak_rank``-th highest activation, so one stray token cannot
   make it) is at most 0 or below ``dead_fraction`` of the layer's typical peak (the
   ``dead_reference_quantile`` quantile of all robust peaks: it never fires appreciably).
2. A token is *active* for the neuron if its activation is at least ``active_fraction`` of the
   robust peak. A concept's *rate* is the active activation mass per token of that concept, so
   long and short probe texts compare fairly.
3. The neuron *responds* to a concept if its rate is at least ``response_fraction`` of the
   neuron's best rate and at least ``min_active_tokens`` of the concept's tokens are active
   (its best concept always counts).
4. A response is *carried by shared tokens* if at least ``generic_share_min`` of its mass sits on
   generic token types (punctuation, special tokens, types found in most concepts; see
   ``tokens.py``) and that mass is concentrated on few types (effective number of types, the
   exponential of the entropy of the mass over types, at most ``few_types_max``).
   Otherwise it is carried by the concept's content.
5. Two or more content responses: **polysemantic**. Otherwise, any shared-token response:
   **artifact** (it looks like it responds to that concept only because of tokens every text
   has, e.g. the full stops of clinical notes). Otherwise: **monosemantic**.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from jaxtyping import Float
from scipy import sparse

from engine.real.activations import ActivationSet
from engine.real.report import ConceptResponse, NeuronReport, PolysemanticReport, TokenHit
from engine.real.tokens import GENERIC_CONCEPT_FRACTION, generic_types, token_type


@dataclass(frozen=True)
class DetectionConfig:
    """Named thresholds of the detector; the defaults are explained in docs/activations.md."""

    peak_rank: int = 3
    dead_fraction: float = 0.1
    dead_reference_quantile: float = 0.75
    active_fraction: float = 0.5
    response_fraction: float = 0.25
    min_active_tokens: int = 3
    generic_share_min: float = 0.7
    few_types_generic_share_min: float = 0.5
    few_types_max: float = 3.0
    generic_concept_fraction: float = GENERIC_CONCEPT_FRACTION
    top_tokens: int = 5


@dataclass(frozen=True)
class NeuronStats:
    """Everything the rule looks at, as arrays over concepts K and neurons N (kept for scenes and tests)."""

    concepts: tuple[str, ...]
    peak: Float[np.ndarray, "N"]
    threshold: Float[np.ndarray, "N"]
    dead: np.ndarray  # bool [N]
    rate: Float[np.ndarray, "K N"]
    active_tokens: np.ndarray  # int [K, N]
    generic_share: Float[np.ndarray, "K N"]
    effective_types: Float[np.ndarray, "K N"]
    responds: np.ndarray  # bool [K, N]
    shared: np.ndarray  # bool [K, N]: response carried by shared tokens


def _robust_peak(acts: Float[np.ndarray, "T N"], rank: int) -> Float[np.ndarray, "N"]:
    rank = min(rank, acts.shape[0])
    return np.partition(acts, acts.shape[0] - rank, axis=0)[acts.shape[0] - rank]


def _effective_types(masses: Float[np.ndarray, "U N"]) -> Float[np.ndarray, "N"]:
    """exp(entropy) of each column's distribution over types; 0 where there is no mass."""
    total = masses.sum(axis=0)
    p = np.divide(masses, total, out=np.zeros_like(masses), where=total > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=0)
    return np.where(total > 0, np.exp(entropy), 0.0)


#: Neurons are processed in column blocks of about this many activations, so memory stays
#: bounded (~100 MB) however large the token set is.
BLOCK_ELEMENTS = 1 << 24


def _concept_stats(a: Float[np.ndarray, "T n"], threshold: Float[np.ndarray, "n"], onehot: sparse.csr_matrix,
                   generic_token: np.ndarray, by_type: list[tuple[np.ndarray, sparse.csr_matrix]]):
    """Active mass, active count, generic mass and effective number of types per concept, for a block of neurons."""
    active = a >= threshold
    mass = np.where(active, a, 0.0).astype(np.float32)
    concept_mass = np.asarray(onehot @ mass)
    n_active = np.asarray(onehot @ active.astype(np.float32)).astype(np.int64)
    generic_mass = np.asarray(onehot @ (mass * generic_token[:, None]))
    effective = np.stack([_effective_types(np.asarray(types @ mass[rows])) for rows, types in by_type])
    return concept_mass, n_active, generic_mass, effective


def neuron_stats(acts: ActivationSet, config: DetectionConfig = DetectionConfig()) -> NeuronStats:
    """Vectorised statistics of every neuron on every concept (steps 1-4 of the rule)."""
    a = acts.activations
    concepts = acts.concepts
    index = {c: i for i, c in enumerate(concepts)}
    codes = np.array([index[c] for c in acts.concept.tolist()], dtype=np.int64)
    k, t = len(concepts), acts.n_tokens
    onehot = sparse.csr_matrix((np.ones(t, np.float32), (codes, np.arange(t))), shape=(k, t))
    counts = np.asarray(onehot.sum(axis=1)).ravel()
    types = np.array([token_type(s) for s in acts.token.tolist()])
    type_ids, generic = generic_types(types, codes, k, config.generic_concept_fraction)
    by_type = []  # per concept: its rows, and a [types of the concept, rows] sum-by-type matrix
    for c in range(k):
        rows = np.flatnonzero(codes == c)
        local_types, local_ids = np.unique(type_ids[rows], return_inverse=True)
        by_type.append((rows, sparse.csr_matrix((np.ones(len(rows), np.float32), (local_ids, np.arange(len(rows)))),
                                                shape=(len(local_types), len(rows)))))

    blocks = [slice(i, i + max(1, BLOCK_ELEMENTS // t)) for i in range(0, a.shape[1], max(1, BLOCK_ELEMENTS // t))]
    peak = np.concatenate([_robust_peak(a[:, b], config.peak_rank) for b in blocks])
    dead = (peak <= 0) | (peak < config.dead_fraction * np.quantile(peak, config.dead_reference_quantile))
    threshold = np.where(dead, np.inf, config.active_fraction * peak).astype(np.float32)
    parts = [_concept_stats(a[:, b], threshold[b], onehot, generic[type_ids], by_type) for b in blocks]
    concept_mass, n_active, generic_mass, effective = (np.concatenate(x, axis=1) for x in zip(*parts))

    rate = concept_mass / counts[:, None]
    generic_share = np.divide(generic_mass, concept_mass, out=np.zeros_like(concept_mass), where=concept_mass > 0)
    best = rate.max(axis=0)
    responds = (rate >= config.response_fraction * best) & (n_active >= config.min_active_tokens) & (best > 0)
    responds[rate.argmax(axis=0), np.arange(a.shape[1])] |= best > 0
    responds &= ~dead
    few_generic = (generic_share >= config.few_types_generic_share_min) & (effective <= config.few_types_max)
    shared = responds & ((generic_share >= config.generic_share_min) | few_generic)
    return NeuronStats(concepts=concepts, peak=peak, threshold=threshold, dead=dead, rate=rate,
                       active_tokens=n_active, generic_share=generic_share, effective_types=effective,
                       responds=responds, shared=shared)


def label_of(content: int, shared: int, dead: bool) -> str:
    """Step 5 of the rule, from the numbers of content and shared-token responses."""
    if dead:
        return "dead"
    if content >= 2:
        return "polysemantic"
    return "artifact" if shared else "monosemantic"


def _top_tokens(acts: ActivationSet, rows: np.ndarray, neuron: int, n: int, threshold: float) -> tuple[TokenHit, ...]:
    """The ``n`` strongest distinct active token types of a concept for one neuron, each at its best instance."""
    values = acts.activations[rows, neuron]
    hits, seen = [], set()
    for i in np.argsort(-values, kind="stable"):
        if values[i] < threshold:
            break
        kind = token_type(acts.token[rows[i]])
        if kind in seen:
            continue
        seen.add(kind)
        hits.append(TokenHit(token=str(acts.token[rows[i]]), activation=float(values[i]), index=int(rows[i])))
        if len(hits) == n:
            break
    return tuple(hits)


def _scores(rate: Float[np.ndarray, "K"]) -> tuple[float, float]:
    """(selectivity, effective number of concepts) of one neuron's concept rates."""
    total = rate.sum()
    if total <= 0:
        return 0.0, 0.0
    top = rate.max()
    rest = (total - top) / max(len(rate) - 1, 1)
    p = rate[rate > 0] / total
    return float((top - rest) / (top + rest)), float(np.exp(-(p * np.log(p)).sum()))


def detect(acts: ActivationSet, config: DetectionConfig = DetectionConfig()) -> PolysemanticReport:
    """Classify every neuron of ``acts`` (see the module docstring for the rule)."""
    stats = neuron_stats(acts, config)
    rows_of = {c: np.flatnonzero(acts.concept == c) for c in stats.concepts}
    neurons = []
    for n in range(acts.n_neurons):
        order = [int(c) for c in np.argsort(-stats.rate[:, n], kind="stable") if stats.responds[c, n]]
        responses = tuple(
            ConceptResponse(concept=stats.concepts[c], rate=float(stats.rate[c, n]),
                            share=float(stats.rate[c, n] / stats.rate[:, n].sum()),
                            active_tokens=int(stats.active_tokens[c, n]),
                            generic_share=float(stats.generic_share[c, n]),
                            effective_types=float(stats.effective_types[c, n]),
                            carried_by="shared tokens" if stats.shared[c, n] else "content",
                            top_tokens=_top_tokens(acts, rows_of[stats.concepts[c]], n, config.top_tokens,
                                                   float(stats.threshold[n])))
            for c in order)
        content = tuple(r.concept for r in responses if r.carried_by == "content")
        shared = tuple(r.concept for r in responses if r.carried_by != "content")
        selectivity, effective = _scores(stats.rate[:, n])
        neurons.append(NeuronReport(
            index=n, name=str(acts.neuron[n]), label=label_of(len(content), len(shared), bool(stats.dead[n])),
            concepts=tuple(r.concept for r in responses), content_concepts=content, artifact_concepts=shared,
            selectivity=selectivity, effective_concepts=effective, peak=float(stats.peak[n]),
            threshold=float(stats.threshold[n]) if not stats.dead[n] else None, responses=responses))
    return PolysemanticReport(source=acts.source, concepts=stats.concepts, n_tokens=acts.n_tokens,
                              config=config, neurons=tuple(neurons))
