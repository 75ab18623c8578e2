"""Make a rendered clip fit a size budget (``--max-size 2MB``, the README gallery's 2 MB GIFs).

From the source render at its own size and rate, encode the target format on a ladder of
(width, fps) rungs, best-looking first, and keep the first rung that fits. Each rung lowers either
the width or the frame rate, alternately, so neither alone degrades into a thumbnail or a
slideshow. The result is written through a temporary sibling and renamed, so the destination is
never half-written and a failure leaves neither it nor a temporary behind.
"""
from __future__ import annotations

import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import ffmpeg

from engine.atomic import publish_mode, temp_prefix
from pipeline.formats import mp4_to_gif

FORMATS = ("gif", "webm", "mp4")
MIN_BYTES = 10_000  # below 10 KB not even one GIF frame of a scene fits; such a budget is a typo
# The rungs, best first: rate and width step down alternately, down to 320 px (where Manim text
# stops being legible) and 6 fps (where motion becomes a slideshow); past both, a shorter clip is
# the better answer. A source's ladder is this one clamped to its own size and rate, so every
# source passes through the same rungs, and from (480, 10) on they are the README gallery's.
STAIRCASE = ((3840, 60), (2560, 60), (1920, 60), (1920, 30), (1280, 30), (1280, 24), (960, 24), (960, 20),
             (854, 20), (854, 15), (720, 15), (720, 12), (640, 12), (640, 10),
             (480, 10), (480, 8), (400, 8), (400, 6), (320, 6))
# Browsers stretch GIF frame delays under 2 cs, and GIF timing is in whole centiseconds: above
# 30 fps a GIF only grows without playing smoother.
GIF_MAX_FPS = 30
# A rung is skipped without encoding when, scaled from the smallest too-large attempt by pixels
# per second, it would still be over twice the budget. Encoders shrink less than that scaling
# (fewer frames make each frame's change larger), so a skipped rung could not have fitted; this
# spares a 1080p60 source a dozen hopeless encodes. The last rung is always measured.
SKIP_FACTOR = 2.0
# Fixed encoder settings, one thread each: the same source and budget give the same bytes on any
# machine. CRF 23 is x264's default; CRF 33 is libvpx's recommendation for 480p VP9.
X264 = {"vcodec": "libx264", "crf": 23, "preset": "medium", "pix_fmt": "yuv420p", "threads": 1,
        "movflags": "+faststart", "f": "mp4"}
VP9 = {"vcodec": "libvpx-vp9", "crf": 33, "b:v": 0, "deadline": "good", "cpu-used": 4, "row-mt": 0,
       "threads": 1, "f": "webm"}

_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1000, "m": 1000**2, "mb": 1000**2, "g": 1000**3, "gb": 1000**3,
          "ki": 1024, "kib": 1024, "mi": 1024**2, "mib": 1024**2, "gi": 1024**3, "gib": 1024**3}
_SIZE = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


class FitError(ValueError):
    """No rung of the ladder fits the budget."""


@dataclass(frozen=True)
class Attempt:
    """One encode that was measured (skipped rungs are not listed)."""
    width: int
    fps: float
    bytes: int


@dataclass(frozen=True)
class Choice:
    """What was written: the rung kept, its size, and every attempt before it (the last is this one)."""
    path: Path
    fmt: str
    width: int
    fps: float
    bytes: int
    max_bytes: int
    tried: tuple[Attempt, ...]
    copied: bool = False  # the source itself already fitted and was copied unchanged


@dataclass(frozen=True)
class Source:
    """What the ladder and the encoders need to know of the render."""
    width: int
    fps: float
    alpha: bool


def parse_size(text: str) -> int:
    """Bytes in a size such as ``2MB``, ``1.5 MiB`` or ``500000``.

    SI units (B, KB, MB, GB; the B optional) are powers of 1000, IEC units (KiB, MiB, GiB) powers
    of 1024. Case is ignored: a file budget is never meant in bits, so ``2mb`` and ``2Mb`` are 2 MB.
    """
    example = f"--max-size takes a size like 2MB, 500KB or 1.5MiB, not {text!r}"
    m = _SIZE.match(text)
    if not m or m[2].lower() not in _UNITS:
        raise ValueError(example)
    value = float(m[1]) * _UNITS[m[2].lower()]
    if not math.isfinite(value):
        raise ValueError(example)
    if value <= 0:
        raise ValueError(f"--max-size must be positive, not {text!r}; try 2MB")
    if value < MIN_BYTES:
        raise ValueError(f"--max-size {text.strip()} is too small: no clip fits under 10KB; try 2MB")
    return int(value)


def format_size(n: int) -> str:
    """``1.84 MB`` or ``412.3 KB`` (SI, as the budget is usually written)."""
    return f"{n / 1e6:.2f} MB" if n >= 1_000_000 else f"{n / 1e3:.1f} KB"


def ladder(width: int, fps: float, fmt: str = "mp4") -> tuple[tuple[int, float], ...]:
    """The rungs for a source: its own (even) width and rate first, then STAIRCASE clamped to them.

    Each rung lowers exactly one of width and rate; nothing is ever scaled up.
    ``ladder(480, 10)`` is the gallery's ((480, 10), (480, 8), (400, 8), (400, 6), (320, 6)).
    """
    top = (width - width % 2, min(fps, GIF_MAX_FPS) if fmt == "gif" else fps)
    clamped = ((min(w, top[0]), min(f, top[1])) for w, f in STAIRCASE)
    return tuple(dict.fromkeys((top, *clamped)))


