"""``render.py --join DIR... --out OUT``: assemble the folders of every ``--shard K/N`` run into one.

The plan comes from the shards' receipts (``shards/shard-K-of-N.json``; the newest command's, if a
reused folder holds older ones), so every task is accounted for before anything is written: a whole
scene must be in the manifest of the folder whose shard finished it, a piece in any folder, each file
hashing as recorded. Then, scene by scene: a whole scene's files are hard-linked (or copied) into OUT
and its manifest entry merged; a pieced scene is joined without re-encoding and finished exactly as a
split render is (pipeline/split.py: ``pieces.join`` then ``worker.finish``, so format, size budget,
subtitles and section clips match a one-process render byte for byte), then recorded as the run
records it. No model is needed: the pieces' records name the scene class and settings, and a byte copy
of the timeline lies beside them. A scene already in OUT from the same inputs is left alone, so an
unchanged re-join writes nothing.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.atomic import temp_prefix
from engine.text_safety import printable
from engine.timeline import Timeline
from pipeline import catalogue, interrupts, manifest, pieces, shards
from pipeline.settings import RenderSettings
from pipeline.shards import Task

ALLOWED = {"join", "out", "quiet", "force", "jobs", "help"}  # flags that mean something (or no harm) to --join
DIFFERENT_TIMELINES = ("shards that run on different CPUs train slightly different numbers; give every machine "
                       "the same timeline cache (copy data/cache/timelines, or point NEUROREEL_CACHE at one), or "
                       "pass --split 1 so no scene is split, and run the shards again")


class JoinError(RuntimeError):
    """What is missing or inconsistent among the shards' folders; one line, exit 1."""


@dataclass(frozen=True)
class Receipt:
    folder: Path
    doc: dict[str, Any]


@dataclass
class Scene:
    """One scene of the plan, found: a whole output (folder, manifest entry) or its pieces (folder, record) in order."""

    name: str
    whole: tuple[Path, dict[str, Any]] | None = None
    pieces: list[tuple[Path, dict[str, Any]]] = field(default_factory=list)


def _usage(args) -> tuple[list[Path], Path]:
    """The folders to join and OUT, or UsageError: --join takes its scenes and settings from the shards."""
    from pipeline.cli import UsageError, build_parser

    if args.shard is not None:
        raise UsageError("--shard and --join are separate steps: render each share with --shard K/N, then "
                         "assemble their folders with --join DIR... --out OUT")
    parser = build_parser()
    given = [a.option_strings[0] for a in parser._actions
             if a.dest not in ALLOWED and a.option_strings and getattr(args, a.dest, None) != a.default]
    if given:
        raise UsageError(f"--join takes its scenes and settings from the shards' folders: pass only --join DIR... "
                         f"--out OUT (and --quiet, --force), not {given[0]}")
    if not args.out.strip():
        raise UsageError("--out needs a folder name, not an empty string (e.g. --out media)")
    dirs = list(dict.fromkeys(Path(d) for d in args.join))
    for d in dirs:
        if not d.is_dir():
            raise UsageError(f"--join folder '{d}' does not exist (or is not a folder)")
        if not _receipts(d):
            raise UsageError(f"--join folder '{d}' holds no shard outputs (no {shards.FOLDER}/shard-K-of-N.json); "
                             f"pass the --out folders of render.py --shard K/N runs")
    return dirs, Path(args.out)


def _receipts(folder: Path) -> list[Receipt]:
    found = []
    for p in sorted((folder / shards.FOLDER).glob("shard-*-of-*.json")):
        doc = shards.read_json(p, shards.STAMP_FORMAT)
        if doc is not None and shards.STAMP.match(p.name) and _well_formed(doc):
            found.append(Receipt(folder, doc))
    return found


def _well_formed(doc: dict[str, Any]) -> bool:
    lists = doc.get("tasks"), doc.get("done")
    return isinstance(doc.get("written"), (int, float)) and isinstance(doc.get("shards"), int) and \
        all(isinstance(x, list) and all(isinstance(item, dict) for item in x) for x in lists)


def _inside(*rels: object) -> bool:
    """Relative paths that stay inside their folder: what the shards' files name is read and written nowhere else."""
    return all(isinstance(r, str) and r and not Path(r).is_absolute() and ".." not in Path(r).parts for r in rels)


