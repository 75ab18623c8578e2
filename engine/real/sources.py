"""Model sources behind one interface: where an :class:`ActivationSet` can come from.

``open_source(spec, layer)`` understands:

- ``minilm``                 the shipped all-MiniLM-L6-v2 (default; no network),
- ``digits``                 a 64-32-10 ReLU MLP trained on the spot on scikit-learn's digits,
- ``hf:<name-or-folder>``    any Hugging Face model already on this machine (offline),
- a path to an ``.npz``      a user's activation file (docs/activations.md).

Every source has a ``name``, a human-readable ``description`` (model and hook point), the
``concepts`` it knows and ``capture(concepts, layer=...)`` (the interface and the checks sources
share live in :mod:`engine.real.source_base`; this module is only the registry). Problems are
one-line :class:`SourceError` messages, never stack traces from a model hub.
"""
from __future__ import annotations

from pathlib import Path

from engine.real.file_source import FileSource
from engine.real.source_base import (NeuronSource, SourceError, check_concepts, check_layer,
                                     mlp_hook)

__all__ = ["DEFAULT_SOURCE", "FileSource", "NeuronSource", "SourceError", "check_concepts", "check_layer",
           "mlp_hook", "open_source"]

DEFAULT_SOURCE = "minilm"


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
