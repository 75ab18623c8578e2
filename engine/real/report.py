"""What the polysemantic detector returns: plain dataclasses, and their JSON form.

The JSON report (``python -m engine.polysemantic ACTS.npz --json REPORT.json``) is these
dataclasses as dicts, plus a summary: ``{"format": "neuroreel.polysemantic/2", "source", "concepts",
"background", "n_tokens", "n_neurons", "thresholds", "null", "counts", "chance", "neurons": [...]}``;
``chance[label]`` is the same count on label-shuffled data (``mean``, ``max``, ``values`` per shuffle).
"""
from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Literal

import numpy as np

from engine.atomic import write_bytes_atomic

if TYPE_CHECKING:
    from engine.real.detect import DetectionConfig

LABELS = ("dead", "broad", "monosemantic", "polysemantic", "artifact")
REPORT_FORMAT = "neuroreel.polysemantic/2"
Label = Literal["dead", "broad", "monosemantic", "polysemantic", "artifact"]


def label_of(content: int, tokens: int, dead: bool) -> str:
    """Step 5 of the rule, from the numbers of content- and token-carried responses."""
    if dead:
        return "dead"
    if content >= 2:
        return "polysemantic"
    if tokens:
        return "artifact"
    return "monosemantic" if content == 1 else "broad"


@dataclass(frozen=True, eq=False)
class Classification:
    """One labelling's outcome (the real labels, or one shuffle): responses per tested concept K and neuron N."""

    content: np.ndarray  # bool [K, N]: responds, carried by the concept's content
    tokens: np.ndarray  # bool [K, N]: responds, carried by tokens the neuron answers elsewhere
    labels: np.ndarray  # str [N]

    @classmethod
    def from_masks(cls, content: np.ndarray, tokens: np.ndarray, dead: np.ndarray) -> "Classification":
        nc, nt = content.sum(axis=0), tokens.sum(axis=0)
        labels = np.array([label_of(int(c), int(t), bool(d)) for c, t, d in zip(nc, nt, dead)])
        return cls(content=content, tokens=tokens, labels=labels)

    def counts(self) -> dict[str, int]:
        found = Counter(self.labels.tolist())
        return {label: found.get(label, 0) for label in LABELS}


@dataclass(frozen=True)
class NullSummary:
    """How chance was measured: units shuffled, permutations, shuffles, seed, and the corrected threshold."""

    units: str  # "snippets", "images" or "token runs of N"
    n_units: int
    n_permutations: int
    n_shuffles: int
    seed: int
    alpha: float
    corrected_threshold: float  # alpha / tested concepts: a response's p-value must be at most this
    background: tuple[str, ...]  # concepts in the null pool that are not tested


@dataclass(frozen=True)
class Chance:
    """A count on the real labels beside the same count on every label shuffle."""

    real: float
    values: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.values)) if self.values else 0.0

    @property
    def max(self) -> float:
        return float(np.max(self.values)) if self.values else 0.0

    @property
    def beats_chance(self) -> bool:
        """True when the real count exceeds every shuffle's."""
        return self.real > self.max

    def to_dict(self) -> dict[str, Any]:
        return {"real": self.real, "mean": self.mean, "max": self.max, "values": list(self.values)}


@dataclass(frozen=True)
class TokenHit:
    """One token driving a neuron: its text, the activation, and its row in the ActivationSet."""

    token: str
    activation: float
    index: int


@dataclass(frozen=True)
class ConceptResponse:
    """How a neuron responds to one concept it responds to (one that beats the null)."""

    concept: str
    rate: float  # active activation mass per token of the concept
    share: float  # of the neuron's summed rates over the tested concepts
    active_tokens: int
    p_value: float  # one-sided permutation p-value of the rate (labels shuffled across snippets)
    token_share: float  # of the active mass on types the neuron also answers in other concepts' text
    carried_by: Literal["content", "tokens"]
    shared_types: tuple[str, ...]  # if carried by tokens: the types it answers elsewhere too
    top_tokens: tuple[TokenHit, ...]


@dataclass(frozen=True)
class NeuronReport:
    """One neuron's class and the evidence for it."""

    index: int
    name: str
    label: Label
    concepts: tuple[str, ...]  # every concept it responds to, strongest first
    content_concepts: tuple[str, ...]  # ... whose response is carried by the concept's content
    artifact_concepts: tuple[str, ...]  # ... whose response is carried by tokens found elsewhere too
    selectivity: float  # (best rate - mean other rate) / (best + mean other): 1 = one concept only
    effective_concepts: float  # exp(entropy) of the rates over tested concepts
    peak: float
    threshold: float | None  # activation above which a token counts as active (None if dead)
    responses: tuple[ConceptResponse, ...]


@dataclass(frozen=True, eq=False)
class PolysemanticReport:
    """Every neuron of one activation set, classified, with the same classification on label shuffles."""

    source: str
    concepts: tuple[str, ...]
    n_tokens: int
    config: "DetectionConfig"
    neurons: tuple[NeuronReport, ...]
    real: Classification
    shuffles: tuple[Classification, ...]
    null: NullSummary

    def counts(self) -> dict[str, int]:
        return self.real.counts()

    def with_label(self, label: Label) -> list[NeuronReport]:
        return [n for n in self.neurons if n.label == label]

    def measure(self, count: Callable[[Classification], float]) -> Chance:
        """Any count of a classification, on the real labels and on every shuffle (its chance level)."""
        return Chance(real=float(count(self.real)), values=tuple(float(count(s)) for s in self.shuffles))

    def chance(self) -> dict[str, Chance]:
        """Every label's count beside its chance level."""
        return {label: self.measure(lambda c, label=label: c.counts()[label]) for label in LABELS}

    def to_dict(self) -> dict[str, Any]:
        return {"format": REPORT_FORMAT, "source": self.source, "concepts": list(self.concepts),
                "background": list(self.null.background), "n_tokens": self.n_tokens, "n_neurons": len(self.neurons),
                "thresholds": dataclasses.asdict(self.config), "null": dataclasses.asdict(self.null),
                "counts": self.counts(), "chance": {k: v.to_dict() for k, v in self.chance().items()},
                "neurons": [dataclasses.asdict(n) for n in self.neurons]}

    def save_json(self, path: str | Path) -> Path:
        """Write the report as JSON (atomically: temp file, then rename)."""
        path = Path(path)
        write_bytes_atomic(path, (json.dumps(self.to_dict(), allow_nan=False) + "\n").encode("utf-8"))
        return path