def _plan(dirs: list[Path]) -> tuple[list[Receipt], list[Task]]:
    """The newest command's receipts and its tasks; JoinError if its shards planned differently."""
    receipts = [r for d in dirs for r in _receipts(d)]
    newest = max(receipts, key=lambda r: (float(r.doc.get("written", 0)), r.doc.get("command", "")))
    mine = [r for r in receipts if r.doc.get("command") == newest.doc.get("command")]
    if len({r.doc.get("plan") for r in mine}) > 1:
        a, b = next((r, s) for r in mine for s in mine if r.doc.get("plan") != s.doc.get("plan"))
        raise JoinError(f"shard {a.doc['shard']}/{a.doc['shards']} (in {a.folder}) and shard {b.doc['shard']}/"
                        f"{b.doc['shards']} (in {b.folder}) cut the scenes into different pieces, so their "
                        f"timelines differ; {DIFFERENT_TIMELINES}")
    try:
        tasks = [Task.from_json(t) for t in newest.doc["tasks"]]
        unknown = next((t.scene for t in tasks if t.scene not in catalogue.CATALOGUE), None)
    except (KeyError, TypeError, ValueError, IndexError):
        raise JoinError(f"{newest.folder / shards.FOLDER} holds a damaged shard receipt; run that shard "
                        f"again") from None
    if unknown is not None:
        raise JoinError(f"scene '{unknown}' is not in this neuroreel's catalogue; join with the version the shards ran")
    return mine, tasks


def _intact(folder: Path, files: list[tuple[str, str]]) -> bool:
    try:
        return all(sha and manifest.file_digest(folder / rel) == sha for rel, sha in files)
    except (OSError, TypeError):
        return False


def _entry_files(entry: dict[str, Any]) -> list[tuple[str, str]]:
    """A manifest entry's files with their recorded digests (a malformed entry has none that match)."""
    try:
        return [(entry["file"], entry["sha256"]),
                *zip(entry["sections"], entry["sections_sha256"], strict=True),
                *zip(entry["extras"], entry["extras_sha256"], strict=True)]
    except (KeyError, TypeError, ValueError):
        return [("", "")]


def _find_whole(task: Task, receipts: list[Receipt]) -> tuple[Path, dict[str, Any]] | None:
    """The whole scene in the folder of a shard that finished it, with that shard's render key, intact."""
    for r in receipts:
        if r.doc.get("shard") != task.shard:
            continue
        for done in r.doc.get("done", []):
            if done.get("scene") != task.scene or done.get("piece") != 0:
                continue
            try:
                entries = manifest.read(r.folder)["scenes"]
            except manifest.ManifestError:
                continue
            for e in entries:
                files = _entry_files(e)
                mine = e.get("name") == task.scene and e.get("file") == done.get("file") and \
                    e.get("render_key") == done.get("render_key")
                if not mine or not _inside(e.get("timeline"), *(f for f, _ in files)):
                    continue
                tl = r.folder / e["timeline"]
                if _intact(r.folder, files) and tl.is_file() and tl.with_suffix(".npz").is_file():
                    return r.folder, e
    return None


def _find_piece(task: Task, command: str, plan: str, dirs: list[Path]) -> tuple[Path, dict[str, Any]] | None:
    """The piece in any folder, recorded for this plan, its files intact."""
    for d in dirs:
        path = shards.piece_json(d, task.scene, task.phases[0])
        doc = shards.read_json(path, shards.PIECE_FORMAT)
        if doc is None or doc.get("command") != command or doc.get("plan") != plan or \
                doc.get("phases") != list(task.phases):
            continue
        try:
            files = [(doc["file"], doc["sha256"]), (doc["timeline"], doc["timeline_sha256"])] \
                + list(zip(doc["sections"], doc["sections_sha256"], strict=True))
        except (KeyError, TypeError, ValueError):
            continue
        if _inside(*(f for f, _ in files)) and _intact(path.parent, files):
            return path.parent, doc
    return None


def locate(dirs: list[Path]) -> list[Scene]:
    """Every scene of the plan with where its output or pieces are; JoinError naming what is missing."""
    receipts, tasks = _plan(dirs)
    command, plan, n = receipts[0].doc["command"], receipts[0].doc["plan"], int(receipts[0].doc["shards"])
    scenes: dict[str, Scene] = {}
    missing = []
    for task in tasks:
        scene = scenes.setdefault(task.scene, Scene(task.scene))
        found = _find_whole(task, receipts) if task.phases is None else _find_piece(task, command, plan, dirs)
        if found is None:
            missing.append(task)
        elif task.phases is None:
            scene.whole = found
        else:
            scene.pieces.append(found)
    if missing:
        again = " and ".join(f"--shard {k}/{n}" for k in sorted({t.shard for t in missing}))
        more = f" (and {len(missing) - 1} more task{'s' if len(missing) > 2 else ''})" if len(missing) > 1 else ""
        raise JoinError(f"{missing[0].describe()} is in none of the folders{more}; run {again} again")
    for scene in scenes.values():
        docs = [d for _, d in scene.pieces]
        for key, what in (("timeline_sha256", "timelines"), ("render_key", "code or settings")):
            if len({d.get(key) for d in docs}) > 1:
                a, b = next((x, y) for x in docs for y in docs if x.get(key) != y.get(key))
                fix = DIFFERENT_TIMELINES if key == "timeline_sha256" else \
                    "run every shard from the same commit with the same Manim version"
                raise JoinError(f"{scene.name}: its pieces were made from different {what} (piece {a.get('piece')}/"
                                f"{a.get('pieces')} by shard {a.get('shard')}/{n}, piece {b.get('piece')}/"
                                f"{b.get('pieces')} by shard {b.get('shard')}/{n}); {fix}")
    return list(scenes.values())


