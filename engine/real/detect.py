"""Classify every neuron as dead, broad, monosemantic, polysemantic or artifact - against chance.

The rule, per neuron (thresholds are :class:`DetectionConfig` fields, justified in docs/activations.md):

1. **dead** if its robust peak (its ``peak_rank``-th highest activation, so one stray token cannot
   make it) is at most 0 or below ``dead_fraction`` of the layer's typical peak (the
   ``dead_reference_quantile`` quantile of all robust peaks).
2. A token is *active* for the neuron if its activation is at least ``active_fraction`` of the
   robust peak. A concept's *rate* is the active activation mass per token of that concept.
3. The neuron *responds* to a tested concept only if that rate, minus the rate on its reference
   texts (the background concepts if the set has any, else all other texts), beats the permutation
   null of :mod:`engine.real.null` (concept labels shuffled across whole snippets of every concept
   of the set): one-sided p-value at most ``alpha`` divided by the number of tested concepts
   (Bonferroni; at least enough permutations to resolve that threshold), and at least
   ``min_active_tokens`` active tokens.
4. A response is *carried by tokens* (not by the concept) if at least ``token_share_max`` of its
   active mass sits on token types that the neuron also fires on where those types occur in
   other concepts' text: at least ``min_other_occurrences`` occurrences elsewhere, active there at
   least ``token_fraction`` as often as in the concept. Types the other texts do not contain are
   never counted as shared: the test is run on the tokens themselves. Nor is the concept's own
   vocabulary (a type it uses more than ``own_vocabulary_ratio`` times as often as the other texts,
   unless it is punctuation or a symbol): a neuron firing on 'house' wherever houses are mentioned
   answers the concept.
5. Two or more content responses: **polysemantic**. Otherwise any token-carried response:
   **artifact** (the lesson of the full stops of clinical notes). One content response:
   **monosemantic**. None: **broad** (it fires on text in general, or on nothing specific).

Every count comes with its chance level: the same classification of ``n_shuffles`` label-shuffled
copies of the data (:meth:`PolysemanticReport.chance`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from jaxtyping import Float
from scipy import sparse

from engine.real.activations import ActivationSet
from engine.real.null import (PermutationNull, contrasts, rates_for, required_permutations, shuffled_labels, sums_for,
                              units_of)
from engine.real.report import (Classification, ConceptResponse, NeuronReport, NullSummary, PolysemanticReport,
                                TokenHit, label_of)
from engine.real.tokens import is_symbolic, token_type


@dataclass(frozen=True)
class DetectionConfig:
    """Named thresholds of the detector; the defaults are explained in docs/activations.md."""

    peak_rank: int = 3
    dead_fraction: float = 0.1
    dead_reference_quantile: float = 0.75
    active_fraction: float = 0.5
    alpha: float = 0.05  # per neuron, Bonferroni-corrected over the tested concepts
    n_permutations: int = 2000
    n_shuffles: int = 20  # label-shuffled copies classified for every count's chance level
    seed: int = 0
    fallback_unit_tokens: int = 16  # unit size when the set has neither snippets nor images
    min_active_tokens: int = 3
    token_fraction: float = 0.5
    min_other_occurrences: int = 3
    token_share_max: float = 0.5
    own_vocabulary_ratio: float = 2.0  # a type used this many times more often in the concept is its own
    top_tokens: int = 5


@dataclass(frozen=True)
class NeuronStats:
    """Everything the rule looks at, over tested concepts K and neurons N (kept for scenes and tests)."""

    concepts: tuple[str, ...]
    background: tuple[str, ...]
    peak: Float[np.ndarray, "N"]
    threshold: Float[np.ndarray, "N"]
    dead: np.ndarray  # bool [N]
    rate: Float[np.ndarray, "K N"]
    active_tokens: np.ndarray  # int [K, N]
    p_value: Float[np.ndarray, "K N"]
    token_share: Float[np.ndarray, "K N"]  # of a response's mass on types the neuron answers elsewhere (0 if none)
    real: Classification
    shuffles: tuple[Classification, ...]
    null: NullSummary

    @property
    def responds(self) -> np.ndarray:
        return self.real.content | self.real.tokens


def _robust_peak(acts: Float[np.ndarray, "T N"], rank: int) -> Float[np.ndarray, "N"]:
    rank = min(rank, acts.shape[0])
    return np.partition(acts, acts.shape[0] - rank, axis=0)[acts.shape[0] - rank]


#: More permutations than this would take minutes on a layer: a stricter alpha must test fewer concepts.
MAX_PERMUTATIONS = 200_000

#: Neurons are processed in column blocks of about this many activations, so memory stays bounded.
BLOCK_ELEMENTS = 1 << 24


def _blocks(n_tokens: int, n_neurons: int) -> list[slice]:
    step = max(1, BLOCK_ELEMENTS // max(n_tokens, 1))
    return [slice(i, i + step) for i in range(0, n_neurons, step)]


class _TokenTest:
    """Step 4 of the rule for any labelling: which share of a response sits on types answered elsewhere."""

    def __init__(self, acts: ActivationSet, threshold: np.ndarray, config: DetectionConfig):
        self.a, self.threshold, self.config = acts.activations, threshold, config
        types = np.array([token_type(s) for s in acts.token.tolist()])
        self.type_names, self.type_ids = np.unique(types, return_inverse=True)
        t = len(self.type_ids)
        self.onehot = sparse.csr_matrix((np.ones(t, np.float32), (self.type_ids, np.arange(t))),
                                        shape=(len(self.type_names), t))
        self.n_all = np.bincount(self.type_ids, minlength=len(self.type_names)).astype(np.float64)
        self.symbolic = np.array([is_symbolic(t) for t in self.type_names.tolist()], dtype=bool)

    def driven(self, in_concept: np.ndarray, neurons: np.ndarray):
        """(token share [n], driven type mask [types, n], mass per type [types, n]) for one concept's rows."""
        a = self.a[:, neurons]
        active = (a >= self.threshold[neurons]).astype(np.float32)
        mass = np.where(active > 0, a, 0.0).astype(np.float32)
        inside = sparse.diags(in_concept.astype(np.float32))
        n_in = np.bincount(self.type_ids[in_concept], minlength=len(self.type_names)).astype(np.float64)
        n_out = self.n_all - n_in
        act_in = np.asarray(self.onehot @ (inside @ active), dtype=np.float64)
        act_out = np.asarray(self.onehot @ active, dtype=np.float64) - act_in
        mass_in = np.asarray(self.onehot @ (inside @ mass), dtype=np.float64)
        rate_in = np.divide(act_in, n_in[:, None], out=np.zeros_like(act_in), where=n_in[:, None] > 0)
        rate_out = np.divide(act_out, n_out[:, None], out=np.zeros_like(act_out), where=n_out[:, None] > 0)
        inside_tokens = max(float(in_concept.sum()), 1.0)
        outside_tokens = max(float(len(in_concept) - in_concept.sum()), 1.0)
        # The concept's own vocabulary (a word it uses far more often than other texts do, like 'house' in
        # the house texts) is content wherever else it turns up; punctuation and symbols never are.
        incidental = self.symbolic | (n_in / inside_tokens <= self.config.own_vocabulary_ratio * n_out / outside_tokens)
        driven = ((n_out >= self.config.min_other_occurrences)[:, None] & (act_in > 0) & incidental[:, None]
                  & (rate_out >= self.config.token_fraction * rate_in))
        total = mass_in.sum(axis=0)
        share = np.divide((mass_in * driven).sum(axis=0), total, out=np.zeros_like(total), where=total > 0)
        return share, driven, mass_in


