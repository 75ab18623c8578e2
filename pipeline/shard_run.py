"""``render.py --shard K/N``: render this machine's share of the work (the plan: pipeline/shards.py).

Whole scenes go through the ordinary run (outputs, manifest entry, reuse of unchanged outputs). Pieces
are rendered as a split scene's are (pipeline/worker.py ``render_piece``), but into
``OUT/shards/NAME/`` with a record each, so another machine can join them. A piece is reused when its
record names the same render key and its files still hash as recorded; its record is removed before it
is rendered again and written after, so a record never vouches for half a piece. The shard's receipt
(``shards/shard-K-of-N.json``) is written last, listing what it finished.
"""
from __future__ import annotations

import hashlib
import signal
import sys
from dataclasses import replace
from pathlib import Path

from engine.atomic import remove, remove_stale, write_bytes_atomic
from pipeline import catalogue, interrupts, manifest, pieces, shards
from pipeline.pool import render_streaming
from pipeline.run import (EXIT_INTERRUPTED, EXIT_USAGE, Prepared, Request, _prepare, _raise_interrupt,
                          _sweep_leftovers, _up_to_date, run)
from pipeline.shards import Shard, Task
from pipeline.split import pieces_per_scene
from pipeline.worker import RenderJob, RenderResult, render

INTERRUPTED = ("render.py: interrupted; finished outputs are kept, nothing partial was left; run the same "
               "command again to finish")


def _whole_job(req: Request, prep: Prepared) -> RenderJob:
    return RenderJob(prep.entry.name, prep.entry.scene, str(prep.timeline_path), str(req.out), req.render)


def _piece_job(req: Request, prep: Prepared, task: Task) -> RenderJob:
    return replace(_whole_job(req, prep), phases=task.phases, piece_dir=str(shards.piece_dir(req.out, task.scene)))


def _digest(path: Path) -> str:
    return manifest.file_digest(path)


def _piece_intact(folder: Path, doc: dict, task: Task, render_key: str) -> bool:
    """The recorded piece is this task's, from these inputs, and its files hash as recorded."""
    try:
        files = [(doc["file"], doc["sha256"])] + list(zip(doc["sections"], doc["sections_sha256"], strict=True))
        return doc["phases"] == list(task.phases) and doc["render_key"] == render_key and \
            all(_digest(folder / rel) == sha for rel, sha in files)
    except (KeyError, TypeError, ValueError, OSError):
        return False


def _copy_timeline(prep: Prepared, folder: Path) -> str:
    """A byte copy of the scene's timeline (JSON and the NPZ it names) beside its pieces; returns its sha256."""
    for src in (prep.timeline_path.with_suffix(".npz"), prep.timeline_path):  # the JSON, which names the NPZ, last
        data, dst = src.read_bytes(), folder / src.name
        if not dst.is_file() or dst.read_bytes() != data:
            write_bytes_atomic(dst, data)
    return hashlib.sha256(prep.timeline_path.read_bytes()).hexdigest()


def _record_piece(req: Request, prep: Prepared, task: Task, ids: tuple[str, str], n: int) -> None:
    folder = shards.piece_dir(req.out, task.scene)
    video = folder / f"{task.phases[0]:03d}{pieces.piece_suffix(req.render)}"
    section_dir = folder / f"{task.phases[0]:03d}.sections"
    sections = sorted(section_dir.iterdir()) if req.render.sections else []
    doc = shards.piece_record(
        task, *ids, n, prep.timeline_path.name, _copy_timeline(prep, folder), prep.render_key, pieces._frames(video),
        video.name, _digest(video), [str(p.relative_to(folder)) for p in sections], [_digest(p) for p in sections],
        prep.entry.scene, req.render)
    path = shards.piece_json(req.out, task.scene, task.phases[0])
    if not shards.same_record(path, doc):
        shards.write_json(path, doc)


def _render_pieces(req: Request, jobs: list[RenderJob], costs: dict[str, float]) -> dict[str, RenderResult]:
    """Render piece jobs here (one, or --jobs 1) or on up to --jobs workers; results by task."""
    results: dict[str, RenderResult] = {}
    if req.jobs > 1 and len(jobs) > 1:
        render_streaming(iter(jobs), min(req.jobs, len(jobs)), lambda job: [job], lambda name, fraction: None,
                         lambda r: results.__setitem__(r.name, r), length=lambda job: costs[job.task])
    else:  # with a progress callback, as run.py and the pool render: a scene-level updater can change the last frame
        for job in jobs:
            results[job.task] = render(job, lambda name, fraction: None)
    return results


def _sweep(out: Path, scenes: list[str]) -> None:
    """Temporaries that killed renders or workers left among the pieces (their process is gone)."""
    for scene in scenes:
        folder = shards.piece_dir(out, scene)
        remove_stale(folder, ".partial")
        remove_stale(folder, ".tmp")
    remove_stale(out / shards.FOLDER, ".tmp")


