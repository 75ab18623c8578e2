"""Run a render: timelines (in this process, cached) and scenes (here, or in worker processes
that start as soon as the first timeline is ready: ``pipeline.pool``).

Incremental: an output whose timeline, scene code and render settings are unchanged (its
``render_key`` in the manifest) and which still reads back intact is reused, not rendered.
Interruptible: Ctrl+C or SIGTERM stops every worker; partial files never have final names, and
the run removes its own partial files (only its own: another render may share the folder).
Self-repairing: leftovers of killed runs (their process is gone) are removed when a run starts.
"""
from __future__ import annotations

import hashlib
import json
import os
from importlib.metadata import version
import signal
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from engine.atomic import remove_stale
from engine.cache import cache_key, default_cache_root, sweep_stale
from engine.fingerprint import code_fingerprint
from engine.text_safety import for_rich as escape_for_rich
from engine.timeline import Timeline
from pipeline import interrupts, manifest
from pipeline.catalogue import Entry, names as catalogue_names
from pipeline.formats import read_back
from pipeline.settings import RenderSettings
from pipeline.summary import summary_table
from pipeline.timelines import get_timeline, retimed
from pipeline.pool import render_streaming
from pipeline.split import Split, pieces_per_scene, split
from pipeline.worker import RenderJob, RenderResult, remove_partials, remove_stale_partials, render

EXIT_USAGE = 2
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
    slides: bool = False  # a manim-slides deck per scene in OUT/slides (needs render.sections)
    split: int | None = None  # pieces per scene (--split); None: split only when workers outnumber scenes
    cluster: str | None = None  # --cluster: 'local' or tcp://HOST:PORT (pipeline/cluster.py); None: local processes


@dataclass(frozen=True)
class Prepared:
    entry: Entry
    timeline: Timeline
    timeline_path: Path  # the final timeline (after --duration/--colours), saved in the cache
    render_key: str


def scene_fingerprint(entry: Entry) -> str:
    """Hash of the code that turns this scene's timeline into pixels (its module and what it imports)."""
    return code_fingerprint(entry.scene.partition(":")[0], "pipeline.worker", "pipeline.formats")


def _prepare(entry: Entry, req: Request, progress: bool) -> Prepared:
    timeline, path = get_timeline(entry, req.scene_settings[entry.name], progress=progress)
    if req.duration is not None or req.colours:
        if req.duration is not None:
            timeline = retimed(timeline, req.duration, req.render.fps)
        if req.colours:
            timeline.meta["object_colours"] = req.colours
        path = default_cache_root() / "timelines" / "final" / f"{path.stem}-{cache_key(req.duration, req.colours)}.json"
        timeline.save(path)
    key = cache_key(hashlib.sha256(path.read_bytes()).hexdigest(), scene_fingerprint(entry), req.render,
                    version("manim"))  # not `import manim`: a run that renders nothing should not pay for it
    return Prepared(entry, timeline, path, key)


def _up_to_date(req: Request, prep: Prepared, job: RenderJob) -> RenderResult | None:
    """The previous output, if it was made from the same inputs and still reads back whole."""
    if req.force:
        return None
    entry = next((s for s in manifest.read(req.out)["scenes"]
                  if s.get("name") == job.name and s.get("file") == job.output_name), None)
    if not entry or entry.get("render_key") != prep.render_key:
        return None
    sections = tuple(entry.get("sections", ()))
    extras = tuple(entry.get("extras", ()))
    if req.render.sections and not sections or req.render.subtitles and not extras:
        return None
    # Byte-exact: a truncated, zeroed or edited output (or section clip, or subtitle file) is rendered again.
    recorded = [(job.output_name, entry.get("sha256"))] + list(zip(sections, entry.get("sections_sha256", ()))) \
        + list(zip(extras, entry.get("extras_sha256", ())))
    if len(recorded) != 1 + len(sections) + len(extras) or not all(digest for _, digest in recorded):
        return None
    for rel, digest in recorded:
        try:
            if manifest.file_digest(req.out / rel) != digest:
                return None
        except OSError:
            return None
    return RenderResult(job.name, True, 0.0, file=job.output_name, reused=True, sections=sections, extras=extras,
                        note=entry.get("size_note"))