def probe_source(src: Path) -> Source:
    """Width, frame rate and whether the first video stream carries alpha (a transparent render)."""
    with av.open(str(src)) as container:
        stream = container.streams.video[0]
        # The nominal rate: an MP4's average rate is a little off (its last frame's duration).
        rate = float(Fraction(stream.guessed_rate or stream.average_rate or 0))
        if not rate:
            raise ValueError(f"{src.name}: no frame rate in the video, cannot fit it to a size")
        fps = round(rate) if abs(rate - round(rate)) < 0.01 else round(rate, 3)
        pix = str(stream.codec_context.pix_fmt or "")
        alpha = stream.metadata.get("alpha_mode") == "1" or any(k in pix for k in ("yuva", "rgba", "argb",
                                                                                     "bgra", "abgr", "gbrap"))
        return Source(width=stream.codec_context.width, fps=fps, alpha=alpha)


def encode(src: Path, out: Path, fmt: str, width: int | None = None, fps: float | None = None,
           alpha: bool = False) -> None:
    """One encode of ``src`` as ``fmt`` into ``out`` (any name); None keeps the source's width or rate."""
    if fmt == "gif":
        mp4_to_gif(src, out, width=width, fps=fps)
        return
    # libvpx decodes VP9 alpha; ffmpeg's own VP9 decoder would drop it.
    stream = ffmpeg.input(str(src), **({"vcodec": "libvpx-vp9"} if alpha and fmt == "webm" else {})).video
    if fps:
        stream = stream.filter("fps", fps=fps)
    if width:
        stream = stream.filter("scale", width, -2, flags="lanczos")
    opts = dict(X264) if fmt == "mp4" else dict(VP9, pix_fmt="yuva420p" if alpha else "yuv420p")
    try:
        stream.output(str(out), **opts).overwrite_output().run(quiet=True)
    except ffmpeg.Error as e:
        lines = (e.stderr or b"").decode(errors="replace").strip().splitlines()
        raise RuntimeError(f"ffmpeg could not write {fmt}: {lines[-1] if lines else e}") from None


def fit(src: Path, dst: Path, fmt: str, max_bytes: int, *,
        attempts: tuple[tuple[int, float], ...] | None = None) -> Choice:
    """Write ``src`` as ``fmt`` to ``dst`` on the first rung under ``max_bytes``; raises FitError if none.

    ``attempts`` replaces the :func:`ladder` (the gallery keeps its own); rungs above the source's
    width or rate are lowered to it. An MP4 or WebM source already under budget is copied as is.
    """
    src, dst = Path(src), Path(dst)
    if fmt not in FORMATS:
        raise ValueError(f"a size budget applies to {', '.join(FORMATS)} output, not {fmt}")
    if max_bytes <= 0:
        raise ValueError(f"the size budget must be positive, not {max_bytes}")
    source = probe_source(src)
    even = source.width - source.width % 2
    rungs = ladder(source.width, source.fps, fmt) if attempts is None else \
        tuple(dict.fromkeys((min(w, even), min(f, source.fps)) for w, f in attempts))
    if not rungs:
        raise ValueError("fit needs at least one (width, fps) attempt")
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=temp_prefix(dst.name), suffix=".tmp", dir=dst.parent)
    os.close(fd)
    staged = Path(name)
    try:
        choice = _copy(src, staged, dst, fmt, max_bytes, source) or \
            _climb(src, staged, dst, fmt, max_bytes, source, rungs)
        with open(staged, "rb+") as f:
            os.fsync(f.fileno())
        publish_mode(staged)
        os.replace(staged, dst)
        return choice
    finally:
        staged.unlink(missing_ok=True)


def _copy(src: Path, staged: Path, dst: Path, fmt: str, max_bytes: int, source: Source) -> Choice | None:
    """The source itself, when it is already this format and under budget: no re-encode loses anything."""
    size = src.stat().st_size
    if src.suffix.lower() != f".{fmt}" or size > max_bytes:
        return None
    shutil.copyfile(src, staged)
    tried = (Attempt(source.width, source.fps, size),)
    return Choice(dst, fmt, source.width, source.fps, size, max_bytes, tried, copied=True)


def _climb(src: Path, staged: Path, dst: Path, fmt: str, max_bytes: int, source: Source,
           rungs: tuple[tuple[int, float], ...]) -> Choice:
    """Encode rung after rung until one fits; skip rungs that scaling says cannot (see SKIP_FACTOR)."""
    tried: list[Attempt] = []
    for i, (width, fps) in enumerate(rungs):
        if tried and i < len(rungs) - 1:
            best = min(tried, key=lambda a: a.bytes)
            predicted = best.bytes * (width / best.width) ** 2 * (fps / best.fps)
            if predicted > SKIP_FACTOR * max_bytes:
                continue
        encode(src, staged, fmt, width=None if width == source.width else width,
               fps=None if fps == source.fps else fps, alpha=source.alpha)
        tried.append(Attempt(width, fps, staged.stat().st_size))
        if tried[-1].bytes <= max_bytes:
            return Choice(dst, fmt, width, fps, tried[-1].bytes, max_bytes, tuple(tried))
    low = min(tried, key=lambda a: a.bytes)
    raise FitError(f"{dst.name}: even at {low.width} px and {low.fps:g} fps it is {format_size(low.bytes)}, over "
                   f"the {format_size(max_bytes)} budget; try a shorter --duration or a larger --max-size")


def describe(choice: Choice) -> str:
    """One line for the run's summary: ``grid_minilm.gif: 480 px, 10 fps, 1.84 MB (budget 2.00 MB)``."""
    how = ", source kept" if choice.copied else ""
    return (f"{choice.path.name}: {choice.width} px, {choice.fps:g} fps, {format_size(choice.bytes)} "
            f"(budget {format_size(choice.max_bytes)}){how}")
