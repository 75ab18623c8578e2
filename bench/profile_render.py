"""Profile one scene's render: where the main thread's time goes (cProfile, top functions).

    python bench/profile_render.py [--scene grid_minilm] [--size 480p15] [--sort tottime] [--top 30]

Renders the scene's default timeline the way `render.py` does (`pipeline.worker.render`, its own
tempconfig) into a temporary folder. Time spent waiting on Manim's encoder thread shows up as
`acquire` of `_thread.lock`; the encoder's own work runs beside it and is not in the profile.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT

sys.path.insert(0, str(ROOT))

SIZES = {"480p15": (854, 480, 15), "720p30": (1280, 720, 30), "1080p60": (1920, 1080, 60)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scene", default="grid_minilm")
    p.add_argument("--size", choices=sorted(SIZES), default="480p15")
    p.add_argument("--sort", default="tottime", choices=["tottime", "cumulative"])
    p.add_argument("--top", type=int, default=30)
    args = p.parse_args()
    from pipeline.catalogue import CATALOGUE
    from pipeline.settings import RenderSettings
    from pipeline.timelines import get_timeline
    from pipeline.worker import RenderJob, render

    if args.scene not in CATALOGUE:
        print(f"bench/profile_render.py: no scene '{args.scene}'; choose from {', '.join(CATALOGUE)}", file=sys.stderr)
        return 2
    entry = CATALOGUE[args.scene]
    timeline, _ = get_timeline(entry, entry.settings_obj())
    with tempfile.TemporaryDirectory() as tmp:
        path = timeline.save(Path(tmp) / "timeline.json")
        job = RenderJob(entry.name, entry.scene, str(path), tmp, RenderSettings(*SIZES[args.size]))
        profile = cProfile.Profile()
        start = time.perf_counter()
        profile.enable()
        result = render(job)
        profile.disable()
        wall = time.perf_counter() - start
    if not result.ok:
        print(f"bench/profile_render.py: render failed: {result.error}", file=sys.stderr)
        return 1
    print(f"{entry.name} at {args.size}: {wall:.1f} s under the profiler")
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
