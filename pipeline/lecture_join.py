"""Join a lecture's rendered parts: one MP4 (stream copy, a chapter per phase, a soft subtitle track), one
NAME.srt/NAME.vtt pair and one manim-slides deck, all in the output folder.

No frame is re-encoded: every part was rendered with the same size, rate and codec, so FFmpeg's concat
demuxer copies their packets end to end. Time comes from frames, not from the phases' durations: part k
starts at (frames of the parts before it) / fps, as the joined file shows it, and the joined file must
hold exactly the sum of the parts' frames. Each output is published atomically; a record of what they were
made from (``joined.json`` in the lecture's work folder) lets an unchanged re-run write nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from engine.atomic import atomic_write
from engine.cache import cache_key
from engine.fingerprint import code_fingerprint
from pipeline import pieces, slides, subtitles
from pipeline.manifest import file_digest
from pipeline.video import probe

STATE = "joined.json"


class JoinError(RuntimeError):
    """The parts cannot be joined as they are; one line."""


@dataclass(frozen=True)
class Rendered:
    """A rendered part: its folder, its manifest entry, and its frames as read back from the file."""

    folder: Path
    entry: dict[str, Any]
    frames: int
    card_title: str | None = None  # a card is one chapter, titled by the card alone

    @property
    def video(self) -> Path:
        return self.folder / self.entry["file"]


@dataclass(frozen=True)
class Joined:
    video: Path
    frames: int
    seconds: float
    chapters: int
    cues: int
    slides: int
    reused: bool


def compose(parts: Sequence[Rendered], fps: int) -> tuple[list[subtitles.Cue], list[subtitles.Chapter], list[slides.SlideClip]]:
    """Cues, chapters and slides of the parts played back to back; nothing of a part outlasts its frames."""
    cues, chapters, clips = [], [], []
    offset = 0.0
    for part in parts:
        end = offset + part.frames / fps
        phases = subtitles.phases_from_manifest(part.entry["phases"])
        if part.card_title is not None:
            own = [subtitles.Chapter(offset, end, " ".join(part.card_title.split()))]
        else:
            own = subtitles.chapters(phases, fps, offset, prefix=str(part.entry.get("title") or part.entry["name"]))
        chapters += [subtitles.Chapter(c.start_s, min(c.end_s, end), c.title) for c in own if c.start_s < end]
        cues += [subtitles.Cue(c.start_s, min(c.end_s, end), c.text)
                 for c in subtitles.cues(phases, fps, offset) if c.start_s < end]
        clips += slides.clips_from_manifest(part.folder, part.entry)
        offset = end
    return cues, chapters, clips


def _check_alike(parts: Sequence[Rendered]) -> None:
    keys = ("width", "height", "codec", "pix_fmt", "fps")
    first = {k: parts[0].entry.get(k) for k in keys}
    for part in parts[1:]:
        other = {k: part.entry.get(k) for k in keys}
        if other != first:
            raise JoinError(f"{part.video.name} is {other}, unlike {parts[0].video.name} {first}; the parts of a "
                            "lecture must share size, rate and codec: render them again with --force")


def concat(parts: Sequence[Rendered], fps: int, dst: Path) -> None:
    """Copy the parts' video packets end to end into ``dst``, as the pieces of a split scene are joined."""
    try:
        pieces.join([p.video for p in parts], dst)
    except (OSError, RuntimeError, ValueError) as e:  # av's errors are OSErrors
        raise JoinError(f"could not join the parts: {e}") from None


def _outputs(out: Path, name: str) -> list[Path]:
    deck = out / "slides" / slides.FILES / name
    return [out / f"{name}.mp4", out / f"{name}.srt", out / f"{name}.vtt", out / "slides" / f"{name}.json",
            *(sorted(deck.iterdir()) if deck.is_dir() else [])]


def _digests(out: Path, name: str) -> dict[str, str]:
    return {str(p.relative_to(out)): file_digest(p) for p in _outputs(out, name) if p.is_file()}


def _up_to_date(state: Path, key: str, out: Path, name: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(state.read_text(encoding="utf-8"))
        if doc.get("key") == key and doc.get("outputs") == _digests(out, name):
            return doc
    except (OSError, ValueError):
        pass
    return None


def publish(name: str, out: Path, work: Path, parts: Sequence[Rendered], fps: int,
            resolution: tuple[int, int], background: str, force: bool = False) -> Joined:
    """Write NAME.mp4, NAME.srt, NAME.vtt and slides/NAME.json from ``parts``, unless they are up to date."""
    cues, chapters, clips = compose(parts, fps)
    frames = sum(p.frames for p in parts)
    key = cache_key(name, fps, list(resolution), background, code_fingerprint(__name__),
                    [[p.entry.get("sha256"), p.entry.get("sections_sha256"), p.frames, p.card_title,
                      p.entry.get("title"), p.entry.get("phases")] for p in parts])
    state = work / STATE
    result = Joined(out / f"{name}.mp4", frames, frames / fps, len(chapters), len(cues), len(clips), reused=True)
    if not force and _up_to_date(state, key, out, name) is not None:
        return result
    _check_alike(parts)
    tmp = work / f"{name}.joined.mp4"  # written atomically by the join; only an intermediate
    try:
        concat(parts, fps, Path(tmp))
        got = probe(tmp).frames
        if got != frames:
            raise JoinError(f"the joined video has {got} frames but its parts have {frames}; "
                            "render the parts again with --force")
        subtitles.write_srt(cues, out / f"{name}.srt")
        subtitles.write_vtt(cues, out / f"{name}.vtt")
        slides.write_deck(out / "slides", name, clips, resolution, background)
        subtitles.embed(tmp, cues, chapters, out / f"{name}.mp4")  # last: the video appears with all beside it
    finally:
        Path(tmp).unlink(missing_ok=True)
    with atomic_write(state, "w") as f:
        json.dump({"key": key, "outputs": _digests(out, name)}, f, indent=2, sort_keys=True)
        f.write("\n")
    return Joined(result.video, frames, frames / fps, len(chapters), len(cues), len(clips), reused=False)
