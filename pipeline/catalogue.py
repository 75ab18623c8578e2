"""The scene catalogue: every video render.py can make, by name.

Entries name their timeline builder and scene class as import paths, so listing the catalogue
imports neither torch nor Manim.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(frozen=True)
class Entry:
    name: str
    description: str
    builder: str  # "module:function" returning a Timeline from settings
    settings: str  # "module:DataclassName" of the builder's settings
    scene: str  # "module:SceneClass"
    overrides: dict[str, Any] = field(default_factory=dict)

    def settings_obj(self, **extra: Any):
        return _resolve(self.settings)(**{**self.overrides, **extra})

    def build_fn(self) -> Callable:
        return _resolve(self.builder)

    def scene_cls(self):
        return _resolve(self.scene)


def _resolve(path: str):
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


CATALOGUE: dict[str, Entry] = {e.name: e for e in [
    Entry("toy_wtw",
          "Toy model (20 features -> 5 dims): W^T W and bias across sparsity, over training",
          builder="engine.timelines.toy_wtw:build", settings="engine.timelines.toy_wtw:WtWSettings",
          scene="scenes.toy_wtw:WtWAcrossSparsity"),
]}


def names() -> list[str]:
    return list(CATALOGUE)