def _published(req: Request, prep: Prepared) -> bool:
    """True if the output folder already holds this exact timeline (so a reused scene writes nothing)."""
    mine = req.out / "timelines" / f"{prep.entry.name}.json"
    theirs = prep.timeline_path
    try:
        if mine.with_suffix(".npz").read_bytes() != theirs.with_suffix(".npz").read_bytes():
            return False
        docs = [json.loads(p.read_text()) for p in (mine, theirs)]
    except (OSError, ValueError):
        return False
    for doc in docs:
        doc.get("npz", {}).pop("file", None)  # named after the JSON file, which differs
    return docs[0] == docs[1]


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
        "sha256": manifest.file_digest(req.out / result.file),
        "sections_sha256": [manifest.file_digest(req.out / s) for s in result.sections],
        "extras": list(result.extras), "extras_sha256": [manifest.file_digest(req.out / s) for s in result.extras],
        "captions": req.render.captions, "theme": req.render.theme, "size_note": result.note,
        "phases": [{"name": s.name, "duration_s": round(s.duration, 4), "caption": s.caption}
                   for s in prep.timeline.segments],
    })


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _sweep_leftovers(out: Path) -> None:
    """Remove what killed runs left (their process is gone): partial folders of scenes, temporary
    manifests and timelines in ``out``, temporaries in the cache. Nothing else is touched."""
    scenes = catalogue_names(unlisted=True)  # a lecture renders the unlisted title card too
    remove_stale_partials(out, scenes)
    remove_stale(out, ".tmp", [manifest.NAME])
    remove_stale(out / "timelines", ".tmp", [f"{n}{ext}" for n in scenes for ext in (".json", ".npz")])
    sweep_stale()


@dataclass(frozen=True)
class Ready:
    """A prepared scene: to render (``reused`` None) or already up to date."""

    prep: Prepared
    job: RenderJob
    reused: RenderResult | None


def _prepare_all(req: Request, status=None) -> Iterator[Ready | RenderResult]:
    """Each entry's timeline, in catalogue order: a Ready, or a failed RenderResult. Only reads the
    output folder (the caller records results, so one thread writes the manifest)."""
    for entry in req.entries:
        try:
            if status is not None:
                with status(f"timeline: {entry.name}"):
                    prep = _prepare(entry, req, progress=not req.quiet)
            else:
                prep = _prepare(entry, req, progress=False)
        except Exception as e:
            interrupts.reraise(e)  # a Ctrl+C a C extension turned into ImportError is not the scene's fault
            yield RenderResult(entry.name, False, 0.0, error=f"timeline: {type(e).__name__}: {e}")
            continue
        job = RenderJob(entry.name, prep.entry.scene, str(prep.timeline_path), str(req.out), req.render)
        yield Ready(prep, job, _up_to_date(req, prep, job))


def _write_decks(req: Request, done: list[RenderResult]) -> list[RenderResult]:
    """One manim-slides deck per rendered scene (slides/NAME.json), from its manifest entry; failures as results."""
    from pipeline import slides
    from scenes import style

    style.use_theme(req.render.theme)  # this process draws nothing; the deck's background is the scenes'

    slides.sweep_leftovers(req.out / "slides")
    entries = {e.get("name"): e for e in manifest.read(req.out)["scenes"]}
    failed = []
    for r in done:
        try:
            slides.write_deck(req.out / "slides", r.name, slides.clips_from_manifest(req.out, entries[r.name]),
                              (req.render.width, req.render.height), style.BACKGROUND)
        except (OSError, ValueError, KeyError) as e:
            failed.append(replace(r, ok=False, error=f"slides: {e}"))
    return failed


