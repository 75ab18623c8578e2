"""Write a manim-slides 5.x deck (``slides/NAME.json`` + ``slides/files/NAME/``) from clips already rendered.

manim-slides' own ``Slide`` class cannot run on Manim 0.22, so the deck is written by hand in the format its
``PresentationConfig`` validates: one slide per phase clip (or still title card), the caption as speaker notes.
Paths in the JSON are relative to the folder that contains ``slides/``, as manim-slides resolves them.

    manim-slides present NAME --folder DIR/slides
    manim-slides convert --folder DIR/slides NAME talk.html      (or .pptx / .pdf)

Publishing is atomic per piece and crash-safe to re-run: the clips are staged in a temporary sibling folder
(``.NAME.PID.XXXXXXXX.partial``, recognised by :func:`engine.atomic.remove_stale`) and swapped in by renames,
the JSON goes through a temporary file. A re-run replaces the whole deck, so no slide of a longer old deck survives.
"""
from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Sequence

from engine.atomic import atomic_write, publish_dir, publish_dir_mode, remove, remove_stale, temp_prefix
from pipeline.manifest import locked

FILES = "files"
PARTIAL_SUFFIX = ".partial"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_DECK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_COLOUR = re.compile(r"^(#[0-9A-Fa-f]{3,4}|#[0-9A-Fa-f]{6}|#[0-9A-Fa-f]{8}|[A-Za-z]+)$")
# Inline Markdown that would change how a caption reads; block markers are handled at the start of a line.
_INLINE = re.compile(r"([\\`*_\[\]~|])")
_LINE_START = ("#", "-", "+", "=")
_NUMBERED = re.compile(r"^(\d+)([.)])")

Kind = Literal["video", "image"]


@dataclass(frozen=True)
class SlideClip:
    """One slide: a phase clip (or a still title card) and the caption a presenter reads beside it.

    ``notes`` is plain text (a caption); it is Markdown-escaped when the deck is written.
    """

    source: Path
    notes: str = ""
    name: str = "slide"
    kind: Kind = "video"
    loop: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("video", "image"):
            raise ValueError(f"slide {self.name!r}: kind must be 'video' or 'image', not {self.kind!r}")
        if self.kind == "image" and Path(self.source).suffix.lower() not in IMAGE_SUFFIXES:
            raise ValueError(f"slide {self.name!r}: a still must be one of {', '.join(IMAGE_SUFFIXES)}: "
                             f"{self.source}")


def escape_markdown(text: str) -> str:
    """Plain text as Markdown that shows it literally (speaker notes are Markdown in manim-slides).

    ``<``, ``>`` and ``&`` become entities rather than backslash escapes: the reveal.js export pastes notes
    into HTML unescaped, and an entity keeps user text from ever opening a tag there. (Its Markdown plugin
    then renders the decoded text, so a caption's literal ``<b>`` may still show as bold in that one view.)
    PowerPoint notes show the escaped text as it is.
    """
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    lines = []
    for line in text.splitlines():
        line = _INLINE.sub(r"\\\1", line.lstrip())  # leading spaces could make a code block
        if line[:1] in _LINE_START:  # a heading, list item or setext underline
            line = "\\" + line
        line = _NUMBERED.sub(r"\1\\\2", line)  # "1. " would start a numbered list
        lines.append(line)
    return "\n".join(lines)


def check_deck_name(deck: str) -> str:
    """The deck name, if it is a plain file name manim-slides can be given (``present NAME``)."""
    if not isinstance(deck, str) or not _DECK_NAME.match(deck):
        raise ValueError(f"slide deck name {deck!r} must be a plain file name: letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit, at most 100 characters")
    return deck


def _safe_part(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:60] or "slide"


