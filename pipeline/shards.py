"""Spread a course over machines: ``render.py --shard K/N`` renders share K of N, ``--join`` assembles them.

Every shard plans the same work from the same inputs, with nothing to coordinate: the selected scenes
in catalogue order, each cut into ``pieces_per_scene(N, scenes, --split)`` pieces, and the tasks (a
whole scene, or one piece) dealt longest first onto the least-loaded shard (ties: the earlier task,
the lower shard). Each machine builds its own timelines, and trained numbers differ between CPUs in
the last digits, so the plan reads nothing that depends on them: a phase costs its frame count
(``round(start * fps)`` differences of segment durations, which come from settings), a piece also
``SKIP_PHASE`` per phase it skips to reach its start. ``phase_costs`` would discount held frames,
but whether a phase holds still is read from tracks, whose values may drift.

What a shard leaves in its ``--out`` folder, for the joiner (which needs no model, only these files):
- whole scenes as any render leaves them (outputs, manifest entry);
- ``shards/NAME/SSS.EXT`` (+ ``SSS.sections/``) per piece starting at phase SSS, beside
  ``SSS.json`` (:func:`piece_record`) and a byte copy of the scene's timeline (JSON + NPZ);
- ``shards/shard-K-of-N.json`` (:func:`stamp`): the whole plan and the tasks this shard finished.
"""
from __future__ import annotations

import dataclasses
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from engine.atomic import atomic_write
from engine.cache import cache_key
from engine.timeline import Timeline
from pipeline import pieces
from pipeline.settings import RenderSettings

MAX_SHARDS = 1024
FOLDER = "shards"  # inside a shard's --out folder
STAMP = re.compile(r"^shard-(\d+)-of-(\d+)\.json$")
STAMP_FORMAT, PIECE_FORMAT, VERSION = "neuroreel.shard", "neuroreel.piece", 1


@dataclass(frozen=True)
class Shard:
    k: int  # 1-based
    n: int

    def __str__(self) -> str:
        return f"{self.k}/{self.n}"


def parse_shard(text: str) -> Shard:
    """``K/N`` with 1 <= K <= N <= 1024; ValueError (one line) otherwise."""
    m = re.fullmatch(r"\s*(\d{1,4})\s*/\s*(\d{1,4})\s*", text)
    if not m or not 1 <= int(m[1]) <= int(m[2]) <= MAX_SHARDS:
        raise ValueError(f"--shard takes K/N, this machine's share K of N shares, with 1 <= K <= N <= {MAX_SHARDS} "
                         f"(e.g. --shard 2/3), not '{text}'")
    return Shard(int(m[1]), int(m[2]))


@dataclass(frozen=True)
class Task:
    """One unit of a shard's work: a whole scene, or phases [a, b) of it as piece ``piece`` of ``pieces``."""

    scene: str
    cost: float  # expected cost in moving frames
    phases: tuple[int, int] | None = None
    piece: int = 0  # 1-based; 0 for a whole scene
    pieces: int = 1
    shard: int = 0  # 1-based, once dealt

    def describe(self) -> str:
        if self.phases is None:
            return self.scene
        a, b = self.phases
        span = f"phase {b}" if b == a + 1 else f"phases {a + 1}-{b}"
        return f"{self.scene} piece {self.piece}/{self.pieces} ({span})"

    def to_json(self) -> dict[str, Any]:
        return {"scene": self.scene, "cost": self.cost, "phases": None if self.phases is None else list(self.phases),
                "piece": self.piece, "pieces": self.pieces, "shard": self.shard}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> "Task":
        phases = doc["phases"]
        return cls(str(doc["scene"]), float(doc["cost"]), None if phases is None else (int(phases[0]), int(phases[1])),
                   int(doc["piece"]), int(doc["pieces"]), int(doc["shard"]))


def scene_runs(timeline: Timeline, per_scene: int, settings: RenderSettings) -> list[tuple[int, int]] | None:
    """The scene's pieces (runs of phases), or None when it stays whole, as ``split.split`` decides, but
    balanced by frames (see the module's docstring)."""
    if per_scene < 2 or settings.format not in pieces.SPLITTABLE or len(timeline.segments) < 2:
        return None
    runs = pieces.plan(plan_costs(timeline, settings.fps), per_scene, pieces.SKIP_PHASE)
    return runs if len(runs) > 1 else None


def plan_costs(timeline: Timeline, fps: int) -> list[float]:
    """Each phase's cost for planning: its frames, which depend only on segment durations and fps."""
    return [float(f) for f in pieces.phase_frames(timeline, fps)]


