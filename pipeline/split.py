"""Split scenes across workers: the run's side of pipeline/pieces.py.

When there are more workers than scenes (or ``--split N`` asks), a scene's phases are cut into
pieces balanced by expected cost; each piece is a job the pool hands to any worker, writing into a
private staging folder of the run (``.NAME.PID.XXXXXXXX.partial``, removed by an interrupted run like
any partial folder of its own). When the last piece is in, the pieces are joined without re-encoding
and the joined video is finished exactly as a whole render would be (format, size budget, subtitles,
section clips), so the outputs and the manifest do not depend on how the work was split.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from engine.atomic import temp_prefix
from engine.timeline import Timeline
from pipeline import pieces
from pipeline.worker import PARTIAL_SUFFIX, RenderJob, RenderResult, finish


def pieces_per_scene(workers: int, scenes: int, asked: int | None) -> int:
    """``--split N`` if given; otherwise split only when workers would idle: workers // scenes."""
    if asked is not None:
        return asked
    return max(1, workers // max(1, scenes))


@dataclass
class Split:
    """One scene in pieces: its whole job, the pieces' jobs, and the results so far."""

    job: RenderJob
    timeline: Timeline
    stage: Path
    jobs: list[RenderJob]
    costs: dict[str, float]
    done: dict[str, RenderResult] = field(default_factory=dict)
    fractions: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.perf_counter)
    finished: bool = False

    def progress(self, task: str, fraction: float) -> float:
        """The scene's fraction done, from one piece's, weighting pieces by their expected cost."""
        self.fractions[task] = fraction
        total = sum(self.costs.values())
        return sum(self.costs[t] * f for t, f in self.fractions.items()) / total if total else 0.0

    def add(self, result: RenderResult) -> RenderResult | None:
        """Record a piece's result; the scene's result once every piece is in (or at the first failure,
        after which later pieces are ignored)."""
        if self.finished:
            return None
        if not result.ok:
            self.finished = True
            self.discard()
            return RenderResult(self.job.name, False, time.perf_counter() - self.started,
                                error=f"piece {result.name.partition('#')[2]}: {result.error}")
        self.done[result.name] = result
        if len(self.done) < len(self.jobs):
            return None
        self.finished = True
        try:
            joined = self.stage / f"joined{pieces.piece_suffix(self.job.settings)}"
            pieces.join([self.done[j.task].file for j in self.jobs], joined)
            sections = sorted(p for d in self.stage.glob("*.sections") for p in d.iterdir())
            return replace(finish(self.job, self.timeline, joined, sections, self.stage, self.started),
                           pieces=len(self.jobs))
        except Exception as e:  # the scene fails, the others go on
            return RenderResult(self.job.name, False, time.perf_counter() - self.started,
                                error=f"joining pieces: {type(e).__name__}: {e}")
        finally:
            self.discard()

    def discard(self) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)


def split(job: RenderJob, timeline: Timeline, n: int) -> Split | None:
    """``job`` as up to ``n`` pieces balanced by cost, or None when it stays whole (one piece, a still)."""
    if n < 2 or job.settings.format not in pieces.SPLITTABLE or len(timeline.segments) < 2:
        return None
    costs = pieces.phase_costs(timeline, job.settings.fps)
    runs = pieces.plan(costs, n, pieces.SKIP_PHASE)
    if len(runs) < 2:
        return None
    stage = Path(tempfile.mkdtemp(prefix=temp_prefix(job.name), suffix=PARTIAL_SUFFIX, dir=job.out_dir))
    jobs = [replace(job, phases=run, piece_dir=str(stage)) for run in runs]
    cost = {j.task: pieces.SKIP_PHASE * a + sum(costs[a:b]) for j, (a, b) in zip(jobs, runs)}
    return Split(job, timeline, stage, jobs, cost)
