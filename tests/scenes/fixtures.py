"""Small timelines made by the real engine and committed, so golden frames test drawing, not float noise.

Regenerate after a deliberate change to a builder: ``python -m tests.scenes.fixtures`` (then
``pytest tests/scenes --set_test`` to refresh the golden frames, and look at them).
"""
from __future__ import annotations

from pathlib import Path

from engine.timeline import Timeline

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def toy_wtw_settings():
    from engine.timelines.toy_wtw import WtWSettings
    return WtWSettings(steps=2000, n_snapshots=6)


BUILDERS = {
    "toy_wtw": lambda: __import__("engine.timelines.toy_wtw", fromlist=["build"]).build(toy_wtw_settings()),
}


def load(name: str) -> Timeline:
    return Timeline.load(FIXTURES / f"{name}.json")


def main() -> None:
    for name, build in BUILDERS.items():
        path = build().save(FIXTURES / f"{name}.json")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
