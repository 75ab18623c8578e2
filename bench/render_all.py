"""Benchmark: `render.py --all` at low quality, cold cache vs unchanged re-run, --jobs 1 vs --jobs 2.

    python bench/render_all.py [--scene NAME ...]

Ratios come from one run on one machine, so shared-machine noise mostly cancels.
Targets (issue 7): unchanged re-run under 5% of the cold run; --jobs 2 at least 1.5x --jobs 1.

"Cores busy" is CPU seconds over wall seconds. A single job already keeps more than one core
busy (Manim encodes beside drawing), so if two jobs do the same CPU work as one after the other,
on C cores --jobs 2 can be about min(C, 2 b) / b times faster, b being the cores busy with
--jobs 1. The table prints that bound beside the ratio; it is an estimate from CPU totals, not a
hard limit (the two runs' totals differ by a few percent, so a run can land slightly above it).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import os

from common import measured, render_cmd, table, timed


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scene", action="append", default=[], help="limit to these scenes (default: --all)")
    args = p.parse_args()
    what = [a for s in args.scene for a in ("--scene", s)] or ["--all"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env = {"NEUROREEL_CACHE": str(tmp / "cache")}  # cold: trains, captures, builds every timeline
        cold = timed(render_cmd(*what, "--out", str(tmp / "a"), "--jobs", "2"), env)
        warm = timed(render_cmd(*what, "--out", str(tmp / "a"), "--jobs", "2"), env)
        jobs1, cpu1 = measured(render_cmd(*what, "--out", str(tmp / "b"), "--jobs", "1"), env)
        jobs2, cpu2 = measured(render_cmd(*what, "--out", str(tmp / "c"), "--jobs", "2"), env)
    busy1, busy2 = cpu1 / jobs1, cpu2 / jobs2
    bound = min(len(os.sched_getaffinity(0)), 2 * busy1) / busy1  # two jobs' worth of work, or every core
    rows = [
        ("cold cache, --jobs 2", f"{cold:.1f}", "1.00", "", ""),
        ("unchanged re-run", f"{warm:.1f}", f"{warm / cold:.3f}", "", "target < 0.05 of cold"),
        ("warm timelines, --jobs 1", f"{jobs1:.1f}", "1.00", f"{busy1:.2f}", ""),
        ("warm timelines, --jobs 2", f"{jobs2:.1f}", f"{jobs1 / jobs2:.2f}x faster", f"{busy2:.2f}",
         f"target >= 1.5x; CPU bound here ~{bound:.2f}x"),
    ]
    print(table(rows, ("run", "seconds", "ratio", "cores busy", "target")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
