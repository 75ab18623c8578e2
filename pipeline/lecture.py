"""``render.py --lecture FILE.toml``: scenes and title cards rendered in order and joined into one MP4 with a
chapter per phase, one manim-slides deck and one subtitle pair, named after the file, in --out.

Order of work, so that a mistake costs as little as possible:
1. the whole file is checked as the command line checks each scene (:mod:`pipeline.lecture_file`): one line
   and exit 2, nothing written;
2. every part's timeline is built or loaded (the cache only), so a duration too short for a scene's phases
   is found before anything renders, also exit 2 with nothing written;
3. each part renders into its own folder ``OUT/.lecture/NAME/SCENE-HASH/`` by the same run as ``render.py
   --scene SCENE --sections``, which reuses an unchanged output; parts run one after another;
4. the parts are joined (:mod:`pipeline.lecture_join`), and part folders the lecture no longer uses are removed.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

from engine.atomic import remove_stale
from engine.text_safety import printable
from pipeline import interrupts
from pipeline.cli import EXIT_USAGE, UsageError, check_out_dir
from pipeline.lecture_file import Lecture, LectureError, Part, load

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
WORK = ".lecture"  # OUT/.lecture/NAME/: the parts and the record of the last join
# Flags that describe what to render: a lecture takes them from its file. (flag, its default)
_FROM_FILE = (("scene", []), ("all", False), ("set", []), ("objects", None), ("source", None),
              ("activations", None), ("duration", None), ("colours", None), ("resolution", None), ("fps", None),
              ("quality", "low"), ("format", "mp4"), ("transparent", False), ("sections", False),
              ("captions", "burned"), ("theme", "dark"), ("subtitles", False), ("slides", False), ("max_size", None),
              ("cluster", None))


def _error(message: object) -> int:
    print(f"render.py: error: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


def _say(args: argparse.Namespace, message: str) -> None:
    if not args.quiet:
        print(f"lecture: {printable(message)}", file=sys.stderr, flush=True)


def _check_flags(args: argparse.Namespace) -> None:
    given = [name for name, default in _FROM_FILE if getattr(args, name, default) != default]
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise UsageError(f"{flag} does not go with --lecture: the lecture file sets its scenes and settings "
                         "(with --lecture give only --out, --force and --quiet)")
    if not args.out.strip():
        raise UsageError("--out needs a folder name, not an empty string (e.g. --out media)")


def _could_create(out: Path) -> None:
    """That ``out`` exists or could be made, checked without making it (the full check comes before rendering)."""
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise UsageError(f"output folder '{out}' cannot be created or written ('{probe}' is "
                         f"{'a file' if not probe.is_dir() else 'not writable'}); choose another --out")


def _unique(parts: list[Part]) -> list[Part]:
    """One of each part folder: a card or scene that appears twice with the same settings renders once."""
    return list({p.folder: p for p in reversed(parts)}.values())[::-1]


def _timelines(lecture: Lecture, args: argparse.Namespace) -> None:
    """Build (or load) every part's timeline and fit it to its duration: LectureError if a duration cannot be."""
    from engine.timeline import TimelineError
    from engine.timelines.errors import SettingsError
    from pipeline.timelines import get_timeline, retimed, timeline_path

    for part in _unique(lecture.parts):
        where = f"{lecture.path}: part {part.index} ({part.label})"
        if not timeline_path(part.entry, part.settings).exists():
            _say(args, f"timeline of part {part.index} of {len(lecture.parts)} ({part.label})")
        try:
            timeline, _ = get_timeline(part.entry, part.settings, progress=not args.quiet)
            if part.duration is not None and part.entry.name != "title_card":
                retimed(timeline, part.duration, lecture.render.fps)
        except (TimelineError, SettingsError) as e:
            raise LectureError(f"{where}: {str(e).replace('--duration', 'duration')}") from None
        except Exception as e:
            interrupts.reraise(e)
            raise RuntimeError(f"{where}: timeline: {type(e).__name__}: {e}") from None


