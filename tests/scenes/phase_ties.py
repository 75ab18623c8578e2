"""Phase-diagram fixtures: a cell's label may change between CPUs, but only where two solutions tie.

A cell's label is a discrete outcome: the theory picks the candidate of lowest expected loss (an
L-BFGS optimum whose loss drifts up to 7e-4 relative across kernels), training keeps the seed of
lowest loss and labels its weights against a 0.5 threshold. Where two candidates, two seeds, or a
weight and the threshold are that close, last-bit noise can pick the other one. Such a flip is
accepted only if the cell's loss is the same within ``TIE`` in both builds (two solutions that cost
the same: a near tie) and at most ``MAX_FLIPS`` cells of each grid flip; everything else is compared
as usual, and the numbers that count cells are checked against the fresh labels they derive from.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from engine.timeline import Timeline
from tests.approx import Tol
from tests.scenes.fixtures import TRAINED, timeline_diffs

MAX_FLIPS = 1  # cells per grid (theory, trained): none flipped under any kernel tried on the 6x6 fixture
TIE = 1e-2     # a flipped cell's loss may differ by 1%: 10x the theory's drift, far below a different solution's
GRIDS = {"theory": ("theory_label", "theory_loss", "theory_W"),
         "trained": ("trained_label", "trained_loss", "trained_W", "trained_b")}
# Fields derived from the labels: with a flip they are checked against the fresh labels instead.
DERIVED = ("meta.n_agree", "meta.agreement", "meta.present", "arrays.excess_loss", "segments.agreement.caption")
# The theory's optimum is flat in W: its loss is fixed to ~1e-6 but W only to about the square root
# of that (drift <= 1.9e-3 of scale), and its per-cell loss drifts <= 6.8e-4 relative. Losses span
# orders of magnitude across cells, so they are compared entry by entry; the excess loss is a ratio
# trained / theory - 1 (drift <= 4.5e-4 relative), compared relative to the ratio itself.
ARRAYS = {"theory_W": Tol(rel=2e-2), "theory_loss": Tol(rel=5e-3, entrywise=True),
          "trained_loss": Tol(rel=1e-3, entrywise=True), "excess_loss": Tol(rel=5e-3, abs=5e-3, entrywise=True)}


def flips(fresh: Timeline, fixture: Timeline) -> tuple[dict[str, np.ndarray], list[str]]:
    """The cells whose label differs, per grid, and why any of them is not allowed."""
    out, problems = {}, []
    for grid, (label, loss, *_) in GRIDS.items():
        a, b = fresh.arrays[label], fixture.arrays[label]
        if a.shape != b.shape:
            return {}, [f"arrays.{label}: shape {a.shape}, fixture {b.shape}"]
        cells = np.argwhere(a != b)
        out[grid] = cells
        if len(cells) > MAX_FLIPS:
            problems.append(f"{grid}: {len(cells)} cells changed label, at most {MAX_FLIPS} may (near ties): "
                            f"{[tuple(c) for c in cells]}")
        for c in map(tuple, cells):
            x, y = float(fresh.arrays[loss][c]), float(fixture.arrays[loss][c])
            if not Tol(rel=TIE).allows(x, y):
                problems.append(f"{grid} cell {c}: label {b[c]} -> {a[c]} with loss {y:.6g} -> {x:.6g}: "
                                f"not a near tie (allowed {TIE:.0%})")
    return out, problems


def phase_diffs(fresh: Timeline, fixture: Timeline, tol: Tol = TRAINED, arrays: dict[str, Tol] = ARRAYS) -> list[str]:
    """:func:`timeline_diffs`, letting near-tie cells flip (see the module docstring)."""
    flipped, problems = flips(fresh, fixture)
    if problems:
        return problems
    if not any(len(c) for c in flipped.values()):
        return timeline_diffs(fresh, fixture, tol, arrays)
    # Compare everything else with the flipped cells taken from the fixture...
    patched = dict(fresh.arrays)
    for grid, cells in flipped.items():
        for name in GRIDS[grid] + ("stuck",):
            patched[name] = patched[name].copy()
            for c in map(tuple, cells):
                patched[name][c] = fixture.arrays[name][c]
    diffs = timeline_diffs(dataclasses.replace(fresh, arrays=patched), fixture, tol, arrays)
    diffs = [d for d in diffs if not d.startswith(DERIVED)]
    # ...and what counts cells against the fresh labels it comes from.
    theory, trained = fresh.arrays["theory_label"], fresh.arrays["trained_label"]
    n_agree, n_cells = int((theory == trained).sum()), theory.size
    caption = fresh.segments[fresh.segment_index("agreement")].caption
    if fresh.meta["n_agree"] != n_agree or f"in {n_agree} of {n_cells} cells" not in caption:
        diffs.append(f"n_agree {fresh.meta['n_agree']} / caption {caption!r} do not match {n_agree} agreeing cells")
    if abs(n_agree - fixture.meta["n_agree"]) > sum(len(c) for c in flipped.values()):
        diffs.append(f"n_agree {n_agree}, fixture {fixture.meta['n_agree']}: more than the flipped cells explain")
    if fresh.meta["present"] != sorted(set(theory.ravel().tolist()) | set(trained.ravel().tolist())):
        diffs.append(f"meta.present {fresh.meta['present']} is not the set of fresh labels")
    miss = theory != trained
    excess = fresh.arrays["trained_loss"][miss] / np.maximum(fresh.arrays["theory_loss"][miss], 1e-12) - 1
    if not np.allclose(fresh.arrays["excess_loss"], excess):
        diffs.append("arrays.excess_loss is not the fresh cells' trained / theory loss - 1")
    return diffs


def assert_same_phase_diagram(fresh: Timeline, fixture: Timeline, tol: Tol = TRAINED,
                              arrays: dict[str, Tol] = ARRAYS) -> None:
    diffs = phase_diffs(fresh, fixture, tol, arrays)
    assert not diffs, f"{len(diffs)} differences from the fixture:\n  " + "\n  ".join(diffs)
