"""Run a render: timelines first (in this process, cached), then scenes in worker processes.

Incremental: an output whose timeline, scene code and render settings are unchanged (its
``render_key`` in the manifest) and which still reads back intact is reused, not rendered.
Interruptible: Ctrl+C or SIGTERM stops every worker; partial files never have final names.
"""
from __future__ import annotations

import hashlib
import signal
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, replace
from multiprocessing import Manager, get_context
from pathlib import Path
from queue import Empty

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from engine.cache import cache_key, default_cache_root
from engine.fingerprint import code_fingerprint
from engine.timeline import Timeline
from pipeline import manifest
from pipeline.catalogue import Entry
from pipeline.formats import read_back
from pipeline.settings import RenderSettings
from pipeline.summary import summary_table
from pipeline.timelines import get_timeline
from pipeline.worker import PARTIAL_SUFFIX, RenderJob, RenderResult, render

EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class Request:
    entries: list[Entry]
    scene_settings: dict[str, object]
    render: RenderSettings
    out: Path
    jobs: int
    quiet: bool = False
    force: bool = False
    duration: float | None = None
    colours: list[str] | None = None


@dataclass(frozen=True)
class Prepared:
    entry: Entry
    timeline: Timeline
    timeline_path: Path  # the final timeline (after --duration/--colours), saved in the cache
    render_key: str


def scene_fingerprint(entry: Entry) -> str:
    """Hash of the code that turns this scene's timeline into pixels (its module and what it imports)."""
    return code_fingerprint(entry.scene.partition(":")[0], "pipeline.worker", "pipeline.formats")


def _prepare(entry: Entry, req: Request) -> Prepared:
    timeline, path = get_timeline(entry, req.scene_settings[entry.name], progress=not req.quiet)
    if req.duration is not None or req.colours:
        if req.duration is not None:
            timeline = timeline.retimed(req.duration)
        if req.colours:
            timeline.meta["object_colours"] = req.colours
        path = default_cache_root() / "timelines" / "final" / f"{path.stem}-{cache_key(req.duration, req.colours)}.json"
        timeline.save(path)
    import manim
    key = cache_key(hashlib.sha256(path.read_bytes()).hexdigest(), scene_fingerprint(entry), req.render, manim.__version__)
    return Prepared(entry, timeline, path, key)


def _up_to_date(req: Request, prep: Prepared, job: RenderJob) -> RenderResult | None:
    """The previous output, if it was made from the same inputs and still reads back whole."""
    if req.force:
        return None
    entry = next((s for s in manifest.read(req.out)["scenes"]
                  if s.get("name") == job.name and s.get("file") == job.output_name), None)
    if not entry or entry.get("render_key") != prep.render_key:
        return None
    try:
        info = read_back(req.out / job.output_name)
    except Exception:
        return None  # missing, truncated or corrupt: render again
    if (info.width, info.height, info.frames) != (entry["width"], entry["height"], entry["frames"]):
        return None
    sections = tuple(entry.get("sections", ()))
    if req.render.sections and (not sections or not all((req.out / s).is_file() for s in sections)):
        return None
    return RenderResult(job.name, True, 0.0, file=job.output_name, reused=True, sections=sections)


def _record(req: Request, prep: Prepared, result: RenderResult) -> None:
    """Publish the timeline beside the output and add both to the manifest."""
    tl_rel = Path("timelines") / f"{prep.entry.name}.json"
    prep.timeline.save(req.out / tl_rel)
    info = read_back(req.out / result.file)
    manifest.upsert(req.out, {
        "name": prep.entry.name, "file": result.file, "format": req.render.format, "codec": info.codec,
        "pix_fmt": info.pix_fmt, "width": info.width, "height": info.height, "fps": info.fps, "frames": info.frames,
        "duration_s": info.duration_s, "source": prep.timeline.source, "title": prep.timeline.title,
        "description": prep.entry.description, "timeline": str(tl_rel), "render_key": prep.render_key,
        "transparent": req.render.transparent, "sections": list(result.sections),
        "phases": [{"name": s.name, "duration_s": round(s.duration, 4), "caption": s.caption}
                   for s in prep.timeline.segments],
    })


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _clean_partials(out: Path) -> None:
    import shutil
    for p in out.glob(f".*{PARTIAL_SUFFIX}"):
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


def _render_all(jobs: list[RenderJob], n_procs: int, progress: Progress, tasks: dict, on_done) -> None:
    if n_procs == 1:
        for job in jobs:
            on_done(render(job, lambda name, f: progress.update(tasks[name], completed=f)))
        return
    with Manager() as mgr:
        queue = mgr.Queue()
        pool = ProcessPoolExecutor(max_workers=n_procs, mp_context=get_context("spawn"))
        try:
            pending = {pool.submit(_render_reporting, job, queue) for job in jobs}
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(queue, progress, tasks)
                for fut in done:
                    on_done(fut.result())
            _drain(queue, progress, tasks)
            pool.shutdown()
        except BaseException:
            for proc in list((pool._processes or {}).values()):  # stop workers now, not after their scene
                proc.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _render_reporting(job: RenderJob, queue) -> RenderResult:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # the parent decides; a worker just stops
    return render(job, lambda name, f: queue.put((name, f)))


def _drain(queue, progress: Progress, tasks: dict) -> None:
    try:
        while True:
            name, fraction = queue.get_nowait()
            progress.update(tasks[name], completed=fraction)
    except Empty:
        pass


def run(req: Request) -> int:
    console = Console(stderr=True, quiet=req.quiet)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    results: dict[str, RenderResult] = {}
    started = time.perf_counter()
    try:
        prepared: dict[str, Prepared] = {}
        for entry in req.entries:
            try:
                with console.status(f"timeline: {entry.name}"):
                    prepared[entry.name] = _prepare(entry, req)
            except Exception as e:
                results[entry.name] = RenderResult(entry.name, False, 0.0, error=f"timeline: {type(e).__name__}: {e}")
        todo = []
        for name, prep in prepared.items():
            job = RenderJob(name, prep.entry.scene, str(prep.timeline_path), str(req.out), req.render)
            reused = _up_to_date(req, prep, job)
            if reused:
                _record(req, prep, reused)
                results[name] = reused
            else:
                todo.append(job)

        progress = Progress(TextColumn("{task.description:<20}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                            TimeElapsedColumn(), console=console, disable=req.quiet)

        def on_done(result: RenderResult) -> None:
            if result.ok:
                try:
                    _record(req, prepared[result.name], result)
                except Exception as e:
                    result = replace(result, ok=False, error=f"recording output: {e}")
            results[result.name] = result
            progress.update(tasks[result.name], completed=1.0,
                            description=f"{result.name} {'done' if result.ok else 'FAILED'}")

        if req.jobs > 1:  # longest first, so no worker is left with a long scene while the other idles
            todo.sort(key=lambda job: -prepared[job.name].timeline.duration)
        with progress:
            tasks = {job.name: progress.add_task(job.name, total=1.0) for job in todo}
            _render_all(todo, max(1, min(req.jobs, len(todo))), progress, tasks, on_done)
    except KeyboardInterrupt:
        _clean_partials(req.out)
        print("render.py: interrupted; finished outputs are kept and listed in the manifest, nothing partial "
              "was left; run the same command again to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    failed = [r for r in results.values() if not r.ok]
    out_console = Console(stderr=True)
    if not req.quiet or failed:
        out_console.print(summary_table(req, results, time.perf_counter() - started))
    return 1 if failed else 0
