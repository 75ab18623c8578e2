"""Benchmark: one long scene split into pieces across workers, against the whole scene on one worker.

    python bench/scaling.py [--scene grid_minilm] [--quality medium] [--pieces 2 4 8] [--catalogue]

For each piece count k the scene renders with ``--jobs k --split k`` (k workers, k pieces) and is
compared with ``--jobs 1 --split 1`` in the same run, so machine noise mostly cancels. Printed: wall
seconds, speedup, parallel efficiency (speedup / k) and the CPU bound: cores busy (CPU seconds over
wall seconds, the render's processes together) over the machine's cores. One worker already keeps
about 1.5 cores busy (drawing, plus encoding beside it), so on C cores k pieces can gain at most
about C / b for b cores busy whole: the table prints that bound beside the speedup.

The model printed last extrapolates to 16 and 64 cores from this run's numbers: a piece costs its
share of the frames plus a fixed start-up s (imports, timeline, scene build: the whole render's time
not spent on frames) plus skipping to its first phase, and the join is a remux (pipeline/pieces.py).
With --catalogue, the whole catalogue renders at --quality high with and without splitting (slow:
tens of minutes on 2 cores; --duration caps each scene).
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

from common import measured, render_cmd, table

JOIN_S_PER_1000_FRAMES = 0.03  # measured by bench/pieces.py (a remux; independent of frame size)
SKIP_S_PER_PHASE = 0.035  # bench/pieces.py: 30-40 ms to skip one phase


def cores() -> int:
    return len(os.sched_getaffinity(0))


def run(args: list[str], out: Path) -> tuple[float, float]:
    return measured(render_cmd(*args, "--out", str(out), "--force"))


def model(pooled_s: float, drawing_s: float, phases: int, frames: int, k: int) -> float:
    """Predicted wall seconds for k pieces on k workers with the cores to feed them: the pooled whole
    render (``pooled_s``: start-up, a worker's start-up, drawing) with its drawing divided by k, plus the
    longest skip (the last piece skips all but its own phases) and the join."""
    skip = SKIP_S_PER_PHASE * phases * (k - 1) / k
    return pooled_s - drawing_s + drawing_s / k + skip + JOIN_S_PER_1000_FRAMES * frames / 1000


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scene", default="grid_minilm", help="the long scene to split (default grid_minilm)")
    p.add_argument("--quality", default="medium", help="render.py --quality (default medium: 720p30; high is 1080p60)")
    p.add_argument("--pieces", type=int, nargs="+", default=[2, 4, 8], help="piece counts (and workers) to try")
    p.add_argument("--catalogue", action="store_true", help="also the whole catalogue at --quality high, split or not")
    p.add_argument("--duration", type=float, help="cap each scene's length (seconds) to keep a run short")
    args = p.parse_args()
    base = ["--scene", args.scene, "--quality", args.quality] + (["--duration", str(args.duration)] if args.duration else [])
    n = cores()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run(base + ["--format", "png"], tmp / "warm")  # timeline built or loaded into the cache first
        still, _ = run(base + ["--format", "png", "--jobs", "1"], tmp / "still")  # start-up + one frame
        whole, cpu = run(base + ["--jobs", "1", "--split", "1"], tmp / "whole")
        pooled, _ = run(base + ["--jobs", "2", "--split", "1"], tmp / "pooled")  # the same, in a worker process
        entry = json.loads((tmp / "whole" / "manifest.json").read_text())["scenes"][0]
        frames, phases = entry["frames"], len(entry["phases"])
        busy = cpu / whole
        rows = [("whole, in process", f"{whole:.1f}", "1.00", "1.00", f"{busy:.2f} / {n}", f"{n / busy:.2f}"),
                ("whole, 1 worker", f"{pooled:.1f}", f"{whole / pooled:.2f}", "", "", "")]
        for k in args.pieces:
            wall, cpu_k = run(base + ["--jobs", str(k), "--split", str(k)], tmp / f"split{k}")
            rows.append((f"{k} pieces, {k} workers", f"{wall:.1f}", f"{whole / wall:.2f}", f"{whole / wall / k:.2f}",
                         f"{cpu_k / wall:.2f} / {n}", f"{min(k * busy, n) / busy:.2f}"))
    print(f"{args.scene} at --quality {args.quality}: {frames} frames, {phases} phases, {n} cores")
    print(table(rows, ("render", "wall s", "speedup", "efficiency", "cores busy", "CPU bound")))
    drawing = whole - still
    print(f"\nmeasured: start-up (a one-frame render) {still:.1f} s, drawing {drawing:.1f} s, a worker process "
          f"{pooled - whole:+.1f} s; skip {SKIP_S_PER_PHASE * 1000:.0f} ms a phase; "
          f"join {JOIN_S_PER_1000_FRAMES * 1000:.0f} ms per 1000 frames")
    preds = []
    for c in (2, 16, 64):
        k = min(max(1, round(c / busy)), phases)  # as many workers as the cores feed, one piece each
        t = model(pooled, drawing, phases, frames, k)
        preds.append((str(c), str(k), f"{t:.1f}", f"{whole / t:.2f}"))
    print("\nmodel (pieces cannot outnumber phases; start-up is paid by every piece):")
    print(table(preds, ("cores", "pieces", "predicted wall s", "predicted speedup")))
    if args.catalogue:
        cat = ["--all", "--quality", "high"] + (["--duration", str(args.duration)] if args.duration else [])
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            plain, _ = run(cat + ["--jobs", str(n), "--split", "1"], tmp / "plain")
            split, _ = run(cat + ["--jobs", str(n), "--split", "2"], tmp / "split")
        print(table([("--all --quality high, whole scenes", f"{plain:.1f}", "1.00"),
                     ("--all --quality high, --split 2", f"{split:.1f}", f"{plain / split:.2f}")],
                    ("render", "wall s", "speedup")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
