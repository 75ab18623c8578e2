"""The permutation null: what a neuron's concept rates look like when concept labels mean nothing.

A neuron "responds" to a concept only if its rate on that concept, minus the rate of its reference
texts (the background concepts if there are any, else all other texts; :func:`contrasts`), beats
what the same contrast reaches when the concept labels are shuffled across whole **units** (probe
snippets; for image sources, images), keeping how many units each concept has. Shuffling whole snippets, not tokens, keeps the
texture of real text (a snippet's tokens stay together), so a neuron that fires on sparse features
found in any text gets no response from chance clustering within one snippet.

Units (:func:`units_of`):

* the set has ``sequence``: one unit per snippet; a snippet must belong to one concept (tokens of
  two concepts in one snippet would move together under every shuffle, which the null cannot
  represent), so such a set is refused with :class:`SnippetError`;
* no ``sequence`` but ``image``: every row (one image) is its own unit;
* neither: consecutive runs of ``fallback_unit_tokens`` tokens of one concept, in file order
  (documented in docs/activations.md; save ``sequence`` to get exact snippets). This assumes each
  concept's tokens come from its own stretches of text.

The null distribution does not depend on which labelling is observed, only on the units and how
many each concept has, so it is drawn once (:class:`PermutationNull`) and every labelling - the
real one and any number of label shuffles used as a chance level - is compared with it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from jaxtyping import Float, Int
from scipy import sparse

class SnippetError(ValueError):
    """The set's snippets cannot carry the null (a snippet spans several concepts); the message is one line."""


#: Null rates are computed for this many permutations at a time (memory: chunk x concepts x neurons).
PERMUTATION_CHUNK = 250


@dataclass(frozen=True)
class Units:
    """Which unit each token belongs to, and each unit's concept (codes into the pool's concepts)."""

    of_token: Int[np.ndarray, "tokens"]
    concept: Int[np.ndarray, "units"]
    tokens: Float[np.ndarray, "units"]  # tokens per unit
    kind: str  # "snippets", "images" or "token runs of N"

    @property
    def n(self) -> int:
        return len(self.concept)

    def sum_by_unit(self, values: Float[np.ndarray, "tokens neurons"]) -> Float[np.ndarray, "units neurons"]:
        onehot = sparse.csr_matrix((np.ones(len(self.of_token), np.float32), (self.of_token, np.arange(len(self.of_token)))),
                                   shape=(self.n, len(self.of_token)))
        return np.asarray(onehot.astype(np.float64) @ np.asarray(values, dtype=np.float64))  # no float32 overflow


def units_of(codes: Int[np.ndarray, "tokens"], sequence: np.ndarray | None, image: np.ndarray | None,
             fallback_unit_tokens: int) -> Units:
    """The units of the module docstring, from per-token concept codes."""
    t = len(codes)
    if sequence is not None:
        _, key = np.unique(sequence, return_inverse=True)  # any ids, negative or huge, without arithmetic
        mixed = np.flatnonzero(np.bincount(np.unique(np.stack([key, codes]), axis=1)[0], minlength=key.max() + 1) > 1)
        if len(mixed):
            raise SnippetError(f"snippet (sequence) {sequence[np.argmax(key == mixed[0])]} holds tokens of "
                               f"{len(np.unique(codes[key == mixed[0]]))} concepts; the null shuffles whole snippets, "
                               f"so each must belong to one concept: give each concept's tokens their own sequence "
                               f"ids, or leave 'sequence' out")
        kind = "snippets"
    elif image is not None:
        key = np.arange(t, dtype=np.int64)
        kind = "images"
    else:
        rank = np.empty(t, dtype=np.int64)
        for c in np.unique(codes):
            rows = np.flatnonzero(codes == c)
            rank[rows] = np.arange(len(rows)) // fallback_unit_tokens
        key = codes.astype(np.int64) * (t + 1) + rank
        kind = f"token runs of {fallback_unit_tokens}"
    _, first, of_token = np.unique(key, return_index=True, return_inverse=True)
    # Units ordered by concept code, then by first appearance: neither snippet ids nor where a concept
    # sits in the set change which units a seeded permutation groups together.
    order = np.lexsort((first, codes[first]))
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    of_token = rank[of_token]
    return Units(of_token=of_token.astype(np.int64), concept=codes[first[order]].astype(np.int64),
                 tokens=np.bincount(of_token, minlength=len(first)).astype(np.float64), kind=kind)


