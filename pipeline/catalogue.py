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
    listed: bool = True  # False: not in --list or --all (a lecture's title card), still --scene NAME

    def settings_obj(self, **extra: Any):
        return _resolve(self.settings)(**{**self.overrides, **extra})

    def build_fn(self) -> Callable:
        return _resolve(self.builder)

    def scene_cls(self):
        return _resolve(self.scene)


def _resolve(path: str):
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


def _load() -> dict[str, Entry]:
    """Entries come from one module per scene family, so families grow without touching each other."""
    entries: list[Entry] = []
    for module in FAMILIES:
        entries += importlib.import_module(module).ENTRIES
    return {e.name: e for e in entries}


FAMILIES = ("pipeline.entries_grid", "pipeline.entries_hunt", "pipeline.entries_toy", "pipeline.entries_toy_more",
            "pipeline.entries_card")
CATALOGUE: dict[str, Entry] = _load()


def names(unlisted: bool = False) -> list[str]:
    """Scene names for --list, --all and the gallery; with ``unlisted``, every entry (e.g. to sweep leftovers)."""
    return [n for n, e in CATALOGUE.items() if unlisted or e.listed]
