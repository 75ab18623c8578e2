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
           "check_spec", "mlp_hook", "open_source"]

DEFAULT_SOURCE = "minilm"
DIGITS_LAYERS = 1  # engine.real.digits.DigitsSource.n_layers, here so checking a layer needs no torch


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
    raise _unknown(spec)


def check_spec(spec: str, layer: int | None = None) -> None:
    """Everything about a source spec and layer that can be checked before a render starts, without
    loading weights, training or capturing: the source exists, a Hugging Face model is on disk with
    its weights and config, and the layer is one it has. A user's file is not read here (its
    scene's settings validate it)."""
    if layer is not None and (not isinstance(layer, int) or isinstance(layer, bool)):
        raise SourceError(f"layer {layer!r} is not a block number")
    if spec == "digits":
        if layer is not None:
            check_layer(layer, DIGITS_LAYERS, "the digits MLP")
    elif spec == "minilm" or spec.startswith("hf:"):
        open_source(spec, layer=layer)  # reads the config only; the model loads when something is captured
    elif not (spec.endswith(".npz") or Path(spec).is_file()):
        raise _unknown(spec)


def _unknown(spec: str) -> SourceError:
    return SourceError(f"unknown source '{spec}': use minilm, digits, hf:<model-name-or-folder> "
                       f"or the path of an .npz activation file")
