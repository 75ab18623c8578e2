"""A scene's phase captions as subtitle files (SRT, WebVTT) and as a soft track plus chapters in the video.

Presenters want the captions that a scene shows as subtitles players and video sites understand, and
its phases as named chapters. Timing is frame-exact: the video shows frame k at k/fps, phase i starts
at frame round(T_i * fps) (T_i: the durations before it summed, as ``scenes/base.py`` cuts time) and
the video has round(T * fps) + 1 frames. Files carry whole milliseconds, rounded DOWN, so a cue that
starts at frame k is already on when frame k is shown and is off again by the frame after its last.

Caption text is the user's: a blank line would end a cue and "-->" could pose as a timing line, so
blank lines are dropped (single line breaks stay), WebVTT text is entity-escaped (&, <, >), and SRT,
which has no escapes, relies on its block structure (no blank line can occur inside a cue).
"""
from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

import srt

from engine.atomic import atomic_write, publish_mode, temp_prefix

LANGUAGE = "eng"
TRACK_TITLE = "Captions"
# dst suffix -> (ffmpeg muxer, subtitle codec). MP4/MOV carry 3GPP timed text; WebM/Matroska WebVTT.
CONTAINERS = {".mp4": ("mp4", "mov_text"), ".m4v": ("mp4", "mov_text"), ".mov": ("mov", "mov_text"),
              ".webm": ("webm", "webvtt"), ".mkv": ("matroska", "webvtt")}


class SubtitleError(RuntimeError):
    """Embedding failed; the message is one line, ending with ffmpeg's own last word."""


@dataclass(frozen=True)
class Phase:
    name: str
    duration_s: float
    caption: str = ""


@dataclass(frozen=True)
class Cue:
    start_s: float
    end_s: float
    text: str


@dataclass(frozen=True)
class Chapter:
    start_s: float
    end_s: float
    title: str


def phases_from_manifest(items: Iterable[Mapping[str, Any]]) -> list[Phase]:
    """Phases as a manifest entry stores them: dicts with "name", "duration_s" and "caption"."""
    return [Phase(str(d["name"]), float(d["duration_s"]), str(d.get("caption") or "")) for d in items]


def phases_from_segments(segments: Iterable[Any]) -> list[Phase]:
    """Phases from timeline segments (objects with .name, .duration, .caption): unrounded durations."""
    return [Phase(s.name, float(s.duration), s.caption or "") for s in segments]


def _check(phases: Sequence[Phase], fps: float) -> None:
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"fps must be a positive number, not {fps!r}")
    bad = [p.name for p in phases if not (math.isfinite(p.duration_s) and p.duration_s >= 0)]
    if bad:
        raise ValueError(f"phase durations must be finite and >= 0 (phase {bad[0]!r})")


def frame_bounds(phases: Sequence[Phase], fps: float) -> list[int]:
    """First frame of each phase, then the video's frame count: phase i shows frames [b[i], b[i+1])."""
    _check(phases, fps)
    bounds, t = [], 0.0
    for p in phases:
        bounds.append(round(t * fps))
        t += p.duration_s
    return bounds + [round(t * fps) + 1]


def video_duration_s(phases: Sequence[Phase], fps: float) -> float:
    """How long the rendered video lasts: the offset of the next scene in a lecture."""
    return frame_bounds(phases, fps)[-1] / fps


def clean_text(text: str) -> str:
    """One cue's text: lines stripped, blank lines dropped (they would end the cue), any newline kind."""
    return "\n".join(line.strip() for line in str(text).splitlines() if line.strip())


def chapter_title(name: str) -> str:
    """A phase name for people: "sparsity_0.9" -> "Sparsity 0.9" (underscores become spaces, first letter up)."""
    words = " ".join(name.replace("_", " ").split())
    return words[:1].upper() + words[1:]


def _spans(phases: Sequence[Phase], fps: float, offset_s: float) -> list[tuple[float, float, Phase]]:
    """(start, end, phase) in seconds for each phase that shows at least one frame."""
    b = frame_bounds(phases, fps)
    return [(offset_s + b[i] / fps, offset_s + b[i + 1] / fps, p)
            for i, p in enumerate(phases) if b[i + 1] > b[i]]


