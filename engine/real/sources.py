"""Model sources behind one interface: where an :class:`ActivationSet` can come from.

``open_source(spec, layer)`` understands:

- ``minilm``                 the shipped all-MiniLM-L6-v2 (default; no network),
- ``digits``                 a 64-32-10 ReLU MLP trained on the spot on scikit-learn's digits,
- ``hf:<name-or-folder>``    any Hugging Face model already on this machine (offline),
- a path to an ``.npz``      a user's activation file (docs/activations.md).

Every source has a ``name``, a human-readable ``description`` (model and hook point), the
``concepts`` it knows and ``capture(concepts, layer=...)``. Problems are one-line
:class:`SourceError` messages, never stack traces from a model hub.
"""
from __future__ import annotations

from pathlib import Path
from typing import Protocol, Sequence, runtime_checkable

from engine.real.activations import ActivationSet, load_activations

DEFAULT_SOURCE = "minilm"


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


def open_source(spec: str = DEFAULT_SOURCE, layer: int | None = None, **options) -> NeuronSource:
    """Open a source by its spec (see module docstring). ``layer=None`` picks the source's default."""
    if spec == "minilm":
        from engine.real.minilm import open_minilm
        return open_minilm(layer=layer, **options)
    if spec == "digits":
        from engine.real.digits import DigitsSource
        return DigitsSource(layer=0 if layer is None else layer, **options)
    if spec.startswith("hf:"):
        from engine.real.hf import open_hf
        return open_hf(spec[3:], layer=layer, **options)
    if spec.endswith(".npz") or Path(spec).is_file():
        return FileSource(spec)
    raise SourceError(f"unknown source '{spec}': use minilm, digits, hf:<model-name-or-folder> "
                      f"or the path of an .npz activation file")
