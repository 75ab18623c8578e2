"""Choose the 49 neurons of one real layer that the 7x7 superposition grid shows.

The rule (also returned as ``GridSelection.rule``):

* The detector (engine/real/detect.py) tests every neuron on each object's texts against the
  permutation null (labels shuffled across whole snippets of the objects and of every other
  concept in the set, the background). A neuron *serves* the objects whose response beats the
  null and is carried by content; neurons with a token-carried response are left out.
* Cells are filled in this order: (1) neurons serving two or more objects (largest group first,
  then smallest p-value), at most half the cells; no cell is given to a shared neuron that did not
  pass the null, so if only a few pass, only a few are shown; (2) round-robin over the objects, neurons serving
  that object alone, smallest p-value first, then the largest gap ``(M[o, n] - max(other objects'
  M, background mean)) / s[n]`` (``M`` the mean activation per object, ``s`` the neuron's spread
  over the objects' tokens); (3) if cells remain, the most active remaining neurons
  (largest ``max_o M[o, n] / s[n]``), which serve none of the objects and are shown as such.
  Ties go to the lower neuron index; cells are listed in neuron order.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from jaxtyping import Float, Int

from engine.real.activations import ActivationSet
from engine.real.detect import DetectionConfig, detect
from engine.real.report import Chance, Classification, NullSummary, PolysemanticReport

GRID_OBJECTS = ("cat", "car", "house")
GRID_CELLS = 49
SHARED_MAX_FRACTION = 0.5  # shared neurons take at most half the cells, so single-object ones stay visible


def concept_means(acts: ActivationSet, concepts: Sequence[str] | None = None) -> Float[np.ndarray, "concepts neurons"]:
    """Mean activation of every neuron on each concept's tokens; rows follow ``concepts`` (default: all)."""
    names = acts.concepts if concepts is None else tuple(concepts)
    return np.stack([acts.activations[acts.mask(c)].mean(axis=0) for c in names]).astype(np.float32)


@dataclass(frozen=True, eq=False)
class GridSelection:
    """The grid's neurons, in neuron order, what each serves, and the whole layer's counts with chance."""

    objects: tuple[str, ...]
    source: str
    hook: str | None
    indices: Int[np.ndarray, "cells"]  # columns of the ActivationSet it was chosen from
    names: tuple[str, ...]  # e.g. "blocks.3.mlp.hook_post[17]"
    groups: tuple[tuple[str, ...], ...]  # objects each neuron serves (beats the null); () for filler cells
    p_values: Float[np.ndarray, "objects cells"]  # the detector's permutation p-value per object
    means: Float[np.ndarray, "objects cells"]  # mean activation per object
    zscores: Float[np.ndarray, "objects cells"]  # (mean on object - mean of other objects) / spread
    token_activations: dict[str, Float[np.ndarray, "tokens cells"]]  # per object, per token
    tokens: dict[str, tuple[str, ...]]
    layer_counts: tuple[Chance, ...]  # [k]: neurons of the whole layer serving exactly k objects, with chance
    object_counts: tuple[Chance, ...]  # [o]: neurons of the whole layer serving object o (alone or not), with chance
    layer_size: int
    null: NullSummary
    rule: str

    @property
    def specific(self) -> np.ndarray:
        """Boolean [cells]: serving a single object."""
        return np.array([len(g) == 1 for g in self.groups])

    @property
    def shared(self) -> np.ndarray:
        """Boolean [cells]: serving two or more objects."""
        return np.array([len(g) >= 2 for g in self.groups])


def serving(report: PolysemanticReport) -> list[tuple[int, ...]]:
    """Per neuron, the tested concepts (indices) it serves: content responses, and none if any is token-carried."""
    return [() if n.artifact_concepts else tuple(sorted(report.concepts.index(c) for c in n.content_concepts))
            for n in report.neurons]


def served_counts(classification: Classification) -> np.ndarray:
    """int [N]: how many tested concepts each neuron serves in one classification (0 if any response is token-carried)."""
    return np.where(classification.tokens.any(axis=0), 0, classification.content.sum(axis=0))