def cues(phases: Sequence[Phase], fps: float, offset_s: float = 0.0) -> list[Cue]:
    """One cue per run of consecutive phases showing the same non-empty caption.

    Phases that show no frame are skipped first, so a caption on either side of one stays one cue.
    """
    out: list[Cue] = []
    for start, end, p in _spans(phases, fps, offset_s):
        text = clean_text(p.caption)
        if not text:
            continue
        if out and out[-1].text == text and out[-1].end_s == start:
            out[-1] = Cue(out[-1].start_s, end, text)
        else:
            out.append(Cue(start, end, text))
    return out


def chapters(phases: Sequence[Phase], fps: float, offset_s: float = 0.0, prefix: str = "") -> list[Chapter]:
    """One chapter per phase that shows a frame, titled "prefix: Phase name" (or the name alone)."""
    out = []
    for i, (start, end, p) in enumerate(_spans(phases, fps, offset_s)):
        title = " ".join(chapter_title(p.name).split()) or f"Part {i + 1}"
        out.append(Chapter(start, end, f"{prefix}: {title}" if prefix else title))
    return out


def lecture(scenes: Iterable[tuple[str, Sequence[Phase], float]]) -> tuple[list[Cue], list[Chapter]]:
    """Cues and chapters of several videos played back to back: (title, phases, fps) each, in order."""
    all_cues: list[Cue] = []
    all_chapters: list[Chapter] = []
    offset = 0.0
    for title, phases, fps in scenes:
        all_cues += cues(phases, fps, offset)
        all_chapters += chapters(phases, fps, offset, prefix=title)
        offset += video_duration_s(phases, fps)
    return all_cues, all_chapters


def to_ms(t: float) -> int:
    """Whole milliseconds, rounded down (see the module note); the epsilon absorbs float error only."""
    return math.floor(t * 1000 + 1e-6)


def _timed(items: Iterable[Any]) -> list[tuple[int, int, Any]]:
    """(start_ms, end_ms, item) for the items that last at least a millisecond."""
    return [(to_ms(c.start_s), to_ms(c.end_s), c) for c in items if to_ms(c.end_s) > to_ms(c.start_s)]


def _vtt_time(ms: int) -> str:
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _vtt_escape(text: str) -> str:
    """WebVTT's three entities: no tag can start and "-->" cannot occur in cue text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def srt_text(cues_: Iterable[Cue]) -> str:
    subs = [srt.Subtitle(i, timedelta(milliseconds=a), timedelta(milliseconds=b), clean_text(c.text))
            for i, (a, b, c) in enumerate(_timed(cues_), 1) if clean_text(c.text)]
    return srt.compose(subs, reindex=True, strict=True)


def vtt_text(cues_: Iterable[Cue], escape: Callable[[str], str] = _vtt_escape) -> str:
    blocks = ["WEBVTT\n"]
    for i, (a, b, c) in enumerate(_timed(cues_), 1):
        text = clean_text(c.text)
        if text:
            blocks.append(f"{i}\n{_vtt_time(a)} --> {_vtt_time(b)}\n{escape(text)}\n")
    return "\n".join(blocks)


def write_srt(cues_: Iterable[Cue], path: str | os.PathLike) -> Path:
    """SubRip file, UTF-8, replaced in one step."""
    with atomic_write(path) as f:
        f.write(srt_text(cues_).encode("utf-8"))
    return Path(path)


def write_vtt(cues_: Iterable[Cue], path: str | os.PathLike) -> Path:
    """WebVTT file, UTF-8, replaced in one step."""
    with atomic_write(path) as f:
        f.write(vtt_text(cues_).encode("utf-8"))
    return Path(path)


def _ffmeta_escape(value: str) -> str:
    """ffmpeg's metadata file escapes '=', ';', '#', '\\' and newline with a backslash."""
    return "".join("\\" + ch if ch in "=;#\\\n" else ch for ch in value)


def ffmetadata(chapters_: Iterable[Chapter]) -> str:
    """An ;FFMETADATA1 file holding the chapters in milliseconds."""
    lines = [";FFMETADATA1"]
    for a, b, ch in _timed(chapters_):
        title = " ".join(str(ch.title).split())  # one line: players show titles in a menu
        lines += ["[CHAPTER]", "TIMEBASE=1/1000", f"START={a}", f"END={b}", f"title={_ffmeta_escape(title)}"]
    return "\n".join(lines) + "\n"