def shuffled_labels(units: Units, n: int, seed: int) -> Int[np.ndarray, "n units"]:
    """``n`` random relabellings of the units (each a permutation of their concepts), seeded."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.permutation(units.concept) for _ in range(n)]) if n else np.zeros((0, units.n), np.int64)


def sums_for(labels: Int[np.ndarray, "L units"], tested: Int[np.ndarray, "K"],
             per_unit: Float[np.ndarray, "units N"]) -> Float[np.ndarray, "L K N"]:
    """Each labelling's sum of ``per_unit`` over the units of every tested concept."""
    out = np.empty((labels.shape[0], len(tested), per_unit.shape[1]))
    for i, c in enumerate(tested):
        out[:, i] = (labels == c).astype(np.float64) @ per_unit
    return out


def rates_for(labels: Int[np.ndarray, "L units"], tested: Int[np.ndarray, "K"], unit_mass: Float[np.ndarray, "units N"],
              unit_tokens: Float[np.ndarray, "units"]) -> Float[np.ndarray, "L K N"]:
    """Each labelling's rate (summed mass / tokens) of every tested concept, for every neuron."""
    tokens = sums_for(labels, tested, unit_tokens[:, None])
    return sums_for(labels, tested, unit_mass) / np.maximum(tokens, 1.0)


def contrasts(labels: Int[np.ndarray, "L units"], tested: Int[np.ndarray, "K"], reference: Int[np.ndarray, "B"],
              unit_mass: Float[np.ndarray, "units N"], unit_tokens: Float[np.ndarray, "units"]) -> Float[np.ndarray, "L K N"]:
    """The test statistic: each tested concept's rate minus the rate of its reference units.

    The reference is the background concepts when there are any (a cat response is judged against
    dog, tree and boat texts, not diluted by car and house), else every other unit. Either way the
    statistic's null distribution depends only on how many units each concept has, not on which
    labelling is observed."""
    rate = rates_for(labels, tested, unit_mass, unit_tokens)
    tokens = unit_tokens[:, None]
    if len(reference):
        ref = np.isin(labels, reference).astype(np.float64)  # [L, units]
        ref_rate = (ref @ unit_mass) / np.maximum(ref @ tokens, 1.0)  # [L, N]
        return rate - ref_rate[:, None, :]
    total_mass, total_tokens = unit_mass.sum(axis=0), float(unit_tokens.sum())
    mass = sums_for(labels, tested, unit_mass)
    own = sums_for(labels, tested, tokens)
    return rate - (total_mass[None, None] - mass) / np.maximum(total_tokens - own, 1.0)


@dataclass(frozen=True)
class PermutationNull:
    """Exceedance counts of observed contrasts against ``n_permutations`` label permutations."""

    n_permutations: int
    seed: int

    def p_values(self, units: Units, tested: Int[np.ndarray, "K"], reference: Int[np.ndarray, "B"],
                 unit_mass: Float[np.ndarray, "units N"], observed: Float[np.ndarray, "L K N"]) -> Float[np.ndarray, "L K N"]:
        """One-sided permutation p-values, (1 + #{null contrast >= observed}) / (1 + permutations).

        Vectorised: the null contrasts of a chunk of permutations are a few matrix products; every
        labelling in ``observed`` is compared with the same null (seconds for 1,536 neurons)."""
        rng = np.random.default_rng(self.seed)
        exceed = np.zeros(observed.shape, dtype=np.int64)
        tolerance = 1e-9 * np.maximum(np.abs(observed), 1e-12)  # a tie counts as reaching the observed rate
        left = self.n_permutations
        while left > 0:
            chunk = min(PERMUTATION_CHUNK, left)
            left -= chunk
            perms = np.stack([rng.permutation(units.concept) for _ in range(chunk)])
            null = contrasts(perms, tested, reference, unit_mass, units.tokens)  # [chunk, K, N]
            for j in range(observed.shape[0]):
                exceed[j] += (null >= observed[j][None] - tolerance[j][None]).sum(axis=0)
        return (1.0 + exceed) / (1.0 + self.n_permutations)


def required_permutations(alpha: float, n_tests: int, resolution: int = 4) -> int:
    """Permutations needed so the smallest p-value is ``resolution`` times below the corrected threshold."""
    return int(np.ceil(resolution * n_tests / alpha))
