"""Toy models of superposition (Elhage et al. 2022): train, measure, and the 2-feature phase diagram.

Importing does no work: torch is imported only when training is first asked for (``train``,
``train_cached``, ``ToyRun``), so validating a ``ToyConfig`` (as an unchanged ``render.py --all``
does for every toy scene) costs no torch import. Training lives in ``engine.toy.training``.
"""
from __future__ import annotations

from typing import Any

from engine.toy.config import ToyConfig, ToyConfigError

__all__ = ["ToyConfig", "ToyConfigError", "ToyRun", "train", "train_cached"]
_TRAINING = {"ToyRun", "train", "train_cached"}


def __getattr__(name: str) -> Any:
    if name in _TRAINING:
        from engine.toy import training
        return getattr(training, name)
    raise AttributeError(f"module 'engine.toy' has no attribute {name!r}")
