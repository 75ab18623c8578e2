"""What the polysemantic detector returns: plain dataclasses, and their JSON form.

The JSON report (``python -m engine.polysemantic ACTS.npz --json REPORT.json``) is these
dataclasses as dicts, plus a summary: ``{"format": "neuroreel.polysemantic/1", "source", "concepts",
"n_tokens", "n_neurons", "thresholds", "counts", "neurons": [...]}``.
"""
from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from engine.atomic import write_bytes_atomic

if TYPE_CHECKING:
    from engine.real.detect import DetectionConfig

LABELS = ("dead", "monosemantic", "polysemantic", "artifact")
REPORT_FORMAT = "neuroreel.polysemantic/1"
Label = Literal["dead", "monosemantic", "polysemantic", "artifact"]


@dataclass(frozen=True)
class TokenHit:
    """One token driving a neuron: its text, the activation, and its row in the ActivationSet."""

    token: str
    activation: float
    index: int


@dataclass(frozen=True)
class ConceptResponse:
    """How a neuron responds to one concept it responds to."""

    concept: str
    rate: float  # active activation mass per token of the concept
    share: float  # of the neuron's summed rates over all concepts
    active_tokens: int
    generic_share: float  # of the active mass on generic token types
    effective_types: float  # exp(entropy) of the active mass over token types
    carried_by: Literal["content", "shared tokens"]
    top_tokens: tuple[TokenHit, ...]


@dataclass(frozen=True)
class NeuronReport:
    """One neuron's class and the evidence for it."""

    index: int
    name: str
    label: Label
    concepts: tuple[str, ...]  # every concept it responds to, strongest first
    content_concepts: tuple[str, ...]  # ... whose response is carried by the concept's content
    artifact_concepts: tuple[str, ...]  # ... whose response is carried by shared tokens
    selectivity: float  # (best rate - mean other rate) / (best + mean other): 1 = one concept only
    effective_concepts: float  # exp(entropy) of the rates over concepts: 1 = monosemantic
    peak: float
    threshold: float | None  # activation above which a token counts as active (None if dead)
    responses: tuple[ConceptResponse, ...]


@dataclass(frozen=True)
class PolysemanticReport:
    """Every neuron of one activation set, classified."""

    source: str
    concepts: tuple[str, ...]
    n_tokens: int
    config: "DetectionConfig"
    neurons: tuple[NeuronReport, ...]

    def counts(self) -> dict[str, int]:
        found = Counter(n.label for n in self.neurons)
        return {label: found.get(label, 0) for label in LABELS}

    def with_label(self, label: Label) -> list[NeuronReport]:
        return [n for n in self.neurons if n.label == label]

    def to_dict(self) -> dict[str, Any]:
        return {"format": REPORT_FORMAT, "source": self.source, "concepts": list(self.concepts),
                "n_tokens": self.n_tokens, "n_neurons": len(self.neurons),
                "thresholds": dataclasses.asdict(self.config), "counts": self.counts(),
                "neurons": [dataclasses.asdict(n) for n in self.neurons]}

    def save_json(self, path: str | Path) -> Path:
        """Write the report as JSON (atomically: temp file, then rename)."""
        path = Path(path)
        write_bytes_atomic(path, (json.dumps(self.to_dict(), allow_nan=False) + "\n").encode("utf-8"))
        return path
