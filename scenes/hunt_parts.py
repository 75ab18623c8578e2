"""Pieces shared by the real-neuron scenes (bars, heatmap, hunt, digits): the frame's title and
source line, a sequential pixel heatmap, bars whose corners follow a track, nice axis ticks."""
from __future__ import annotations

import math

import numpy as np
from manim import DOWN, UP, ImageMobject, Mobject, Rectangle, VGroup, config
from manim.constants import RESAMPLING_ALGORITHMS

from scenes import style
from scenes.base import text, text_width, wrapped
from scenes.heatmap import PixelHeatmap

SOURCE_BOTTOM = 0.18  # the source line's distance from the frame's bottom edge


def usable_width() -> float:
    return config.frame_width - 2 * style.MARGIN


def title_and_source(timeline) -> tuple[Mobject, VGroup]:
    """The title at the top and the source line(s) at the very bottom (wrapped, never shrunk below SMALL_SIZE)."""
    title = text(timeline.title, style.TITLE_SIZE).to_edge(UP, buff=style.MARGIN)
    if title.width > usable_width():
        title.scale_to_fit_width(usable_width())
    source = wrapped(timeline.source, usable_width(), style.SMALL_SIZE, style.MUTED)
    source.arrange(DOWN, buff=0.06).to_edge(DOWN, buff=SOURCE_BOTTOM)
    return title, source


class SequentialHeatmap(PixelHeatmap):
    """A [rows, cols] matrix of non-negative values through style.sequential_rgba, with per-cell visibility."""

    def __init__(self, values: np.ndarray, vmax: float, height: float, width: float | None = None):
        values = np.atleast_2d(np.asarray(values, dtype=float))
        self.vmax = vmax
        ImageMobject.__init__(self, style.sequential_rgba(values, vmax))
        self.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
        rows, cols = values.shape
        self.stretch_to_fit_height(height)
        self.stretch_to_fit_width(width if width is not None else height * cols / rows)

    def set_values(self, values: np.ndarray, visible: np.ndarray | None = None) -> "SequentialHeatmap":
        """Recolour in place; ``visible`` (same shape, 0..1) fades cells through their alpha."""
        rgba = style.sequential_rgba(np.atleast_2d(values), self.vmax)
        if visible is not None:
            rgba[..., 3] = np.round(255 * np.clip(np.atleast_2d(visible), 0, 1)).astype(np.uint8)
        self.pixel_array[...] = rgba
        return self


def sequential_scale_bar(height: float = 0.18, width: float = 1.6, steps: int = 64) -> SequentialHeatmap:
    """A horizontal 0..1 legend strip in the sequential map."""
    return SequentialHeatmap(np.linspace(0, 1, steps)[None, :], 1.0, height=height, width=width)


def set_bar(rect: Rectangle, x: float, width: float, y0: float, y1: float) -> Rectangle:
    """Move a rectangle's corners to span [x - w/2, x + w/2] x [y0, y1] (cheap enough per frame)."""
    lo, hi = min(y0, y1), max(y0, y1)
    if hi - lo < 1e-4:
        hi = lo + 1e-4
    rect.set_points_as_corners([[x - width / 2, lo, 0], [x + width / 2, lo, 0], [x + width / 2, hi, 0],
                                [x - width / 2, hi, 0], [x - width / 2, lo, 0]])
    return rect


def nice_ticks(lo: float, hi: float, target: int = 4) -> list[float]:
    """Round tick values covering [lo, hi] (0 included when in range)."""
    span = max(hi - lo, 1e-9)
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    first = math.ceil(lo / step - 1e-9) * step
    ticks, v = [], first
    while v <= hi + 1e-9:
        ticks.append(round(v, 10))
        v += step
    return ticks


def fmt_tick(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s.replace("-", "\u2212")


def place_in_rows(items: list[tuple[float, float]], gap: float = 0.15) -> list[int]:
    """Greedy rows for labels given (centre x, width): each goes to the lowest row where it overlaps nothing."""
    rows: list[list[tuple[float, float]]] = []
    out = []
    for x, w in items:
        lo, hi = x - w / 2, x + w / 2
        for r, placed in enumerate(rows):
            if all(hi + gap <= a or lo >= b + gap for a, b in placed):
                placed.append((lo, hi))
                out.append(r)
                break
        else:
            rows.append([(lo, hi)])
            out.append(len(rows) - 1)
    return out


def label_width(s: str, size: float) -> float:
    return max(text_width(line, size) for line in s.split("\n"))


class FadeCache:
    """Sets fill/stroke opacity only when it changes: per-frame updaters stay cheap while nothing moves."""

    def __init__(self):
        self._last: dict[int, float] = {}

    def fill(self, mob, a: float) -> None:
        a = round(float(a), 3)
        if self._last.get(id(mob)) != a:
            self._last[id(mob)] = a
            mob.set_fill(opacity=a)

    def stroke(self, mob, a: float) -> None:
        a = round(float(a), 3)
        if self._last.get(id(mob)) != a:
            self._last[id(mob)] = a
            mob.set_stroke(opacity=a)



