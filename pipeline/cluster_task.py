"""What a Dask worker runs for ``render.py --cluster``: one job (a whole scene or a piece), with no shared disk.

The run ships the job with its timeline's bytes; the worker writes them into a private scratch
folder, renders with the very code a local worker runs (``pipeline.worker.render``: a whole scene
is finished and published into the scratch folder, a piece is written there), and returns the
result with the bytes of every file it made. The run then publishes them into its output folder
atomically (``pipeline.cluster``). The scratch folder is removed whatever happens; a worker killed
mid-task leaves it inside Dask's own worker directory, which Dask purges.

This module is imported on workers: it must not import Dask's client side or anything of the run.
"""
from __future__ import annotations

import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Callable

from pipeline.worker import RenderJob, RenderResult, render

PROGRESS_EVERY_S = 0.5  # progress events per task at most this often: each goes worker -> scheduler -> run
_ONE_AT_A_TIME = threading.Lock()  # Manim's configuration is global: a worker renders one job at a time


@dataclass(frozen=True)
class Shipped:
    """A job as sent to a worker: the job, its timeline files (JSON and NPZ) by name, the code it expects."""

    job: RenderJob
    timeline: dict[str, bytes]
    code: str  # code_id(job.scene) in the run: a worker with other scene code or Manim must not render
    topic: str | None = None  # where to report progress (Dask events); None: no progress


@dataclass(frozen=True)
class Rendered:
    """A job's result and its files' bytes, by path relative to the output folder (a whole scene:
    the video, ``sections/NAME/...``, subtitles) or to the piece folder (a piece and its clips)."""

    result: RenderResult
    files: dict[str, bytes]


def code_id(scene: str) -> str:
    """What decides a render's pixels besides its timeline and settings: the scene's code (with the
    worker and format code it imports, as in the run's render key) and Manim's version."""
    from engine.fingerprint import code_fingerprint

    code = code_fingerprint(scene.partition(":")[0], "pipeline.worker", "pipeline.formats")
    return f"{code}/manim-{version('manim')}"


def run_job(shipped: Shipped) -> Rendered:
    """Render ``shipped.job`` in a scratch folder here; failures of the render come back as results."""
    job = shipped.job
    if code_id(job.scene) != shipped.code:
        return Rendered(RenderResult(job.task, False, 0.0, error=(
            f"the Dask worker at {_worker_address()} runs other scene code or another Manim than this checkout; "
            "start it from an up-to-date copy of neuroreel with the same requirements")), {})
    _quiet_progress_bars()
    tmp = Path(tempfile.mkdtemp(prefix=f"neuroreel-{job.name}-", dir=_scratch_root()))
    try:
        for name, data in shipped.timeline.items():
            (tmp / name).write_bytes(data)
        out = tmp / "out"
        out.mkdir()
        local = replace(job, timeline_path=str(tmp / Path(job.timeline_path).name), out_dir=str(out),
                        piece_dir=None if job.piece_dir is None else str(out))
        with _ONE_AT_A_TIME:
            result = render(local, _reporter(shipped.topic))
        if not result.ok:
            return Rendered(result, {})
        if job.phases is None:
            names = [result.file, *result.sections, *result.extras]
        else:  # a piece: NNN.ext and its clips in NNN.sections/ (pipeline.worker.render_piece)
            piece = Path(result.file)
            clips = sorted(out.glob(f"{piece.stem}.sections/*"))
            names = [piece.name, *(str(p.relative_to(out)) for p in clips)]
            result = replace(result, file=piece.name)
        return Rendered(result, {name: (out / name).read_bytes() for name in names})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _scratch_root() -> str | None:
    """The worker's own directory (Dask removes it, also after a crash); the system's temp folder outside Dask."""
    try:
        from distributed import get_worker
        return get_worker().local_directory
    except (ImportError, ValueError):
        return None


def _worker_address() -> str:
    try:
        from distributed import get_worker
        return get_worker().address
    except (ImportError, ValueError):
        return "(not a Dask worker)"


def _reporter(topic: str | None) -> Callable[[str, float], None] | None:
    """A progress callback sending (task, fraction) as a Dask event, at most every PROGRESS_EVERY_S."""
    if topic is None:
        return None
    from distributed import get_worker

    worker, last = get_worker(), [0.0]

    def report(task: str, fraction: float) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            worker.log_event(topic, [task, float(fraction)])

    return report


def _quiet_progress_bars() -> None:
    """Manim's progress bars would take a process-shared semaphore that a killed worker leaks (as pool.py)."""
    from tqdm import tqdm

    tqdm.set_lock(threading.RLock())


def dask_setup(worker) -> None:
    """Dask preload for the workers of ``--cluster local``: they share the run's process group, so a
    Ctrl+C reaches them too; the run decides what an interrupt stops, so they ignore it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
