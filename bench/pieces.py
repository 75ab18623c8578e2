"""Benchmark: what splitting one scene into pieces costs (pipeline/pieces.py's constants come from here).

    python bench/pieces.py [--scene toy_wtw] [--size 480p15] [--pieces 2]

Each render runs in a fresh process (imports included) with a warm Text cache and reports wall and
CPU seconds (all threads) per phase; encoding is finished at each phase's end so its CPU counts there.
Measured: a moving frame (phases that never hold still), a held frame (what holding phases cost beyond
their moving frames), skipping a phase (the last phase alone: every earlier one skipped), the pieces
of ``plan`` rendered side by side against the whole scene, and joining (remuxing) the pieces.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import ROOT, table

sys.path.insert(0, str(ROOT))

SIZES = {"480p15": (854, 480, 15), "720p30": (1280, 720, 30), "1080p60": (1920, 1080, 60)}
CHILD = """
import json, resource, sys, time
start = time.perf_counter()
sys.path.insert(0, {root!r})
from pipeline import pieces
from pipeline.catalogue import _resolve
from pipeline.settings import RenderSettings

def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime

marks, held = [], []
base = _resolve({scene!r})

class Timed(base):
    def construct(self):
        marks.append(("construct", time.perf_counter() - start, cpu()))
        super().construct()
        self.renderer.file_writer.join_all_encode_jobs()
        marks.append(("end", time.perf_counter() - start, cpu()))

    def next_section(self, name, *args, **kwargs):
        self.renderer.file_writer.join_all_encode_jobs()  # the phase before is encoded: its CPU is its own
        marks.append((name, time.perf_counter() - start, cpu()))
        held.append(0)
        super().next_section(name, *args, **kwargs)

    def _hold_until(self, t_end):
        fps = self.camera.frame_rate
        held[-1] += max(0, round(t_end * fps) - round(self.now() * fps))
        super()._hold_until(t_end)

sys.modules[base.__module__].Timed = Timed
pieces.render_piece(base.__module__ + ":Timed", {timeline!r}, RenderSettings({w}, {h}, {fps}), {phases!r}, {out!r})
marks.append(("done", time.perf_counter() - start, cpu()))
print(json.dumps({{"marks": marks, "held": held}}))
"""


def child(scene: str, timeline: Path, size: tuple[int, int, int], phases: tuple[int, int], out: Path) -> dict:
    """Render one piece in a fresh process; its marks: (section or event, wall s, CPU s) since it started."""
    w, h, fps = size
    code = CHILD.format(root=str(ROOT), scene=scene, timeline=str(timeline), w=w, h=h, fps=fps,
                        phases=tuple(phases), out=str(out))
    t = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"piece {phases} failed:\n{res.stderr[-2000:]}")
    got = json.loads(res.stdout.strip().splitlines()[-1])
    got["wall"] = time.perf_counter() - t
    return got


def spans(run: dict) -> dict[str, tuple[float, float]]:
    """(wall, CPU) from each mark to the next, named by the first: start-up is "construct" (build included)."""
    marks = run["marks"]
    out = {"import": (marks[0][1], marks[0][2])}
    for (name, w0, c0), (_, w1, c1) in zip(marks, marks[1:]):
        out[name] = (w1 - w0, c1 - c0)
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scene", default="toy_wtw")
    p.add_argument("--size", choices=list(SIZES), default="480p15")
    p.add_argument("--pieces", type=int, default=2)
    args = p.parse_args()
    from pipeline import pieces
    from pipeline.catalogue import CATALOGUE
    from pipeline.timelines import get_timeline

    entry = CATALOGUE[args.scene]
    timeline, _ = get_timeline(entry, entry.settings_obj())
    size = SIZES[args.size]
    fps, n = size[2], len(timeline.segments)
    names = [s.name for s in timeline.segments]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tl = timeline.save(tmp / "timeline.json")
        child(entry.scene, tl, size, (n - 1, n), tmp / "warm.mp4")  # fills the Text cache
        whole = child(entry.scene, tl, size, (0, n), tmp / "whole.mp4")
        last = child(entry.scene, tl, size, (n - 1, n), tmp / "last.mp4")
        w_s, l_s = spans(whole), spans(last)
        frames = pieces.phase_frames(timeline, fps)
        frames[-1] += 1  # the closing frame
        held = whole["held"]
        # A moving frame: phases that never hold; a held frame: what the holding phases cost beyond their moving frames.
        moving = [i for i in range(n) if not held[i]]
        holding = [i for i in range(n) if held[i]]
        per_moving = [sum(w_s[names[i]][k] for i in moving) / sum(frames[i] for i in moving) for k in (0, 1)]
        per_held = [sum(w_s[names[i]][k] - per_moving[k] * (frames[i] - held[i]) for i in holding) / sum(held)
                    if holding else float("nan") for k in (0, 1)]
        per_skip = [sum(l_s[nm][k] for nm in names[:-1]) / (n - 1) for k in (0, 1)]
        startup = w_s["import"][0] + w_s["construct"][0]

        runs = pieces.plan(pieces.phase_costs(timeline, fps), args.pieces, pieces.SKIP_PHASE)
        t = time.perf_counter()
        with ThreadPoolExecutor(len(runs)) as ex:
            list(ex.map(lambda r: child(entry.scene, tl, size, r, tmp / f"piece{r[0]}.mp4"), runs))
        split_wall = time.perf_counter() - t
        files = [tmp / f"piece{r[0]}.mp4" for r in runs]
        t = time.perf_counter()
        pieces.join(files, tmp / "joined.mp4")
        join_s = time.perf_counter() - t
        t = time.perf_counter()
        pieces.join([tmp / "whole.mp4"] * 10, tmp / "long.mp4")
        join_10 = time.perf_counter() - t

    ratio = lambda v, k: f"{v[k] * 1e3:.1f} ms ({v[k] / per_moving[k]:.2f} frames)"
    rows = [("frames (held)", f"{sum(frames)} ({sum(held)})", ""),
            ("moving frame", ratio(per_moving, 0), ratio(per_moving, 1)),
            ("held frame", ratio(per_held, 0), ratio(per_held, 1)),
            ("skip a phase", ratio(per_skip, 0), ratio(per_skip, 1)),
            ("start-up (import, build)", f"{startup:.2f} s", ""),
            ("whole scene", f"{whole['wall']:.2f} s", ""),
            (f"{len(runs)} pieces side by side {runs}", f"{split_wall:.2f} s + join {join_s * 1e3:.0f} ms", ""),
            ("join, per 1000 frames", f"{join_10 / (10 * sum(frames)) * 1e6:.0f} ms", "")]
    print(f"{args.scene} at {args.size}")
    print(table(rows, ("", "wall", "CPU")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