def _render(lecture: Lecture, part: Part, folder: Path, args: argparse.Namespace) -> int:
    from pipeline.run import Request, run

    check_out_dir(folder)
    p = part.plan
    req = Request(entries=p.entries, scene_settings=p.scene_settings, render=p.render, out=folder, jobs=1,
                  quiet=args.quiet, force=args.force, duration=part.duration if part.entry.name != "title_card" else None,
                  colours=p.colours)
    return run(req)


def _rendered(part: Part, folder: Path):
    from pipeline import manifest
    from pipeline.lecture_join import Rendered
    from pipeline.video import probe

    entry = next((e for e in manifest.read(folder)["scenes"] if e["name"] == part.entry.name), None)
    if entry is None:
        raise ValueError(f"{folder / manifest.NAME} does not list {part.entry.name}; run again with --force")
    return Rendered(folder, entry, probe(folder / entry["file"]).frames, card_title=part.card_title)


def _background(theme: str) -> str:
    from scenes import style
    themes = getattr(style, "THEMES", None)
    if isinstance(themes, dict):
        chosen = themes[theme]
        return chosen["background"] if isinstance(chosen, dict) else chosen.background
    style.use_theme(theme)
    return style.BACKGROUND


def _prune(work: Path, keep: set[str]) -> None:
    """Remove part folders of earlier versions of this lecture (after a successful join only)."""
    for child in work.iterdir():
        if child.is_dir() and not child.name.startswith(".") and child.name not in keep:
            shutil.rmtree(child, ignore_errors=True)


def main(args: argparse.Namespace) -> int:
    """Render ``args.lecture``; the exit status of render.py (0, 1 failed, 2 bad input, 130 interrupted)."""
    started = time.perf_counter()
    try:
        _check_flags(args)
        lecture = load(args.lecture, args.out)
        out = Path(args.out)
        _could_create(out)
        _timelines(lecture, args)
        check_out_dir(out)
    except (UsageError, LectureError) as e:
        return _error(e)
    except RuntimeError as e:
        _error(e)
        return EXIT_FAILED
    from pipeline import lecture_join, slides

    work = out / WORK / lecture.name
    remove_stale(out, ".tmp", [f"{lecture.name}{ext}" for ext in (".mp4", ".srt", ".vtt")])
    if work.is_dir():
        remove_stale(work, ".tmp", [f"{lecture.name}.mp4", lecture_join.STATE])
    slides.sweep_leftovers(out / "slides")
    unique = _unique(lecture.parts)
    for n, part in enumerate(unique, 1):
        _say(args, f"part {part.index} of {len(lecture.parts)} ({part.label})")
        status = _render(lecture, part, work / part.folder, args)
        if status == EXIT_INTERRUPTED:
            return status
        if status != 0:
            _error(f"{lecture.path}: part {part.index} ({part.label}) did not render (see above); fix it and run "
                   "the same command again: finished parts are reused")
            return EXIT_FAILED
    try:
        rendered = [_rendered(p, work / p.folder) for p in lecture.parts]
        r = lecture.render
        joined = lecture_join.publish(lecture.name, out, work, rendered, r.fps, (r.width, r.height),
                                      _background(r.theme), force=args.force)
    except (OSError, ValueError, RuntimeError) as e:
        interrupts.reraise(e)
        _error(f"{lecture.path}: joining the parts: {e}")
        return EXIT_FAILED
    _prune(work, {p.folder for p in lecture.parts})
    minutes, seconds = divmod(round(joined.seconds), 60)
    _say(args, f"{'up to date' if joined.reused else 'wrote'} {joined.video} ({minutes}:{seconds:02d}, "
               f"{joined.frames} frames, {joined.chapters} chapters), {lecture.name}.srt/.vtt ({joined.cues} cues), "
               f"slides/{lecture.name}.json ({joined.slides} slides) in {time.perf_counter() - started:.1f} s; "
               f"present with: manim-slides present {lecture.name} --folder {out / 'slides'}")
    return 0