def _link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link (the clips are immutable once published: re-renders replace, never rewrite), else copy."""
    try:
        os.link(src, dst)
    except OSError as e:
        if e.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EACCES):
            raise
        shutil.copyfile(src, dst)


def _check(clips: Sequence[SlideClip], resolution: tuple[int, int], background: str) -> None:
    if not clips:
        raise ValueError("a slide deck needs at least one clip")
    if len(resolution) != 2 or not all(isinstance(v, int) and v > 0 for v in resolution):
        raise ValueError(f"slide resolution must be two positive integers (width, height), not {resolution!r}")
    if not isinstance(background, str) or not _COLOUR.match(background):
        raise ValueError(f"slide background {background!r} must be a colour like '#111418' or 'black'")
    for clip in clips:
        if not Path(clip.source).is_file():
            raise ValueError(f"slide {clip.name!r}: clip {clip.source} does not exist")


def _slide(rel: str, clip: SlideClip) -> dict[str, Any]:
    return {
        "file": rel, "rev_file": rel,  # no reversed clips: going back replays the slide forwards
        "loop": clip.loop, "auto_next": False, "playback_rate": 1.0, "reversed_playback_rate": 1.0,
        "notes": escape_markdown(clip.notes), "dedent_notes": False, "skip_animations": False,
        "src": None, "type": clip.kind, "direction": "horizontal",
    }


def write_deck(slides_root: Path, deck: str, clips: Sequence[SlideClip],
               resolution: tuple[int, int], background: str) -> Path:
    """Write deck ``deck`` under ``slides_root`` (``DIR/slides``), replacing any old one; returns its JSON path."""
    check_deck_name(deck)
    _check(clips, tuple(resolution), background)
    slides_root = Path(slides_root)
    files_root = slides_root / FILES
    files_root.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=temp_prefix(deck), suffix=PARTIAL_SUFFIX, dir=files_root))
    try:
        publish_dir_mode(staged)
        width = max(2, len(str(len(clips) - 1)))
        slides = []
        for i, clip in enumerate(clips):
            src = Path(clip.source)
            target = staged / f"{i:0{width}d}_{_safe_part(clip.name)}{src.suffix.lower()}"
            _link_or_copy(src, target)
            slides.append(_slide(f"{slides_root.name}/{FILES}/{deck}/{target.name}", clip))
        doc = {"slides": slides, "resolution": list(resolution), "background_color": background}
        with locked(slides_root):  # two writers of one folder take turns, each publishing a whole deck
            publish_dir(staged, files_root / deck)
            path = slides_root / f"{deck}.json"
            with atomic_write(path, "w") as f:
                json.dump(doc, f, indent=2)
                f.write("\n")
    except BaseException:
        remove(staged)
        raise
    return path


def sweep_leftovers(slides_root: Path) -> list[Path]:
    """Remove what killed deck writers left (their process is gone): staged folders and temporary JSONs."""
    slides_root = Path(slides_root)
    return remove_stale(slides_root / FILES, PARTIAL_SUFFIX) + remove_stale(slides_root, ".tmp")


def clips_from_manifest(out_dir: Path, entry: dict[str, Any]) -> list[SlideClip]:
    """One slide per phase of a manifest entry: its section clips in order, each phase's caption as notes."""
    name = entry.get("name", "?")
    sections, phases = entry.get("sections") or [], entry.get("phases") or []
    if not sections:
        raise ValueError(f"scene {name!r} was rendered without per-phase clips; render it again with --sections "
                         "to make slides")
    if len(sections) != len(phases):
        raise ValueError(f"scene {name!r} has {len(sections)} phase clips but {len(phases)} phases in the manifest; "
                         "render it again with --sections")
    clips = []
    for rel, phase in zip(sections, phases):
        path = Path(out_dir) / rel
        if not path.is_file():
            raise ValueError(f"scene {name!r}: phase clip {path} is missing; render it again with --sections")
        clips.append(SlideClip(path, notes=str(phase.get("caption") or ""), name=str(phase.get("name") or "phase")))
    return clips
