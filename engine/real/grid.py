"""Choose the 49 neurons of one real layer that the 7x7 superposition grid shows.

The rule (also returned as ``GridSelection.rule``):

* ``M[o, n]`` is neuron n's mean activation over the tokens of object o; ``s[n]`` the standard
  deviation of its activations over all object tokens (so gaps are in units of its own spread).
* For every *group* S of objects (one object, a pair, ..., all of them) the neuron's *gap* is
  how far the weakest member of S stands above the strongest non-member, in units of ``s[n]``:
  ``gap(S, n) = (min_{o in S} M[o, n] - max(max_{o not in S} M[o, n], B[n])) / s[n]``, where
  ``B[n]`` is its mean over the *background* concepts (every other concept in the set; without
  background, the all-objects group is not considered). A neuron belongs to the group with the
  largest gap, if that gap is positive.
* Cells are filled in three rounds: (1) for each object, the ``specific_per_object`` neurons
  with the largest gap whose group is that object alone; (2) the remaining cells round-robin over
  the shared groups (pairs first, then larger groups), each taking its next-largest-gap neuron;
  (3) if cells remain, round-robin over the single-object groups again, then the most active
  remaining neurons (largest ``max_o M[o, n] / s[n]``), marked as filler. Ties go to the lower
  neuron index, so the selection is deterministic; cells are listed in neuron order.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from jaxtyping import Float, Int

from engine.real.activations import ActivationSet

GRID_OBJECTS = ("cat", "car", "house")
GRID_CELLS = 49
SPECIFIC_FRACTION = 0.5  # about half the grid shows object-specific neurons, the rest shared ones
MAX_GROUP_SIZE = 3  # groups of up to three objects, plus the all-objects group


def concept_means(acts: ActivationSet, concepts: Sequence[str] | None = None) -> Float[np.ndarray, "concepts neurons"]:
    """Mean activation of every neuron on each concept's tokens; rows follow ``concepts`` (default: all)."""
    names = acts.concepts if concepts is None else tuple(concepts)
    return np.stack([acts.activations[acts.mask(c)].mean(axis=0) for c in names]).astype(np.float32)


@dataclass(frozen=True)
class GridSelection:
    """The grid's neurons, in neuron order, and what each shows."""

    objects: tuple[str, ...]
    source: str
    hook: str | None
    indices: Int[np.ndarray, "cells"]  # columns of the ActivationSet it was chosen from
    names: tuple[str, ...]  # e.g. "blocks.3.mlp.hook_post[17]"
    groups: tuple[tuple[str, ...], ...]  # objects each neuron is chosen for; () for filler cells
    gaps: Float[np.ndarray, "cells"]  # the group's gap (in the neuron's standard deviations)
    means: Float[np.ndarray, "objects cells"]  # mean activation per object
    zscores: Float[np.ndarray, "objects cells"]  # (mean on object - mean of other objects) / spread
    token_activations: dict[str, Float[np.ndarray, "tokens cells"]]  # per object, per token
    tokens: dict[str, tuple[str, ...]]
    rule: str

    @property
    def specific(self) -> np.ndarray:
        """Boolean [cells]: chosen for a single object."""
        return np.array([len(g) == 1 for g in self.groups])

    @property
    def shared(self) -> np.ndarray:
        """Boolean [cells]: chosen for two or more objects."""
        return np.array([len(g) >= 2 for g in self.groups])


def _groups(n_objects: int, with_all: bool) -> list[tuple[int, ...]]:
    sizes = range(1, min(MAX_GROUP_SIZE, max(n_objects - 1, 1)) + 1)
    groups = [g for k in sizes for g in itertools.combinations(range(n_objects), k)]
    if with_all and n_objects > 1:
        groups.append(tuple(range(n_objects)))
    return groups


