"""Benchmark: `render.py --all` at low quality, cold cache vs unchanged re-run, --jobs 1 vs --jobs 2.

    python bench/render_all.py [--scene NAME ...]

Ratios come from one run on one machine, so shared-machine noise mostly cancels.
Targets (issue 7): unchanged re-run under 5% of the cold run; --jobs 2 at least 1.5x --jobs 1.
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from common import render_cmd, table, timed


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
        jobs1 = timed(render_cmd(*what, "--out", str(tmp / "b"), "--jobs", "1"), env)
        jobs2 = timed(render_cmd(*what, "--out", str(tmp / "c"), "--jobs", "2"), env)
    rows = [
        ("cold cache, --jobs 2", f"{cold:.1f}", "1.00", ""),
        ("unchanged re-run", f"{warm:.1f}", f"{warm / cold:.3f}", "target < 0.05 of cold"),
        ("warm timelines, --jobs 1", f"{jobs1:.1f}", "1.00", ""),
        ("warm timelines, --jobs 2", f"{jobs2:.1f}", f"{jobs1 / jobs2:.2f}x faster", "target >= 1.5x"),
    ]
    print(table(rows, ("run", "seconds", "ratio", "target")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
