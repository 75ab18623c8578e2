"""The interface every neuron source implements, and the checks they share.

Sources (``minilm``, ``digits``, ``hf``, a user's file) import this module; the registry
(:mod:`engine.real.sources`) imports the sources. Keeping the interface below both means no
source has to import the registry that imports it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

if TYPE_CHECKING:
    from engine.real.activations import ActivationSet


class SourceError(ValueError):
    """A source cannot be opened or cannot do what was asked; the message is one line."""


def mlp_hook(layer: int) -> str:
    """TransformerLens name of the post-nonlinearity MLP activations of block ``layer``."""
    return f"blocks.{layer}.mlp.hook_post"


@runtime_checkable
class NeuronSource(Protocol):
    """Anything that can produce activations of one layer's neurons on concepts."""

    name: str
    layer: int
    n_layers: int

    @property
    def description(self) -> str:
        """E.g. ``all-MiniLM-L6-v2 (6-layer BERT), blocks.3.mlp.hook_post``."""

    @property
    def concepts(self) -> tuple[str, ...]:
        """Concepts this source can capture."""

    def capture(self, concepts: Sequence[str] | None = None, *, layer: int | None = None,
                neurons: Sequence[int] | None = None, quiet: bool = True) -> ActivationSet:
        """Activations of ``layer`` (default: the source's layer) on these concepts (default: all)."""


def check_layer(layer: int, n_layers: int, what: str) -> int:
    if not 0 <= layer < n_layers:
        raise SourceError(f"{what} has layers 0..{n_layers - 1}; layer {layer} does not exist")
    return layer


def check_concepts(requested: Sequence[str] | None, known: Sequence[str], what: str) -> tuple[str, ...]:
    if requested is None:
        return tuple(known)
    unknown = [c for c in requested if c not in known]
    if unknown:
        raise SourceError(f"{what} knows no concept '{unknown[0]}' (it knows: {', '.join(known)})")
    if not requested:
        raise SourceError(f"no concepts asked of {what}")
    return tuple(requested)