def neuron_stats(acts: ActivationSet, config: DetectionConfig = DetectionConfig(),
                 concepts: Sequence[str] | None = None) -> NeuronStats:
    """Steps 1-4 of the rule for the tested ``concepts`` (default: all); the set's other concepts are background."""
    pool = acts.concepts
    tested_names = tuple(pool if concepts is None else concepts)
    unknown = [c for c in tested_names if c not in pool]
    if unknown or not tested_names or len(set(tested_names)) != len(tested_names):
        raise ValueError(f"concepts to test must be distinct concepts of the set ({', '.join(pool)}); got {tested_names}")
    index = {c: i for i, c in enumerate(sorted(pool))}  # codes by name: the set's concept order changes nothing
    codes = np.array([index[c] for c in acts.concept.tolist()], dtype=np.int64)
    tested = np.array([index[c] for c in tested_names], dtype=np.int64)
    a = acts.activations
    n_neurons, k = a.shape[1], len(tested)
    blocks = _blocks(acts.n_tokens, n_neurons)

    peak = np.concatenate([_robust_peak(a[:, b], config.peak_rank) for b in blocks])
    dead = (peak <= 0) | (peak < config.dead_fraction * np.quantile(peak, config.dead_reference_quantile))
    threshold = np.where(dead, np.inf, config.active_fraction * peak).astype(np.float32)

    units = units_of(codes, acts.sequence, acts.image, config.fallback_unit_tokens)
    unit_mass = np.empty((units.n, n_neurons))
    unit_active = np.empty((units.n, n_neurons))
    for b in blocks:
        active = a[:, b] >= threshold[b]
        unit_mass[:, b] = units.sum_by_unit(np.where(active, a[:, b], 0.0).astype(np.float32))
        unit_active[:, b] = units.sum_by_unit(active.astype(np.float32))

    labellings = np.concatenate([units.concept[None], shuffled_labels(units, config.n_shuffles, config.seed + 1)])
    rate = rates_for(labellings[:1], tested, unit_mass, units.tokens)[0]  # [K, N]
    reference = np.array([index[c] for c in pool if c not in tested_names], dtype=np.int64)
    observed = contrasts(labellings, tested, reference, unit_mass, units.tokens)  # [L, K, N]
    n_active = np.rint(sums_for(labellings, tested, unit_active)).astype(np.int64)  # [L, K, N]
    n_permutations = max(config.n_permutations, required_permutations(config.alpha, k))
    if n_permutations > MAX_PERMUTATIONS:
        raise ValueError(f"alpha {config.alpha:g} over {k} concepts needs {n_permutations:,} permutations "
                         f"(at most {MAX_PERMUTATIONS:,}); raise alpha or test fewer concepts")
    null = PermutationNull(n_permutations, config.seed)
    p = null.p_values(units, tested, reference, unit_mass, observed)
    corrected = config.alpha / k
    significant = (p <= corrected) & (n_active >= config.min_active_tokens) & ~dead[None, None]

    token_test = _TokenTest(acts, threshold, config)
    classifications, token_share = [], np.zeros((k, n_neurons))
    for l, labels in enumerate(labellings):
        token_concept = labels[units.of_token]
        by_tokens = np.zeros((k, n_neurons), dtype=bool)
        for i, c in enumerate(tested):
            neurons = np.flatnonzero(significant[l, i])
            if len(neurons):
                share, _, _ = token_test.driven(token_concept == c, neurons)
                by_tokens[i, neurons] = share >= config.token_share_max
                if l == 0:
                    token_share[i, neurons] = share
        classifications.append(Classification.from_masks(significant[l] & ~by_tokens, significant[l] & by_tokens, dead))

    summary = NullSummary(units=units.kind, n_units=units.n, n_permutations=n_permutations,
                          n_shuffles=config.n_shuffles, seed=config.seed, alpha=config.alpha,
                          corrected_threshold=corrected, background=tuple(c for c in pool if c not in tested_names))
    return NeuronStats(concepts=tested_names, background=summary.background, peak=peak, threshold=threshold,
                       dead=dead, rate=rate, active_tokens=n_active[0], p_value=p[0], token_share=token_share,
                       real=classifications[0], shuffles=tuple(classifications[1:]), null=summary)


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