def _pieces(req: Request, prepared: dict[str, Prepared], mine: list[Task], ids: tuple[str, str], n: int,
            status: dict[Task, str]) -> None:
    """Reuse or render this shard's pieces and record each; ``status`` gets each task's outcome."""
    todo = []
    for task in mine:
        prep, path = prepared[task.scene], shards.piece_json(req.out, task.scene, task.phases[0])
        doc = shards.read_json(path, shards.PIECE_FORMAT)
        if not req.force and doc is not None and _piece_intact(path.parent, doc, task, prep.render_key):
            _record_piece(req, prep, task, ids, n)  # the same piece may now be another plan's
            status[task] = "reused"
        else:
            path.unlink(missing_ok=True)  # no record vouches for a piece while it is being replaced
            todo.append(task)
    jobs = {t: _piece_job(req, prepared[t.scene], t) for t in todo}
    for job in jobs.values():
        Path(job.piece_dir).mkdir(parents=True, exist_ok=True)  # render_piece writes only into a folder that exists
    results = _render_pieces(req, list(jobs.values()), {job.task: t.cost for t, job in jobs.items()})
    for task, job in jobs.items():
        result = results.get(job.task) or RenderResult(job.task, False, 0.0, error="not rendered")
        if result.ok:
            try:
                _record_piece(req, prepared[task.scene], task, ids, n)
                status[task] = "rendered"
                continue
            except Exception as e:
                interrupts.reraise(e)
                result = replace(result, ok=False, error=f"recording the piece: {type(e).__name__}: {e}")
        status[task] = f"FAILED: {result.error}"


def _wholes(req: Request, prepared: dict[str, Prepared], mine: list[Task], status: dict[Task, str]) -> int:
    """This shard's whole scenes through the ordinary run; a scene is done if the manifest now lists it
    with this render key (and it was reused if its output was already up to date)."""
    fresh = {t: _up_to_date(req, prepared[t.scene], _whole_job(req, prepared[t.scene])) is not None for t in mine}
    rc = run(replace(req, entries=[prepared[t.scene].entry for t in mine]))
    if rc == EXIT_INTERRUPTED:
        return rc
    listed = {(e.get("name"), e.get("file"), e.get("render_key")) for e in manifest.read(req.out)["scenes"]}
    for t in mine:
        prep = prepared[t.scene]
        if (t.scene, _whole_job(req, prep).output_name, prep.render_key) in listed:
            status[t] = "reused" if fresh[t] and not req.force else "rendered"
            remove(shards.piece_dir(req.out, t.scene))  # pieces of an earlier plan: this plan renders it whole
        else:
            status[t] = "FAILED (see the table above)"
    return rc


def _write_stamp(req: Request, shard: Shard, ids: tuple[str, str], tasks: list[Task],
                 status: dict[Task, str], prepared: dict[str, Prepared]) -> None:
    """The receipt, unless an identical one is already the newest in the folder (an unchanged re-run)."""
    done = [{"scene": t.scene, "piece": t.piece, "render_key": prepared[t.scene].render_key,
             "file": _whole_job(req, prepared[t.scene]).output_name if t.phases is None else None}
            for t in tasks if t in status and not status[t].startswith("FAILED")]
    doc = shards.stamp(shard, *ids, tasks, done)
    path = shards.stamp_path(req.out, shard)
    others = [shards.read_json(p, shards.STAMP_FORMAT) for p in path.parent.glob("shard-*-of-*.json") if p != path]
    newest = max((float(d.get("written", 0)) for d in others if d), default=0.0)
    old = shards.read_json(path, shards.STAMP_FORMAT)
    if shards.same_record(path, doc, ignore=("written",)) and float(old.get("written", 0)) >= newest:
        return
    shards.write_json(path, doc)


def run_shard(req: Request, shard: Shard) -> int:
    """Plan every selected scene, render this shard's tasks, leave pieces and a receipt for ``--join``."""
    try:
        manifest.read(req.out)
    except manifest.ManifestError as e:
        print(f"render.py: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    order = list(catalogue.CATALOGUE)
    req = replace(req, entries=sorted(req.entries, key=lambda e: order.index(e.name)))
    names = [e.name for e in req.entries]
    _sweep_leftovers(req.out)
    _sweep(req.out, names)
    prepared: dict[str, Prepared] = {}
    for entry in req.entries:  # every scene's timeline: the plan needs each scene's phases
        try:
            prepared[entry.name] = _prepare(entry, req, progress=not req.quiet)
        except Exception as e:
            interrupts.reraise(e)
            print(f"render.py: error: {entry.name}: timeline: {type(e).__name__}: {e} (a shard plans from every "
                  f"selected scene's timeline)", file=sys.stderr)
            return 1
    per_scene = pieces_per_scene(shard.n, len(names), req.split)
    tasks = shards.deal(shards.tasks_for([(n, prepared[n].timeline) for n in names], per_scene, req.render), shard.n)
    ids = (shards.command_digest(shard.n, req.split, names, req.render, req.scene_settings, req.duration, req.colours),
           shards.plan_digest(tasks))
    mine = [t for t in tasks if t.shard == shard.k]
    status: dict[Task, str] = {}
    previous = signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        wholes = [t for t in mine if t.phases is None]
        if wholes and _wholes(req, prepared, wholes, status) == EXIT_INTERRUPTED:
            return EXIT_INTERRUPTED
        _pieces(req, prepared, [t for t in mine if t.phases is not None], ids, shard.n, status)
        _write_stamp(req, shard, ids, tasks, status, prepared)
    except KeyboardInterrupt:  # workers are stopped by the pool; their leftovers are swept here
        _sweep(req.out, names)
        print(INTERRUPTED, file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)
    _sweep(req.out, names)
    failed = [t for t in mine if status.get(t, "FAILED").startswith("FAILED")]
    if not req.quiet or failed:
        lines = [f"shard {shard}: {len(mine)} of {len(tasks)} task(s) into {req.out}/"]
        lines += [f"  {t.describe()}: {status.get(t, 'FAILED')}" for t in (mine if not req.quiet else failed)]
        print("\n".join(lines), file=sys.stderr)
    return 1 if failed else 0
