"""Statistical power of the detector's response test: how much text a response of a given size needs.

A response counts only if its rate beats the snippet-permutation null at ``alpha / K``
(engine/real/detect.py, step 3). With few snippets per concept even a real response cannot get
there, so a count of responses says little until we know how often the test finds one that exists.

**Effect size** ``r``: a concept's rate (active activation mass per token) divided by the rate of
its reference texts, the ones the detector compares it with (the background concepts if the set has
any, else every other snippet). ``r = 2``: the neuron puts twice as much active mass on each token
of the concept as on the reference text.

Once a neuron's threshold is fixed, the response test reads only three numbers per snippet (unit):
active mass, active tokens and tokens (:class:`UnitArrays`). Power is measured on those, with the
detector's own null (:class:`engine.real.null.PermutationNull`), so a subsample costs a few matrix
products instead of a full detection. Two ways:

* :func:`observed_power` - real responses, binned by ``r`` on all the text, re-tested on ``k``
  snippets per concept drawn without replacement; the same draws with labels shuffled give the
  false-positive rate at that ``k``.
* :func:`planted_power` - real snippets with their labels stripped (so nothing responds),
  resampled with replacement into ``k`` snippets per concept, and one or two concepts' snippets
  multiplied by ``r``: the effect is known exactly and ``k`` can exceed the shipped texts.
  Multiplying keeps each snippet's texture (which tokens fire) and scales its spread with its
  mean, which is conservative next to adding independent mass.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np
from jaxtyping import Bool, Float, Int

from engine.real.activations import ActivationSet
from engine.real.detect import DetectionConfig, NeuronStats, neuron_stats
from engine.real.null import PermutationNull, Units, contrasts, sums_for, units_of


@dataclass(frozen=True)
class UnitArrays:
    """Per snippet (unit) U and neuron N: what the response test reads, and each unit's concept code."""

    mass: Float[np.ndarray, "U N"]  # active activation mass
    active: Float[np.ndarray, "U N"]  # active tokens
    tokens: Float[np.ndarray, "U"]
    concept: Int[np.ndarray, "U"]

    @property
    def n(self) -> int:
        return len(self.concept)

    def take(self, rows: Int[np.ndarray, "R"], neurons: Int[np.ndarray, "M"] | slice = slice(None)) -> "UnitArrays":
        return UnitArrays(mass=self.mass[rows][:, neurons], active=self.active[rows][:, neurons],
                          tokens=self.tokens[rows], concept=self.concept[rows])

    def units(self) -> Units:
        """The null's view: each unit is one row (token-level membership is not needed any more)."""
        return Units(of_token=np.arange(self.n), concept=self.concept, tokens=self.tokens, kind="snippets")


def unit_arrays(acts: ActivationSet, concepts: Sequence[str],
                config: DetectionConfig = DetectionConfig()) -> tuple[UnitArrays, Int[np.ndarray, "K"], NeuronStats]:
    """The set's units with the detector's thresholds, the tested concepts' codes, and the detector's stats.

    Concept codes follow the detector's (sorted pool names), so :func:`detected` on the full data
    reproduces ``stats.responds`` exactly."""
    stats = neuron_stats(acts, replace(config, n_shuffles=0), concepts)
    index = {c: i for i, c in enumerate(sorted(acts.concepts))}
    codes = np.array([index[c] for c in acts.concept.tolist()], dtype=np.int64)
    units = units_of(codes, acts.sequence, acts.image, config.fallback_unit_tokens)
    active = acts.activations >= stats.threshold
    mass = units.sum_by_unit(np.where(active, acts.activations, 0.0).astype(np.float32))
    return (UnitArrays(mass=mass, active=units.sum_by_unit(active.astype(np.float32)), tokens=units.tokens,
                       concept=units.concept),
            np.array([index[c] for c in concepts], dtype=np.int64), stats)


def detected(data: UnitArrays, labels: Int[np.ndarray, "L U"], tested: Int[np.ndarray, "K"],
             config: DetectionConfig = DetectionConfig(), seed: int | None = None) -> Bool[np.ndarray, "L K N"]:
    """Step 3 of the detector for each labelling: p <= alpha / K against the snippet null and enough active tokens.

    Every labelling must be a permutation of ``data.concept`` (the null permutes those)."""
    reference = reference_codes(data, tested)
    observed = contrasts(labels, tested, reference, data.mass, data.tokens)
    n_active = np.rint(sums_for(labels, tested, data.active))
    null = PermutationNull(config.n_permutations, config.seed if seed is None else seed)
    p = null.p_values(data.units(), tested, reference, data.mass, observed)
    return (p <= config.alpha / len(tested)) & (n_active >= config.min_active_tokens)


