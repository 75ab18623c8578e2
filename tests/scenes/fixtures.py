"""Small timelines made by the real engine and committed, so golden frames test drawing, not float noise.

Each ``tests/scenes/test_*.py`` that has a golden frame defines ``__module_test__`` (the fixture's
name) and ``build_fixture()`` (the engine call, at reduced settings). Regenerate after a deliberate
change to a builder with ``python -m tests.scenes.fixtures [NAME ...]``, then refresh the golden
frames with ``pytest tests/scenes --set_test`` and look at them.

A fixture is compared with a fresh build within tolerances that fit each quantity (``CAPTURED``,
``TRAINED``, ``DIGITS`` below), since the engine's floats are bit-identical on one machine only.
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Mapping

import numpy as np

from engine.timeline import Timeline
from tests.approx import Tol, array_diffs, structure_diffs, text_diffs

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


def bound(scene_cls: type, timeline: Timeline | None, **scene_kwargs) -> type:
    """``scene_cls`` with its timeline (and any other arguments, e.g. ``theme="light"``) fixed, as Manim's
    frames_comparison builds scenes without arguments."""
    class Bound(scene_cls):
        def __init__(self, **kwargs):
            super().__init__(timeline=timeline, **{**scene_kwargs, **kwargs})
    Bound.__name__ = f"Bound{scene_cls.__name__}" + "".join(f"_{v}" for v in scene_kwargs.values() if isinstance(v, str))
    return Bound


# How far a fresh build may drift from its fixture when the CPU (and so torch's and numpy's SIMD
# kernels) differs. Measured on one machine by rebuilding every fixture under ATEN_CPU_CAPABILITY
# avx512/avx2/default, NPY_DISABLE_CPU_FEATURES and MKL_ENABLE_INSTRUCTIONS AVX2/SSE4_2; each tolerance
# is 6-20 times the largest drift seen (noted beside it), and far below what a change to a builder moves
# (tests/test_approx.py checks each catches such a shift).
# Forward passes of a fixed network (MiniLM) and statistics of them: <= 1.1e-6 of scale. Counts of neurons
# passing the permutation null: one neuron flips class on a CPU without AVX (all counts it enters move by 1).
CAPTURED = Tol(rel=1e-5, counts=2)
TRAINED = Tol(rel=1e-3)   # toy models, a few thousand float32 Adam steps: <= 5.2e-5 of scale (toy_phase biases)
DIGITS = Tol(rel=5e-3)    # the digits MLP, trained on the spot, amplifies the most: <= 8e-4 of scale
_EXACTISH = Tol(rel=1e-9)  # durations and keyframe times: set by settings, not by kernels


def _chance_levels(tree, where: str = "meta") -> dict[str, dict]:
    """Every chance-level summary ({"mean", "max", ...}: a count on label shuffles) in a meta tree, by path."""
    found = {}
    if isinstance(tree, dict):
        if {"mean", "max"} <= set(tree):
            return {where: tree}
        for k, v in tree.items():
            found.update(_chance_levels(v, f"{where}.{k}"))
    return found


def _without_chance(tree):
    if isinstance(tree, dict):
        return {k: _without_chance(v) for k, v in tree.items() if not (isinstance(v, dict) and {"mean", "max"} <= set(v))}
    return tree


def chance_diffs(fresh: dict, fixture: dict, flips: int, shuffles: int = 20, counts: int = 0) -> list[str]:
    """Chance levels are counts over label shuffles: where the engine's floats drift (a retrained model),
    one shuffle's count may move by one where a response sits on the threshold. ``flips`` such moves
    are allowed: the mean by flips / shuffles, the max by one (if any flips); every real count within ``counts``."""
    a, b = _chance_levels(fresh), _chance_levels(fixture)
    if set(a) != set(b):
        return [f"chance levels at {sorted(a)}, fixture {sorted(b)}"]
    d = []
    for path, want in b.items():
        got = a[path]
        if "real" in want and (got.get("real") is None or abs(got["real"] - want["real"]) > counts):
            d.append(f"{path}.real: {got.get('real')}, fixture {want['real']}")
        for key, allowed in (("mean", flips / shuffles), ("max", min(flips, 1))):
            g, w = np.asarray(got[key], dtype=float), np.asarray(want[key], dtype=float)  # a count, or a matrix of them
            if g.shape != w.shape or np.abs(g - w).max(initial=0.0) > allowed + 1e-9:
                d.append(f"{path}.{key}: {got[key]}, fixture {want[key]} (allowed {flips} flips in {shuffles} shuffles)")
    return d


def timeline_diffs(fresh: Timeline, fixture: Timeline, tol: Tol, arrays: Mapping[str, Tol] | None = None,
                   chance_flips: int = 0) -> list[str]:
    """Every way ``fresh`` differs from ``fixture`` beyond ``tol`` (or ``arrays[name]`` for one array or
    track): names, kinds, shapes, integers and words exactly; floats and numbers in captions within tol;
    chance levels (counts on label shuffles) within ``chance_flips`` flipped responses."""
    arrays = arrays or {}
    d = []
    for field in ("kind", "title", "source"):
        d += text_diffs(getattr(fresh, field), getattr(fixture, field), tol, field)
    if [s.name for s in fresh.segments] != [s.name for s in fixture.segments]:
        return d + [f"segments: {[s.name for s in fresh.segments]}, fixture {[s.name for s in fixture.segments]}"]
    for a, b in zip(fresh.segments, fixture.segments):
        where = f"segments.{b.name}"
        d += structure_diffs(a.duration, float(b.duration), _EXACTISH, f"{where}.duration")
        d += structure_diffs(a.easing, b.easing, tol, f"{where}.easing")
        d += text_diffs(a.caption, b.caption, tol, f"{where}.caption")
    d += structure_diffs(_without_chance(fresh.meta), _without_chance(fixture.meta), tol, "meta")
    d += chance_diffs(fresh.meta, fixture.meta, chance_flips, counts=tol.counts)
    if set(fresh.tracks) != set(fixture.tracks) or set(fresh.arrays) != set(fixture.arrays):
        return d + [f"tracks {sorted(fresh.tracks)} / arrays {sorted(fresh.arrays)}, fixture "
                    f"{sorted(fixture.tracks)} / {sorted(fixture.arrays)}"]
    for k, track in fixture.tracks.items():
        d += structure_diffs(fresh.tracks[k].interpolation, track.interpolation, tol, f"tracks.{k}.interpolation")
        d += array_diffs(fresh.tracks[k].times, track.times, _EXACTISH, f"tracks.{k}.times")
        d += array_diffs(fresh.tracks[k].values, track.values, arrays.get(k, tol), f"tracks.{k}")
    for k, array in fixture.arrays.items():
        d += array_diffs(fresh.arrays[k], array, arrays.get(k, tol), f"arrays.{k}")
    return d


def assert_same_timeline(fresh: Timeline, fixture: Timeline, tol: Tol = CAPTURED,
                         arrays: Mapping[str, Tol] | None = None, chance_flips: int = 0) -> None:
    """The committed fixture is what the engine builds now, within the tolerance the quantity allows."""
    diffs = timeline_diffs(fresh, fixture, tol, arrays, chance_flips)
    assert not diffs, f"{len(diffs)} differences from the fixture:\n  " + "\n  ".join(diffs)
