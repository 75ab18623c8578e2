"""A user's activation file as a neuron source: its concepts are whatever it labels."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from engine.real.activations import ActivationSet, load_activations
from engine.real.source_base import check_concepts


class FileSource:
    """A user's activation file, treated as a source: its concepts are whatever it labels."""

    n_layers = 1

    def __init__(self, path: str | Path, layer: int = 0):
        self.path = Path(path)
        self.acts = load_activations(self.path)
        self.name = f"file:{self.path}"
        self.layer = layer

    @property
    def description(self) -> str:
        origin = self.acts.source or f"{self.acts.n_neurons} neurons"
        if self.acts.hook and self.acts.hook not in origin:
            origin = f"{origin}, {self.acts.hook}"
        return f"{origin} (from {self.path.name})"

    @property
    def concepts(self) -> tuple[str, ...]:
        return self.acts.concepts

    def capture(self, concepts: Sequence[str] | None = None, *, layer: int | None = None,
                neurons: Sequence[int] | None = None, quiet: bool = True) -> ActivationSet:
        wanted = check_concepts(concepts, self.concepts, self.name)
        return self.acts.select(concepts=wanted, neurons=neurons)