def _shared_types(token_test: _TokenTest, in_concept: np.ndarray, neuron: int, n: int) -> tuple[str, ...]:
    """The types (largest mass first) that carry a token-carried response and fire elsewhere too."""
    _, driven, mass = token_test.driven(in_concept, np.array([neuron]))
    order = np.argsort(-(mass[:, 0] * driven[:, 0]), kind="stable")
    return tuple(str(token_test.type_names[t]) for t in order[:n] if driven[t, 0] and mass[t, 0] > 0)


def detect(acts: ActivationSet, config: DetectionConfig = DetectionConfig(),
           concepts: Sequence[str] | None = None) -> PolysemanticReport:
    """Classify every neuron of ``acts`` on the tested ``concepts`` (default: all; see the module docstring)."""
    stats = neuron_stats(acts, config, concepts)
    rows_of = {c: np.flatnonzero(acts.concept == c) for c in stats.concepts}
    token_test = _TokenTest(acts, stats.threshold, config)
    real = stats.real
    neurons = []
    for n in range(acts.n_neurons):
        order = [int(c) for c in np.argsort(-stats.rate[:, n], kind="stable") if stats.responds[c, n]]
        total = stats.rate[:, n].sum()
        responses = tuple(
            ConceptResponse(concept=stats.concepts[c], rate=float(stats.rate[c, n]),
                            share=float(stats.rate[c, n] / total) if total > 0 else 0.0,
                            active_tokens=int(stats.active_tokens[c, n]), p_value=float(stats.p_value[c, n]),
                            token_share=float(stats.token_share[c, n]),
                            carried_by="tokens" if real.tokens[c, n] else "content",
                            shared_types=(_shared_types(token_test, acts.concept == stats.concepts[c], n, config.top_tokens)
                                          if real.tokens[c, n] else ()),
                            top_tokens=_top_tokens(acts, rows_of[stats.concepts[c]], n, config.top_tokens,
                                                   float(stats.threshold[n])))
            for c in order)
        selectivity, effective = _scores(stats.rate[:, n])
        neurons.append(NeuronReport(
            index=n, name=str(acts.neuron[n]), label=str(real.labels[n]),
            concepts=tuple(r.concept for r in responses),
            content_concepts=tuple(r.concept for r in responses if r.carried_by == "content"),
            artifact_concepts=tuple(r.concept for r in responses if r.carried_by != "content"),
            selectivity=selectivity, effective_concepts=effective, peak=float(stats.peak[n]),
            threshold=float(stats.threshold[n]) if not stats.dead[n] else None, responses=responses))
    return PolysemanticReport(source=acts.source, concepts=stats.concepts, n_tokens=acts.n_tokens,
                              config=config, neurons=tuple(neurons), real=real, shuffles=stats.shuffles,
                              null=stats.null)


__all__ = ["DetectionConfig", "NeuronStats", "detect", "label_of", "neuron_stats"]