def single_gaps(means: Float[np.ndarray, "O N"], background: Float[np.ndarray, "N"] | None,
                spread: Float[np.ndarray, "N"]) -> Float[np.ndarray, "O N"]:
    """How far each object's mean stands above the strongest other object and the background, in spreads."""
    gaps = np.empty_like(means)
    for o in range(means.shape[0]):
        rivals = [np.delete(means, o, axis=0).max(axis=0)] if means.shape[0] > 1 else []
        if background is not None:
            rivals.append(background)
        gaps[o] = (means[o] - np.max(rivals, axis=0)) / spread if rivals else means[o] / spread
    return gaps


def select_grid(acts: ActivationSet, objects: Sequence[str] = GRID_OBJECTS, cells: int = GRID_CELLS,
                report: PolysemanticReport | None = None, config: DetectionConfig = DetectionConfig()) -> GridSelection:
    """Pick ``cells`` neurons of one layer showing how the objects share neurons (rule: module docstring)."""
    objects = tuple(objects)
    if len(set(objects)) != len(objects) or not objects:
        raise ValueError(f"grid objects must be distinct and non-empty, got {objects}")
    if acts.n_neurons < cells:
        raise ValueError(f"a grid of {cells} cells needs at least {cells} neurons; this set has {acts.n_neurons}")
    if acts.hook is None and any(n.endswith("]") for n in acts.neuron.tolist()):
        raise ValueError("grid neurons must come from one layer; this set mixes hook points")
    for o in objects:
        acts.mask(o)  # a KeyError naming an unknown object
    if report is None:
        report = detect(acts, config, concepts=objects)
    if report.concepts != objects:
        raise ValueError(f"the report tests {report.concepts}, not the grid's objects {objects}")
    means = concept_means(acts, objects).astype(np.float64)
    in_objects = np.isin(acts.concept, objects)
    spread = acts.activations[in_objects].std(axis=0).astype(np.float64) + 1e-6
    background = acts.activations[~in_objects].mean(axis=0) if (~in_objects).any() else None
    gaps = single_gaps(means, background, spread)
    stats_p = np.ones((len(objects), acts.n_neurons))
    for n in report.neurons:
        for r in n.responses:
            stats_p[objects.index(r.concept), n.index] = r.p_value
    groups = serving(report)

    chosen: dict[int, tuple[int, ...]] = {}
    shared = [n for n, g in enumerate(groups) if len(g) >= 2]
    most_shared = int(SHARED_MAX_FRACTION * cells)
    for n in sorted(shared, key=lambda n: (-len(groups[n]), stats_p[list(groups[n]), n].max(), n))[:most_shared]:
        chosen[n] = groups[n]
    queues = [sorted((n for n, g in enumerate(groups) if g == (o,)), key=lambda n, o=o: (stats_p[o, n], -gaps[o, n], n))
              for o in range(len(objects))]
    while len(chosen) < cells and any(queues):
        for o, queue in enumerate(queues):
            if queue and len(chosen) < cells:
                n = queue.pop(0)
                chosen[n] = (o,)
    activity = means.max(axis=0) / spread
    for n in np.lexsort((np.arange(acts.n_neurons), -activity)):
        if len(chosen) >= cells:
            break
        chosen.setdefault(int(n), ())

    indices = np.array(sorted(chosen), dtype=np.int64)
    sub = means[:, indices]
    others = (sub.sum(axis=0, keepdims=True) - sub) / max(len(objects) - 1, 1)
    layer_counts = tuple(report.measure(lambda c, k=k: int((served_counts(c) == k).sum()))
                         for k in range(len(objects) + 1))
    object_counts = tuple(report.measure(lambda c, o=o: int((c.content[o] & ~c.tokens.any(axis=0)).sum()))
                          for o in range(len(objects)))
    return GridSelection(
        objects=objects, source=acts.source, hook=acts.hook, indices=indices,
        names=tuple(acts.neuron[indices].tolist()),
        groups=tuple(tuple(objects[o] for o in chosen[n]) for n in indices),
        p_values=stats_p[:, indices].astype(np.float32), means=sub.astype(np.float32),
        zscores=((sub - others) / spread[indices]).astype(np.float32),
        token_activations={o: acts.activations[np.ix_(acts.mask(o), indices)] for o in objects},
        tokens={o: tuple(acts.token[acts.mask(o)].tolist()) for o in objects},
        layer_counts=layer_counts, object_counts=object_counts, layer_size=acts.n_neurons, null=report.null,
        rule=__doc__.split("The rule (also returned as ``GridSelection.rule``):", 1)[1].strip())
