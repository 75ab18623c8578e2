"""Compare what the engine computes now with what it computed on another machine.

The engine's floats are bit-identical on one machine but not across CPUs: torch and numpy pick
different SIMD kernels (AVX-512, AVX2, SSE), which sum in a different order, and training
amplifies those last-bit differences. So a committed result is compared with a fresh one
structurally: every string, integer, key and shape exactly; every float within a tolerance
that fits the quantity (``Tol``); numbers embedded in text (captions) parsed out and compared
as numbers. Every function returns a list of differences (empty when the two agree), so a
failure names every field that moved and by how much, not just the first.
"""
from __future__ import annotations

import math
import numbers
import re
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Tol:
    """``|fresh - fixture| <= rel * scale + abs``. For a scalar the scale is its own magnitude. For an
    array it is the array's largest magnitude, since entries near zero come from cancellation and
    have no meaningful relative error; ``entrywise`` makes it each entry's own magnitude instead,
    for quantities such as losses that span orders of magnitude and are each meaningful."""

    rel: float
    abs: float = 0.0
    entrywise: bool = False
    # Whole numbers that count neurons passing a permutation test may move by this much: a response whose
    # contrast ties a permuted one to the last bit can land on either side under other SIMD kernels.
    counts: int = 0

    def allows(self, fresh: float, fixture: float, scale: float | None = None) -> bool:
        if not (math.isfinite(fresh) and math.isfinite(fixture)):
            return fresh == fixture
        if scale is None:
            scale = max(abs(fresh), abs(fixture))
        return abs(fresh - fixture) <= self.rel * scale + self.abs


# A number as captions write it: optional minus (ASCII or U+2212), thousands commas, decimals, and
# whether a % follows (a rounded measurement, not a count).
_NUMBER = re.compile(r"(?<![\w.])([-\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?)(%?)")


def numbers_in(text: str) -> tuple[str, list[tuple[float, int | None]]]:
    """``text`` with each number replaced by ``#``, and the numbers as (value, decimals shown), where
    decimals is None for a whole number without % (a count, compared exactly).

    Digits glued to letters (``L5 N394``, ``blocks.5``, ``W\u2082``) stay in the text: they are names,
    compared exactly."""
    found = []

    def take(m: re.Match) -> str:
        s = m.group(1).replace("\u2212", "-").replace(",", "")
        decimals = len(s.split(".")[1]) if "." in s else (0 if m.group(2) else None)
        found.append((float(s), decimals))
        return "#" + m.group(2)

    return _NUMBER.sub(take, text), found


def text_diffs(fresh: str, fixture: str, tol: Tol, where: str = "") -> list[str]:
    """Same words; rounded measurements (decimals, percentages) within ``tol`` or one unit of their
    last shown digit (a value on a rounding boundary may round either way); counts exactly."""
    if fresh == fixture:
        return []
    skeleton, got = numbers_in(fresh)
    skeleton0, want = numbers_in(fixture)
    if skeleton != skeleton0 or len(got) != len(want):
        return [f"{where}: text differs:\n    fresh:   {fresh!r}\n    fixture: {fixture!r}"]
    out = []
    for (a, da), (b, db) in zip(got, want):
        if da is None or db is None:
            ok = abs(a - b) <= tol.counts
        else:
            ok = tol.allows(a, b) or abs(a - b) <= 10.0 ** -max(da, db) * (1 + 1e-9)
        if not ok:
            out.append(f"{where}: number {a:g} in the fresh text, {b:g} in the fixture's: {fixture!r}")
    return out


def structure_diffs(fresh: Any, fixture: Any, tol: Tol, where: str = "") -> list[str]:
    """Walk nested dicts and lists: keys, lengths, strings and integers exact; floats within ``tol``."""
    if isinstance(fixture, dict):
        if not isinstance(fresh, dict):
            return [f"{where}: {type(fresh).__name__} where the fixture has a dict"]
        if set(fresh) != set(fixture):
            return [f"{where}: keys differ: only fresh {sorted(set(fresh) - set(fixture))}, "
                    f"only fixture {sorted(set(fixture) - set(fresh))}"]
        return [d for k in fixture for d in structure_diffs(fresh[k], fixture[k], tol, f"{where}.{k}")]
    if isinstance(fixture, (list, tuple)):
        if not isinstance(fresh, (list, tuple)) or len(fresh) != len(fixture):
            return [f"{where}: {fresh!r} where the fixture has {fixture!r}"]
        return [d for i, (a, b) in enumerate(zip(fresh, fixture)) for d in structure_diffs(a, b, tol, f"{where}[{i}]")]
    if isinstance(fixture, str):
        if not isinstance(fresh, str):
            return [f"{where}: {fresh!r} where the fixture has {fixture!r}"]
        return text_diffs(fresh, fixture, tol, where)
    numeric = all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in (fresh, fixture))
    if numeric and not all(isinstance(v, numbers.Integral) for v in (fresh, fixture)):
        a, b = float(fresh), float(fixture)
        if (math.isnan(a) and math.isnan(b)) or a == b or tol.allows(a, b):
            return []
        return [f"{where}: {a!r}, fixture {b!r} (off by {abs(a - b):.3g}, allowed {tol})"]
    if numeric:
        return [] if abs(int(fresh) - int(fixture)) <= tol.counts else [f"{where}: {fresh!r} where the fixture has {fixture!r}"]
    if type(fresh) is not type(fixture) or fresh != fixture:
        return [f"{where}: {fresh!r} where the fixture has {fixture!r}"]
    return []


def array_diffs(fresh: np.ndarray, fixture: np.ndarray, tol: Tol, where: str = "") -> list[str]:
    """Shapes and kinds exact; integer and boolean arrays exact; floats within ``tol`` of the array's scale."""
    fresh, fixture = np.asarray(fresh), np.asarray(fixture)
    if fresh.shape != fixture.shape:
        return [f"{where}: shape {fresh.shape}, fixture {fixture.shape}"]
    if fixture.dtype.kind != "f" or fresh.dtype.kind != "f":
        if fresh.dtype.kind != fixture.dtype.kind and {fresh.dtype.kind, fixture.dtype.kind} - set("iu"):
            return [f"{where}: dtype {fresh.dtype}, fixture {fixture.dtype}"]
        wrong = np.argwhere(fresh != fixture)
        return [f"{where}: {len(wrong)} entries differ, first at {tuple(wrong[0])}: "
                f"{fresh[tuple(wrong[0])]!r} vs {fixture[tuple(wrong[0])]!r}"] if len(wrong) else []
    if fixture.size == 0:
        return []
    if not np.array_equal(np.isfinite(fresh), np.isfinite(fixture)):
        return [f"{where}: non-finite entries differ"]
    finite = np.isfinite(fixture)
    if not np.array_equal(fresh[~finite], fixture[~finite]):
        return [f"{where}: infinities differ"]
    a, b = fresh[finite].astype(float), fixture[finite].astype(float)
    off = np.abs(a - b)
    if tol.entrywise:
        allowed = tol.rel * np.maximum(np.abs(a), np.abs(b)) + tol.abs
        bad = np.flatnonzero(off > allowed)
        return [f"{where}: {len(bad)} entries off by more than {tol}, e.g. {a[bad[0]]!r} vs {b[bad[0]]!r}"] if len(bad) else []
    scale = float(np.abs(b).max(initial=0.0))
    worst = float(off.max(initial=0.0))
    if worst <= tol.rel * scale + tol.abs:
        return []
    return [f"{where}: off by up to {worst:.3g} ({worst / scale if scale else math.inf:.2g} of its scale "
            f"{scale:.3g}); allowed {tol}"]