def group_gaps(means: Float[np.ndarray, "O N"], background: Float[np.ndarray, "N"] | None,
               spread: Float[np.ndarray, "N"], groups: list[tuple[int, ...]]) -> Float[np.ndarray, "G N"]:
    """``gap(S, n)`` of the module docstring for every group S."""
    gaps = np.empty((len(groups), means.shape[1]))
    for i, group in enumerate(groups):
        others = [o for o in range(means.shape[0]) if o not in group]
        rivals = [means[others].max(axis=0)] if others else []
        if background is not None:
            rivals.append(background)
        gaps[i] = (means[list(group)].min(axis=0) - np.max(rivals, axis=0)) / spread
    return gaps


def _ranked(candidates: np.ndarray, score: np.ndarray) -> list[int]:
    """Candidate neuron indices by descending score, ties to the lower index."""
    return [int(c) for c in candidates[np.lexsort((candidates, -score[candidates]))]]


def select_grid(acts: ActivationSet, objects: Sequence[str] = GRID_OBJECTS, cells: int = GRID_CELLS,
                specific_fraction: float = SPECIFIC_FRACTION) -> GridSelection:
    """Pick ``cells`` neurons of one layer showing how the objects share neurons (rule: module docstring)."""
    objects = tuple(objects)
    if len(set(objects)) != len(objects) or not objects:
        raise ValueError(f"grid objects must be distinct and non-empty, got {objects}")
    if acts.n_neurons < cells:
        raise ValueError(f"a grid of {cells} cells needs at least {cells} neurons; this set has {acts.n_neurons}")
    if acts.hook is None and any(n.endswith("]") for n in acts.neuron.tolist()):
        raise ValueError("grid neurons must come from one layer; this set mixes hook points")
    means = concept_means(acts, objects).astype(np.float64)
    in_objects = np.isin(acts.concept, objects)
    spread = acts.activations[in_objects].std(axis=0).astype(np.float64) + 1e-6
    background = acts.activations[~in_objects].mean(axis=0) if (~in_objects).any() else None
    groups = _groups(len(objects), with_all=background is not None)
    gaps = group_gaps(means, background, spread, groups)
    best_group = gaps.argmax(axis=0)
    best_gap = gaps.max(axis=0)
    belongs = best_gap > 0
    queue = {g: _ranked(np.flatnonzero(belongs & (best_group == g)), best_gap) for g in range(len(groups))}
    single = [g for g, members in enumerate(groups) if len(members) == 1]
    multi = sorted((g for g, members in enumerate(groups) if len(members) > 1), key=lambda g: (len(groups[g]), g))

    chosen: dict[int, int | None] = {}  # neuron -> group index (None: filler)
    per_object = int(specific_fraction * cells) // len(objects)
    for g in single:
        for n in queue[g][:per_object]:
            chosen[n] = g
        queue[g] = queue[g][per_object:]

    def round_robin(group_ids: list[int]) -> None:
        while len(chosen) < cells and any(queue[g] for g in group_ids):
            for g in group_ids:
                if queue[g] and len(chosen) < cells:
                    chosen[queue[g].pop(0)] = g

    round_robin(multi)
    round_robin(single)
    activity = means.max(axis=0) / spread
    for n in _ranked(np.arange(acts.n_neurons), activity):
        if len(chosen) >= cells:
            break
        chosen.setdefault(n, None)

    indices = np.array(sorted(chosen), dtype=np.int64)
    sub = means[:, indices]
    others = (sub.sum(axis=0, keepdims=True) - sub) / max(len(objects) - 1, 1)
    return GridSelection(
        objects=objects, source=acts.source, hook=acts.hook, indices=indices,
        names=tuple(acts.neuron[indices].tolist()),
        groups=tuple(() if chosen[n] is None else tuple(objects[o] for o in groups[chosen[n]]) for n in indices),
        gaps=np.array([best_gap[n] if chosen[n] is not None else 0.0 for n in indices], dtype=np.float32),
        means=sub.astype(np.float32),
        zscores=((sub - others) / spread[indices]).astype(np.float32),
        token_activations={o: acts.activations[np.ix_(acts.mask(o), indices)] for o in objects},
        tokens={o: tuple(acts.token[acts.mask(o)].tolist()) for o in objects},
        rule=__doc__.split("The rule (also returned as ``GridSelection.rule``):", 1)[1].strip())