def run(req: Request) -> int:
    try:  # a damaged manifest is the user's to fix: say so before anything is trained or written
        manifest.read(req.out)
    except manifest.ManifestError as e:
        print(f"render.py: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    _sweep_leftovers(req.out)
    console = Console(stderr=True, quiet=req.quiet)
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    results: dict[str, RenderResult] = {}
    prepared: dict[str, Prepared] = {}
    started = time.perf_counter()
    progress = Progress(TextColumn("{task.description:<20}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                        TimeElapsedColumn(), console=console, disable=req.quiet)
    tasks: dict[str, int] = {}

    splits: dict[str, Split] = {}  # a split scene, by each of its pieces' tasks
    n_pieces = pieces_per_scene(req.jobs, len(req.entries), req.split)

    def on_event(event: Ready | RenderResult) -> list[RenderJob]:
        """Record what needs no rendering; return the jobs that do (a scene, or its pieces) and give the
        scene a progress bar."""
        if isinstance(event, RenderResult):
            results[event.name] = event
            return []
        prepared[event.job.name] = event.prep
        if event.reused is not None:
            if not _published(req, event.prep):
                _record(req, event.prep, event.reused)
            results[event.job.name] = event.reused
            return []
        tasks[event.job.name] = progress.add_task(event.job.name, total=1.0)
        whole = split(event.job, event.prep.timeline, n_pieces) if req.jobs > 1 else None
        if whole is None:
            return [event.job]
        splits.update({j.task: whole for j in whole.jobs})
        return whole.jobs

    def on_done(result: RenderResult) -> None:
        if result.name in splits:  # a piece: the scene is done when its last piece is (or one fails)
            result = splits.pop(result.name).add(result)
            if result is None:
                return
        if result.ok:
            try:
                _record(req, prepared[result.name], result)
            except Exception as e:
                interrupts.reraise(e)
                result = replace(result, ok=False, error=f"recording output: {e}")
        results[result.name] = result
        progress.update(tasks[result.name], completed=1.0,
                        description=f"{result.name} {'done' if result.ok else 'FAILED'}")

    def on_progress(name: str, fraction: float) -> None:
        if name in splits:
            name, fraction = splits[name].job.name, splits[name].progress(name, fraction)
        progress.update(tasks[name], completed=fraction)

    def length(job: RenderJob) -> float:
        """Expected seconds of work: a scene's duration, a piece's share of it."""
        if job.task in splits:
            return splits[job.task].costs[job.task] / job.settings.fps
        return prepared[job.name].timeline.duration

    try:
        if req.jobs == 1 and req.cluster is None:  # timelines first (training shows its progress), then each scene here
            todo = [job for jobs in map(on_event, _prepare_all(req, console.status)) for job in jobs]
            with progress:
                for job in todo:
                    on_done(render(job, on_progress))
        else:
            stream = render_streaming
            if req.cluster is not None:  # Dask starts (or connects) only once a job needs rendering
                from pipeline.cluster import streaming
                stream = streaming(req.cluster)
            with progress:
                stream(_prepare_all(req), req.jobs, on_event, on_progress, on_done, length=length)
    except KeyboardInterrupt:  # workers are stopped and their partial folders removed by the pool
        remove_partials(req.out, [e.name for e in req.entries], [os.getpid()])
        print("render.py: interrupted; finished outputs are kept and listed in the manifest, nothing partial "
              "was left; run the same command again to finish", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    if req.slides:
        results.update({r.name: r for r in _write_decks(req, [r for r in results.values() if r.ok])})
    failed = [r for r in results.values() if not r.ok]
    out_console = Console(stderr=True)
    for r in results.values():
        if r.ok and r.note and not req.quiet:
            out_console.print(f"--max-size: {escape_for_rich(r.note)}", highlight=False)
    if not req.quiet or failed:
        out_console.print(summary_table(req, results, time.perf_counter() - started))
    return 1 if failed else 0