def reference_codes(data: UnitArrays, tested: Int[np.ndarray, "K"]) -> Int[np.ndarray, "B"]:
    """The background concepts' codes (every concept of the set that is not tested), as the detector uses them."""
    return np.setdiff1d(np.unique(data.concept), tested)


def ratio_to_rest(data: UnitArrays, tested: Int[np.ndarray, "K"]) -> Float[np.ndarray, "K N"]:
    """The effect size r: each tested concept's rate over the rate of its reference units (inf if that is 0)."""
    labels = data.concept[None]
    mass, tokens = sums_for(labels, tested, data.mass)[0], sums_for(labels, tested, data.tokens[:, None])[0]
    reference = reference_codes(data, tested)
    if len(reference):
        ref = np.isin(data.concept, reference)
        rest_mass = np.broadcast_to(data.mass[ref].sum(axis=0), mass.shape)
        rest_tokens = np.full_like(tokens, data.tokens[ref].sum())
    else:
        rest_mass, rest_tokens = data.mass.sum(axis=0) - mass, data.tokens.sum() - tokens
    rate, rest = mass / np.maximum(tokens, 1.0), rest_mass / np.maximum(rest_tokens, 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rest > 0, rate / rest, np.where(rate > 0, np.inf, 0.0))


def draw_per_concept(concept: Int[np.ndarray, "U"], k: int, rng: np.random.Generator) -> Int[np.ndarray, "R"]:
    """Rows of ``k`` units of every concept, without replacement (all of a concept's units if it has fewer)."""
    return np.concatenate([rng.choice(rows, min(k, len(rows)), replace=False)
                           for rows in (np.flatnonzero(concept == c) for c in np.unique(concept))])


@dataclass(frozen=True)
class ObservedPower:
    """Real responses re-tested on k snippets per concept (``reps`` draws each)."""

    ks: tuple[int, ...]
    tokens: Float[np.ndarray, "k"]  # mean tokens per concept at each k
    responses: Int[np.ndarray, "bins"]  # (neuron, concept) pairs whose r on all the text falls in each bin
    power: Float[np.ndarray, "bins k"]  # fraction of the bin's responses detected
    two_object_neurons: int  # neurons with exactly two responses on all the text
    two_objects: Float[np.ndarray, "k"]  # fraction of full-data two-object neurons with both responses detected
    false_positive: Float[np.ndarray, "k"]  # per test (neuron x concept), labels shuffled
    family_false_positive: Float[np.ndarray, "k"]  # per neuron (any tested concept), labels shuffled


def observed_power(data: UnitArrays, tested: Int[np.ndarray, "K"], bins: Sequence[float], ks: Sequence[int],
                   reps: int, config: DetectionConfig = DetectionConfig(), seed: int = 0) -> ObservedPower:
    """Power per effect-size bin ``[bins[i], bins[i+1])`` of the responses measured on all of ``data``.

    ``k = 0`` means all snippets; there the draws differ only in the null's seed, which shows how
    many of the detector's calls (one seed) sit at the threshold. The real and a shuffled labelling
    of each draw share one null (it depends on the draw, not on the labels)."""
    r = ratio_to_rest(data, tested)
    which = np.digitize(r, bins) - 1  # [K, N]; -1 below the first edge, len(bins)-1 above the last
    full = detected(data, data.concept[None], tested, config)[0]
    pairs = full.sum(axis=0) == 2
    rng = np.random.default_rng(seed)
    power = np.zeros((len(bins) - 1, len(ks)))
    two, fp, fwer, tokens = (np.zeros(len(ks)) for _ in range(4))
    for j, k in enumerate(ks):
        for _ in range(reps):
            rows = np.arange(data.n) if k == 0 else draw_per_concept(data.concept, k, rng)
            sub = data.take(rows)
            labels = np.stack([sub.concept, rng.permutation(sub.concept)])
            hit = detected(sub, labels, tested, config, seed=int(rng.integers(2**31)))
            for b in range(len(bins) - 1):
                power[b, j] += hit[0][which == b].mean() / reps if (which == b).any() else np.nan
            two[j] += (hit[0][:, pairs].sum(axis=0) == 2).mean() / reps if pairs.any() else np.nan
            fp[j] += hit[1].mean() / reps
            fwer[j] += hit[1].any(axis=0).mean() / reps
            tokens[j] += sub.tokens.sum() / len(np.unique(sub.concept)) / reps
    return ObservedPower(ks=tuple(ks), tokens=tokens,
                         responses=np.array([(which == b).sum() for b in range(len(bins) - 1)]), power=power,
                         two_object_neurons=int(pairs.sum()), two_objects=two, false_positive=fp,
                         family_false_positive=fwer)


