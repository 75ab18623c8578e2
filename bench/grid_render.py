"""Benchmark: the 7x7 grid scene's render throughput against matplotlib and the PyAV encoding floor.

    python bench/grid_render.py [--scene grid_minilm] [--seconds S]

Frames per second of wall time, set-up included, each in a fresh process, on the same animation
(the same neurons and timeline, by default at the scene's own length, same resolution and fps), at 480p15
and 1080p60. The PyAV floor times encoding alone (frames decoded from our output beforehand).
Ours runs twice per size against a fresh cache: "cold" builds every Text (Pango, SVG parse) and
stores it; "warm" is the usual case of rendering a scene again (another size, an edited timeline),
like matplotlib, whose font cache is built once per machine. Ratios use the warm run.
Targets (issue 7): at 1080p60 >= 0.8x the floor and >= 1.2x matplotlib; at 480p15 >= 0.5x the
floor and >= 1.2x matplotlib.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import ROOT, table, timed

sys.path.insert(0, str(ROOT))

SIZES = ((854, 480, 15), (1920, 1080, 60))
OURS = """
import sys; sys.path.insert(0, {root!r})
from pipeline.worker import RenderJob, render
from pipeline.settings import RenderSettings
r = render(RenderJob({name!r}, {scene!r}, {timeline!r}, {out!r}, RenderSettings({w}, {h}, {fps})))
assert r.ok, r.error
"""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scene", default="grid_minilm")
    p.add_argument("--seconds", type=float, default=0.0, help="retime the animation (default: the scene's own length)")
    p.add_argument("--size", choices=[f"{h}p{fps}" for _, h, fps in SIZES], action="append",
                   help="measure only this size (repeatable; default: all)")
    args = p.parse_args()
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("bench/grid_render.py: matplotlib is missing; pip install -r requirements-bench.txt (make bench does)", file=sys.stderr)
        return 2
    from pipeline.catalogue import CATALOGUE
    from pipeline.timelines import get_timeline

    entry = CATALOGUE[args.scene]
    timeline, _ = get_timeline(entry, entry.settings_obj())
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        if args.seconds > 0:
            timeline = timeline.retimed(args.seconds)
        tl_path = timeline.save(tmp / "grid.json")
        seconds = timeline.duration
        for w, h, fps in [s for s in SIZES if not args.size or f"{s[1]}p{s[2]}" in args.size]:
            frames = round(seconds * fps) + 1
            ours_cmd = [sys.executable, "-c", OURS.format(root=str(ROOT), name=entry.name, scene=entry.scene,
                                                          timeline=str(tl_path), out=str(tmp), w=w, h=h, fps=fps)]
            text_cache = {"NEUROREEL_CACHE": str(tmp / f"cache{h}")}  # empty: only Text is cached at render time
            cold = timed(ours_cmd, env=text_cache)
            ours = timed(ours_cmd, env=text_cache)
            mpl = timed([sys.executable, str(ROOT / "bench" / "grid_baselines.py"), "matplotlib", str(tl_path),
                         str(tmp / "mpl.mp4"), str(w), str(h), str(fps)])
            res = subprocess.run([sys.executable, str(ROOT / "bench" / "grid_baselines.py"), "pyav",
                                  str(tmp / f"{entry.name}.mp4"), str(tmp / "floor.mp4"), str(w), str(h), str(fps),
                                  str(frames)], capture_output=True, text=True, check=True, env=os.environ.copy())
            floor = float(res.stdout.strip())
            f_ours, f_mpl, f_floor = frames / ours, frames / mpl, frames / floor
            rows.append((f"{h}p{fps}", str(frames), f"{frames / cold:.1f}", f"{f_ours:.1f}", f"{f_mpl:.1f}", f"{f_floor:.1f}",
                         f"{f_ours / f_mpl:.2f}x", f"{f_ours / f_floor:.2f}x"))
    print(table(rows, ("size", "frames", "ours cold fps", "ours fps", "matplotlib fps", "PyAV floor fps", "ours/matplotlib", "ours/floor")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
