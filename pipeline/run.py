"""Run a render: timelines first (in this process, cached), then scenes in worker processes."""
from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, as_completed
from multiprocessing import get_context
from pathlib import Path

from rich.console import Console
from rich.table import Table

from engine.atomic import write_bytes_atomic
from pipeline import manifest
from pipeline.catalogue import Entry
from pipeline.settings import RenderSettings
from pipeline.timelines import get_timeline
from pipeline.video import probe
from pipeline.worker import RenderJob, RenderResult, render


def _record(out: Path, entry: Entry, timeline, timeline_path: Path, result: RenderResult) -> None:
    """Publish the timeline beside the video and add both to the manifest."""
    tl_rel = Path("timelines") / f"{entry.name}.json"
    write_bytes_atomic(out / tl_rel.with_suffix(".npz"), timeline_path.with_suffix(".npz").read_bytes())
    # The JSON names its .npz sibling by file name: rewrite that name for the published copy.
    doc = timeline_path.read_text().replace(f'"file": "{timeline_path.with_suffix(".npz").name}"',
                                            f'"file": "{tl_rel.with_suffix(".npz").name}"')
    write_bytes_atomic(out / tl_rel, doc.encode())
    info = probe(out / result.file)
    manifest.upsert(out, {
        "name": entry.name, "file": result.file, "format": "mp4", "codec": info.codec, "pix_fmt": info.pix_fmt,
        "width": info.width, "height": info.height, "fps": info.fps, "frames": info.frames,
        "duration_s": info.duration_s, "source": timeline.source, "title": timeline.title,
        "description": entry.description, "timeline": str(tl_rel),
        "phases": [{"name": s.name, "duration_s": s.duration, "caption": s.caption} for s in timeline.segments],
    })


def run(entries: list[Entry], settings: RenderSettings, out: Path, jobs: int, quiet: bool) -> int:
    console = Console(stderr=True, quiet=quiet)
    prepared, results = {}, {}
    for entry in entries:
        with console.status(f"building timeline: {entry.name}"):
            try:
                prepared[entry.name] = (entry, *get_timeline(entry, entry.settings_obj(), progress=not quiet))
            except Exception as e:
                results[entry.name] = RenderResult(entry.name, False, 0.0, error=f"{type(e).__name__}: {e}")
    render_jobs = [RenderJob(name, e.scene, str(p), str(out), settings) for name, (e, _, p) in prepared.items()]

    def done(result: RenderResult) -> None:
        if result.ok:
            entry, timeline, path = prepared[result.name]
            try:
                _record(out, entry, timeline, path, result)
            except Exception as e:
                result = RenderResult(result.name, False, result.seconds, error=f"recording output: {e}")
        results[result.name] = result
        mark = "[green]done[/]" if result.ok else f"[red]failed[/] {result.error}"
        console.print(f"{result.name}: {mark} ({result.seconds:.1f} s)")

    if jobs == 1 or len(render_jobs) <= 1:
        for job in render_jobs:
            done(render(job))
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(render_jobs)), mp_context=get_context("spawn")) as pool:
            futures = [pool.submit(render, job) for job in render_jobs]
            for fut in as_completed(futures):
                done(fut.result())

    table = Table(title=f"neuroreel: {settings.width}x{settings.height}@{settings.fps} into {out}/")
    for col in ("scene", "status", "seconds", "output"):
        table.add_column(col)
    for entry in entries:
        r = results[entry.name]
        table.add_row(r.name, "ok" if r.ok else "FAILED", f"{r.seconds:.1f}", r.file or (r.error or "")[:80])
    console.print(table)
    return 0 if all(r.ok for r in results.values()) else 1