def _out_entry(out: Path, name: str, file: str) -> dict[str, Any] | None:
    return next((e for e in manifest.read(out)["scenes"] if e.get("name") == name and e.get("file") == file), None)


def _link_or_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _copy_whole(src: Path, entry: dict[str, Any], out: Path, force: bool) -> str:
    """A whole scene's files and timeline into ``out`` (staged, then renamed into place), its entry merged."""
    from pipeline.worker import PARTIAL_SUFFIX, _publish_dir

    name = entry["name"]
    if _out_entry(out, name, entry["file"]) == entry and _intact(out, _entry_files(entry)) and \
            (not force or src.resolve() == out.resolve()):
        return "unchanged"
    tl = Path(entry["timeline"])
    stage = Path(tempfile.mkdtemp(prefix=temp_prefix(name), suffix=PARTIAL_SUFFIX, dir=out))
    try:
        rels = [rel for rel, _ in _entry_files(entry)] + [str(tl.with_suffix(".npz")), str(tl)]
        for rel in rels:
            _link_or_copy(src / rel, stage / rel)
        if entry["sections"]:
            _publish_dir(stage / Path(entry["sections"][0]).parent, out / Path(entry["sections"][0]).parent)
        (out / tl.parent).mkdir(parents=True, exist_ok=True)
        for rel in [str(tl.with_suffix(".npz")), str(tl), *entry["extras"], entry["file"]]:  # the video last
            os.replace(stage / rel, out / rel)
        manifest.upsert(out, entry)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return f"copied from {src}"


def _join_pieces(scene: Scene, out: Path, force: bool) -> str:
    """Join the pieces, finish the video as a whole render would, record it as run.py does."""
    from pipeline.run import Prepared, Request, _record, _up_to_date
    from pipeline.worker import PARTIAL_SUFFIX, RenderJob, finish

    first_dir, first = scene.pieces[0]
    settings = RenderSettings(**first["job"]["settings"])
    entry = catalogue.CATALOGUE[scene.name]
    timeline_path = first_dir / first["timeline"]
    timeline = Timeline.load(timeline_path)
    job = RenderJob(scene.name, first["job"]["scene"], str(timeline_path), str(out), settings)
    req = Request(entries=[entry], scene_settings={}, render=settings, out=out, jobs=1, force=force)
    prep = Prepared(entry, timeline, timeline_path, first["render_key"])
    if _up_to_date(req, prep, job) is not None:
        return "unchanged"
    started = time.perf_counter()
    stage = Path(tempfile.mkdtemp(prefix=temp_prefix(scene.name), suffix=PARTIAL_SUFFIX, dir=out))
    try:
        joined = pieces.join([d / doc["file"] for d, doc in scene.pieces],
                             stage / f"joined{pieces.piece_suffix(settings)}")
        sections = []
        if settings.sections:
            (stage / "sections").mkdir()
            for d, doc in scene.pieces:
                for rel in doc["sections"]:
                    sections.append(stage / "sections" / Path(rel).name)
                    _link_or_copy(d / rel, sections[-1])
        result = finish(job, timeline, joined, sections, stage, started)
        _record(req, prep, replace(result, pieces=len(scene.pieces)))
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return f"joined from {len(scene.pieces)} pieces"


def main(args) -> int:
    """``render.py --join``: exit 0 when every scene is in OUT, 1 if something is missing or fails, 2 for bad usage."""
    from pipeline.cli import UsageError, check_out_dir
    from pipeline.run import _sweep_leftovers

    try:
        dirs, out = _usage(args)
    except UsageError as e:
        print(f"render.py: error: {printable(e)}", file=sys.stderr)
        return 2
    try:
        scenes = locate(dirs)
    except JoinError as e:
        print(f"render.py: error: {printable(e)}", file=sys.stderr)
        return 1
    try:
        check_out_dir(out)
        manifest.read(out)
    except (UsageError, manifest.ManifestError) as e:
        print(f"render.py: error: {printable(e)}", file=sys.stderr)
        return 2
    _sweep_leftovers(out)
    lines, failed = [], 0
    for scene in scenes:
        try:
            did = _copy_whole(*scene.whole, out, args.force) if scene.whole else _join_pieces(scene, out, args.force)
        except Exception as e:  # the scene fails, the others go on
            interrupts.reraise(e)
            did, failed = f"FAILED: {type(e).__name__}: {e}", failed + 1
        lines.append(f"  {scene.name}: {did}")
    if not args.quiet or failed:
        print("\n".join([f"join: {len(scenes)} scene(s) into {out}/", *lines]), file=sys.stderr)
    return 1 if failed else 0
