"""Small timelines made by the real engine and committed, so golden frames test drawing, not float noise.

Each ``tests/scenes/test_*.py`` that has a golden frame defines ``__module_test__`` (the fixture's
name) and ``build_fixture()`` (the engine call, at reduced settings). Regenerate after a deliberate
change to a builder with ``python -m tests.scenes.fixtures [NAME ...]``, then refresh the golden
frames with ``pytest tests/scenes --set_test`` and look at them.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

from engine.timeline import Timeline

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"


def load(name: str) -> Timeline:
    return Timeline.load(FIXTURES / f"{name}.json")


def builders() -> dict[str, object]:
    found = {}
    for path in sorted(HERE.glob("test_*.py")):
        module = importlib.import_module(f"tests.scenes.{path.stem}")
        if hasattr(module, "build_fixture"):
            found[module.__module_test__] = module.build_fixture
    return found


def main(names: list[str]) -> None:
    for name, build in builders().items():
        if not names or name in names:
            print(f"wrote {build().save(FIXTURES / f'{name}.json')}")


if __name__ == "__main__":
    main(sys.argv[1:])


def load_or_none(name: str) -> Timeline | None:
    """The fixture, or None while it is being regenerated (test modules must still import then)."""
    try:
        return load(name)
    except Exception:
        return None


def bound(scene_cls: type, timeline: Timeline | None) -> type:
    """``scene_cls`` with its timeline fixed, as Manim's frames_comparison builds scenes without arguments."""
    class Bound(scene_cls):
        def __init__(self, **kwargs):
            super().__init__(timeline=timeline, **kwargs)
    Bound.__name__ = f"Bound{scene_cls.__name__}"
    return Bound


def assert_same_timeline(fresh: Timeline, fixture: Timeline, atol: float = 1e-5) -> None:
    """The committed fixture is what the engine builds now: same phases, metadata and arrays."""
    import numpy as np
    assert fresh.segments == fixture.segments
    assert fresh.meta == fixture.meta
    for k, track in fixture.tracks.items():
        np.testing.assert_allclose(fresh.tracks[k].values, track.values, atol=atol)
    for k, array in fixture.arrays.items():
        np.testing.assert_allclose(fresh.arrays[k], array, atol=atol)