def planted(base: UnitArrays, k: int, n_concepts: int, ratio: float, n_objects: int,
            rng: np.random.Generator) -> UnitArrays:
    """``k`` units per concept drawn with replacement from ``base`` (labels stripped); concepts
    ``0 .. n_objects-1`` get every unit's mass and active tokens multiplied by ``ratio``."""
    rows = rng.integers(0, base.n, size=k * n_concepts)
    concept = np.repeat(np.arange(n_concepts), k)
    scale = np.where(concept < n_objects, ratio, 1.0)[:, None]
    return UnitArrays(mass=base.mass[rows] * scale, active=base.active[rows] * scale, tokens=base.tokens[rows],
                      concept=concept)


@dataclass(frozen=True)
class PlantedPower:
    """Detection of planted responses per (ratio, k) and neuron, over ``reps`` draws."""

    ratios: tuple[float, ...]
    ks: tuple[int, ...]
    tokens: Float[np.ndarray, "k"]  # expected tokens per concept at each k
    one: Float[np.ndarray, "ratios k N"]  # one planted concept: fraction of draws it is detected
    two: Float[np.ndarray, "ratios k N"]  # two planted concepts: fraction of draws both are detected
    false_positive: Float[np.ndarray, "ratios k N"]  # an unplanted tested concept detected (one-object draws)


def planted_power(base: UnitArrays, ratios: Sequence[float], ks: Sequence[int], reps: int, n_concepts: int = 6,
                  n_tested: int = 3, config: DetectionConfig = DetectionConfig(), seed: int = 0) -> PlantedPower:
    """Power for responses of known size ``r`` on one and on two of ``n_tested`` tested concepts,
    in a pool of ``n_concepts`` with ``k`` snippets each (so Bonferroni divides alpha by ``n_tested``)."""
    rng = np.random.default_rng(seed)
    tested = np.arange(n_tested)
    shape = (len(ratios), len(ks), base.mass.shape[1])
    one, two, fp = np.zeros(shape), np.zeros(shape), np.zeros(shape)
    for i, ratio in enumerate(ratios):
        for j, k in enumerate(ks):
            for _ in range(reps):
                d = planted(base, k, n_concepts, ratio, 1, rng)
                hit = detected(d, d.concept[None], tested, config, seed=int(rng.integers(2**31)))[0]
                one[i, j] += hit[0] / reps
                fp[i, j] += hit[n_tested - 1] / reps
                d = planted(base, k, n_concepts, ratio, 2, rng)
                hit = detected(d, d.concept[None], tested, config, seed=int(rng.integers(2**31)))[0]
                two[i, j] += (hit[0] & hit[1]) / reps
    tokens = np.array([k * base.tokens.mean() for k in ks])
    return PlantedPower(ratios=tuple(ratios), ks=tuple(ks), tokens=tokens, one=one, two=two, false_positive=fp)


def tokens_for(power: Float[np.ndarray, "k"], tokens: Float[np.ndarray, "k"], target: float = 0.8) -> float:
    """Tokens per concept where ``power`` first reaches ``target`` (linear between measured points; inf if never)."""
    above = np.flatnonzero(power >= target)
    if not len(above):
        return float("inf")
    j = above[0]
    if j == 0:
        return float(tokens[0])
    t = (target - power[j - 1]) / (power[j] - power[j - 1])
    return float(tokens[j - 1] + t * (tokens[j] - tokens[j - 1]))


__all__ = ["ObservedPower", "PlantedPower", "UnitArrays", "detected", "draw_per_concept", "observed_power",
           "planted", "planted_power", "ratio_to_rest", "tokens_for", "unit_arrays"]