def track_text(text: str) -> str:
    """What the embedded track holds for a cue of this text: ffmpeg's subtitle path needs two changes.

    ffmpeg (5.1) passes WebVTT input to the encoder as ASS text, which turns a backslash before n/N
    into a line break and shows '{'/'}' as '\\{'/'\\}'. An invisible word joiner keeps "\\n" literal;
    braces become their fullwidth look-alikes. The files written above keep the text unchanged.
    """
    return clean_text(text).replace("\\n", "\\\u2060n").replace("\\N", "\\\u2060N") \
        .replace("{", "\uff5b").replace("}", "\uff5d")


def _track_escape(codec: str):
    """Escaping for the WebVTT handed to ffmpeg; its WebVTT encoder (WebM, Matroska) writes text as it
    gets it, so there the entities are escaped twice to arrive escaped once."""
    def escape(text: str) -> str:
        text = _vtt_escape(track_text(text))
        return _vtt_escape(text) if codec == "webvtt" else text
    return escape


def _reason(stderr: str) -> str:
    """ffmpeg's last line, after its first when they differ: the last is often a generic wrapper
    ("Error initializing output stream 0:1 --") around the cause it printed first."""
    lines = [re.sub(r"^\[[^]]* @ 0x[0-9a-f]+\] ", "", line).strip(" -") for line in stderr.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return "no message"
    return lines[-1] if lines[0] == lines[-1] else f"{lines[0]} ({lines[-1]})"


def embed(video: str | os.PathLike, cues_: Sequence[Cue], chapters_: Sequence[Chapter], dst: str | os.PathLike,
          *, language: str = LANGUAGE, title: str = TRACK_TITLE) -> Path:
    """Copy ``video`` into ``dst`` (no re-encoding) with the cues as a soft subtitle track and chapters.

    Video and audio streams are copied; earlier subtitle tracks and chapters are replaced. ``dst`` may
    be ``video`` itself. ffmpeg writes a temporary sibling that is renamed only once it is complete.
    """
    video, dst = Path(video), Path(dst)
    try:
        muxer, codec = CONTAINERS[dst.suffix.lower()]
    except KeyError:
        raise ValueError(f"cannot embed subtitles in {dst.name}: use one of {', '.join(CONTAINERS)}") from None
    timed_cues = [c for c in cues_ if clean_text(c.text) and to_ms(c.end_s) > to_ms(c.start_s)]
    dst.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="neuroreel-subs-") as work:
        cmd = ["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(video)]
        maps = ["-map", "0:v", "-map", "0:a?"]
        if timed_cues:
            (Path(work) / "cues.vtt").write_text(vtt_text(timed_cues, _track_escape(codec)), encoding="utf-8")
            cmd += ["-i", str(Path(work) / "cues.vtt")]
            maps += ["-map", "1:0"]
        if _timed(chapters_):
            (Path(work) / "chapters.txt").write_text(ffmetadata(chapters_), encoding="utf-8")
            cmd += ["-i", str(Path(work) / "chapters.txt")]
            maps += ["-map_chapters", str(2 if timed_cues else 1)]
        else:
            maps += ["-map_chapters", "-1"]
        cmd += maps + ["-c", "copy"]
        if timed_cues:
            cmd += ["-c:s", codec, "-metadata:s:s:0", f"language={language}", "-metadata:s:s:0", f"title={title}",
                    "-metadata:s:s:0", f"handler_name={title}", "-disposition:s:0", "default"]
        if muxer in ("mp4", "mov"):
            cmd += ["-movflags", "+faststart"]
        fd, tmp = tempfile.mkstemp(prefix=temp_prefix(dst.name), suffix=".tmp", dir=dst.parent)
        os.close(fd)
        try:
            _run(cmd + ["-f", muxer, tmp], dst)
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            publish_mode(tmp)
            os.replace(tmp, dst)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return dst


def _run(cmd: list[str], dst: Path) -> None:
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    except FileNotFoundError:
        raise SubtitleError("ffmpeg was not found on PATH; install it to embed subtitles") from None
    if proc.returncode != 0:
        raise SubtitleError(f"ffmpeg could not write {dst.name} (exit {proc.returncode}): "
                            f"{_reason(proc.stderr)}")