def tasks_for(scenes: Sequence[tuple[str, Timeline]], per_scene: int, settings: RenderSettings) -> list[Task]:
    """Every task, scenes in the given (catalogue) order, a scene's pieces in phase order; not yet dealt."""
    tasks = []
    for name, timeline in scenes:
        costs = plan_costs(timeline, settings.fps)
        runs = scene_runs(timeline, per_scene, settings)
        if runs is None:
            tasks.append(Task(name, sum(costs)))
            continue
        for i, (a, b) in enumerate(runs, start=1):
            tasks.append(Task(name, pieces.SKIP_PHASE * a + sum(costs[a:b]), (a, b), i, len(runs)))
    return tasks


def deal(tasks: Sequence[Task], n: int) -> list[Task]:
    """Each task given a shard: longest first onto the least-loaded shard; ties go to the earlier task and
    the lower shard, so every machine deals the same. Returned in the tasks' own order."""
    loads = [0.0] * n
    shard_of: dict[int, int] = {}
    for i in sorted(range(len(tasks)), key=lambda i: (-tasks[i].cost, i)):
        k = min(range(n), key=lambda k: (loads[k], k))
        loads[k] += tasks[i].cost
        shard_of[i] = k + 1
    return [dataclasses.replace(t, shard=shard_of[i]) for i, t in enumerate(tasks)]


def command_digest(n: int, split: int | None, scenes: Sequence[str], render: RenderSettings,
                   scene_settings: dict[str, object], duration: float | None, colours: list[str] | None) -> str:
    """What the user asked for: shards of one command share it; a changed setting changes it."""
    return cache_key("shards", n, split, list(scenes), render, scene_settings, duration, colours)


def plan_digest(tasks: Sequence[Task]) -> str:
    """The dealt plan; shards of one command whose timelines differ in their phases disagree on it."""
    return cache_key([(t.scene, t.phases, t.shard) for t in tasks])


def stamp_path(out: Path, shard: Shard) -> Path:
    return out / FOLDER / f"shard-{shard.k}-of-{shard.n}.json"


def stamp(shard: Shard, command: str, plan: str, tasks: Sequence[Task], done: list[dict[str, Any]]) -> dict[str, Any]:
    """A shard's receipt: the whole plan (so any one shard tells the joiner every task) and what it finished
    (``done``: scene, piece, render_key, and a whole scene's file)."""
    return {"format": STAMP_FORMAT, "version": VERSION, "shard": shard.k, "shards": shard.n, "command": command,
            "plan": plan, "written": time.time(), "tasks": [t.to_json() for t in tasks], "done": done}


def piece_dir(out: Path, scene: str) -> Path:
    return out / FOLDER / scene


def piece_json(out: Path, scene: str, start: int) -> Path:
    """Where the record of the piece starting at phase ``start`` lives (named as worker.render_piece names it)."""
    return piece_dir(out, scene) / f"{start:03d}.json"


def piece_record(task: Task, command: str, plan: str, shards: int, timeline_file: str, timeline_sha256: str,
                 render_key: str, frames: int, file: str, sha256: str, sections: list[str],
                 sections_sha256: list[str], scene_cls: str, settings: RenderSettings) -> dict[str, Any]:
    """A piece, self-describing: what it is, what it was made from, and what the joiner needs to finish the
    joined scene (the scene class and render settings; the timeline is the byte copy named here). Paths are
    relative to the piece's folder."""
    return {"format": PIECE_FORMAT, "version": VERSION, "scene": task.scene, "phases": list(task.phases),
            "piece": task.piece, "pieces": task.pieces, "shard": task.shard, "shards": shards,
            "command": command, "plan": plan, "timeline": timeline_file, "timeline_sha256": timeline_sha256,
            "render_key": render_key, "frames": frames, "file": file, "sha256": sha256,
            "sections": sections, "sections_sha256": sections_sha256,
            "job": {"scene": scene_cls, "settings": dataclasses.asdict(settings)}}


def read_json(path: Path, fmt: str) -> dict[str, Any] | None:
    """A record of format ``fmt``, or None if it is absent, unreadable or another kind of file."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == fmt and doc.get("version") == VERSION else None


def same_record(path: Path, doc: dict[str, Any], ignore: tuple[str, ...] = ()) -> bool:
    """True if ``path`` already says what ``doc`` says (keys in ``ignore`` aside): then it need not be written."""
    old = read_json(path, doc["format"])
    strip = lambda d: {k: v for k, v in d.items() if k not in ignore}
    return old is not None and strip(old) == json.loads(json.dumps(strip(doc)))


def write_json(path: Path, doc: dict[str, Any]) -> None:
    """Write a record atomically (never half of one under its name)."""
    with atomic_write(path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
