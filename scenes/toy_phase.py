"""The 2-features-in-1-dimension phase diagram: theory and trained side by side, with their agreement."""
from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, ImageMobject, Line, Rectangle, Square, VGroup, config
from manim.constants import RESAMPLING_ALGORITHMS

from scenes import style
from scenes.base import TimelineScene, fade_in, text

KIND = "toy.phase_diagram"
CELL_PX = 16  # pixels per cell edge in the image; the last pixel row/column is a gap showing the grid


def _rgb(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.uint8)


class CategoricalHeatmap(ImageMobject):
    """A [rows, cols] grid of class labels as one image, row 0 at the bottom; cells not shown yet are empty."""

    def __init__(self, labels: np.ndarray, colours: list[str], height: float, width: float | None = None):
        labels = np.asarray(labels)
        self.palette = np.stack([_rgb(c) for c in colours] + [_rgb(style.SOLUTION_EMPTY)])
        self.shape_cells = labels.shape
        rows, cols = labels.shape
        super().__init__(self._pixels(labels, np.ones(labels.shape, bool)))
        self.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
        self.stretch_to_fit_height(height)
        self.stretch_to_fit_width(width if width is not None else height * cols / rows)

    def _pixels(self, labels: np.ndarray, shown: np.ndarray) -> np.ndarray:
        idx = np.where(shown, labels, len(self.palette) - 1)[::-1]  # image row 0 is the top
        rgb = self.palette[np.repeat(np.repeat(idx, CELL_PX, 0), CELL_PX, 1)]
        rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=-1)
        bg = np.append(_rgb(style.BACKGROUND), 255)
        rgba[CELL_PX - 1::CELL_PX, :] = bg
        rgba[:, CELL_PX - 1::CELL_PX] = bg
        return rgba

    def set_labels(self, labels: np.ndarray, shown: np.ndarray) -> "CategoricalHeatmap":
        self.pixel_array[...] = self._pixels(labels, shown)
        return self

    def cell_centre(self, row: int, col: int) -> np.ndarray:
        rows, cols = self.shape_cells
        lo = self.get_corner(DOWN + LEFT)
        return lo + np.array([(col + 0.5) * self.width / cols, (row + 0.5) * self.height / rows, 0])


class PhaseDiagram(TimelineScene):
    """Theory (left) and trained (right) maps sharing axes: x = feature density, y = importance of feature 2."""

    map_size = 3.9
    map_top = 2.6
    left_x = -3.85  # centre of the theory map
    gap = 0.5
    caption_y = -2.85

    def build(self) -> None:
        tl = self.timeline
        if tl.kind != KIND:
            raise ValueError(f"{type(self).__name__} draws '{KIND}' timelines, not '{tl.kind}'")
        labels: list[str] = tl.meta["labels"]
        colours = [style.SOLUTION_COLOURS.get(name, style.object_colour(i)) for i, name in enumerate(labels)]
        theory, trained = tl.arrays["theory_label"], tl.arrays["trained_label"]
        densities, importances = tl.arrays["densities"], tl.arrays["importances"]
        usable = config.frame_width - 2 * style.MARGIN
        size = self.map_size
        y = self.map_top - size / 2

        title = text(tl.title, style.TITLE_SIZE).to_edge(UP, buff=style.MARGIN)
        source = text(tl.source, style.SMALL_SIZE, style.MUTED).to_edge(DOWN, buff=0.2)
        self.chrome = [title, source]
        if source.width > usable:
            source.scale_to_fit_width(usable)

        self.theory = CategoricalHeatmap(theory, colours, size).move_to([self.left_x, y, 0])
        self.trained = CategoricalHeatmap(trained, colours, size)
        self.trained.move_to([self.left_x + size + self.gap, y, 0])
        self.trained.set_labels(trained, np.zeros(trained.shape, bool))
        statics = [title, source]
        for m, name in ((self.theory, "theory: lowest loss"), (self.trained, "trained: what it learned")):
            statics.append(text(name, style.LABEL_SIZE).next_to(m, UP, buff=0.15))
            statics += self._x_axis(m, densities)
        statics += self._y_axis(self.theory, importances)
        self.add(*statics)

        legend_x = self.trained.get_right()[0] + 0.4
        self.legend = self._legend(labels, colours, sorted(tl.meta["present"]))
        self.legend.move_to([legend_x, self.map_top - 0.1, 0], aligned_edge=UP + LEFT)
        self.agreement = VGroup(
            text(f"{tl.meta['n_agree']} of {tl.meta['n_cells']}", style.TITLE_SIZE, style.HIGHLIGHT),
            text("cells agree with theory", style.LABEL_SIZE),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.12)
        self.agreement.move_to([legend_x, self.legend.get_bottom()[1] - 0.45, 0], aligned_edge=UP + LEFT)

        # Cells fill in row by row from the bottom as the "filled" track counts up.
        order = np.arange(trained.size).reshape(trained.shape)

        def fill(m: CategoricalHeatmap) -> None:
            m.set_labels(trained, order < int(self.sample("filled")))
        self.trained.add_updater(fill)
        self._build_misses(theory != trained)

    # --- parts -----------------------------------------------------------------------------------------
    def _x_axis(self, m: CategoricalHeatmap, densities: np.ndarray) -> list:
        out = []
        for v in self._decades(densities):
            p = self._pos(m, densities, v, axis=0)
            out.append(Line(p, p + DOWN * 0.08, color=style.MUTED, stroke_width=2))
            out.append(text(f"{v:g}", style.SMALL_SIZE, style.MUTED).next_to(p, DOWN, buff=0.12))
        out.append(text("feature density 1\u2212S", style.SMALL_SIZE, style.MUTED).next_to(m, DOWN, buff=0.45))
        return out

    def _y_axis(self, m: CategoricalHeatmap, importances: np.ndarray) -> list:
        out, width = [], 0.0
        for v in self._decades(importances):
            p = self._pos(m, importances, v, axis=1)
            out.append(Line(p, p + LEFT * 0.08, color=style.MUTED, stroke_width=2))
            label = text(f"{v:g}", style.SMALL_SIZE, style.MUTED).next_to(p + LEFT * 0.08, LEFT, buff=0.08)
            width = max(width, label.width)
            out.append(label)
        y_title = text("importance of feature 2", style.SMALL_SIZE, style.MUTED).rotate(np.pi / 2)
        y_title.next_to(m, LEFT, buff=0.3 + width)
        out.append(y_title)
        return out

    @staticmethod
    def _decades(values: np.ndarray) -> list[float]:
        lo, hi = np.log10(values.min()), np.log10(values.max())
        return [10.0 ** k for k in range(int(np.ceil(lo - 1e-9)), int(np.floor(hi + 1e-9)) + 1)]

    @staticmethod
    def _pos(m: CategoricalHeatmap, values: np.ndarray, v: float, axis: int) -> np.ndarray:
        """Where value v sits along a map's edge: cells are centred on log-spaced values."""
        n = len(values)
        step = (np.log10(values[-1]) - np.log10(values[0])) / max(n - 1, 1)
        frac = ((np.log10(v) - np.log10(values[0])) / step + 0.5) / n
        lo = m.get_corner(DOWN + LEFT)
        return lo + (np.array([frac * m.width, 0, 0]) if axis == 0 else np.array([0, frac * m.height, 0]))

    def _legend(self, labels: list[str], colours: list[str], present: list[int]) -> VGroup:
        legend = self.timeline.meta["legend"]
        items = []
        for i in present:
            swatch = Square(side_length=0.26, stroke_width=0, fill_color=colours[i], fill_opacity=1)
            items.append(VGroup(swatch, text(legend[i], style.SMALL_SIZE)).arrange(RIGHT, buff=0.15))
        return VGroup(*items).arrange(DOWN, aligned_edge=LEFT, buff=0.2)

    def _build_misses(self, miss: np.ndarray) -> None:
        rows, cols = miss.shape
        w = self.trained.width / cols
        self.misses = VGroup(*[Rectangle(width=w, height=self.trained.height / rows, color=style.HIGHLIGHT,
                                         stroke_width=3).move_to(self.trained.cell_centre(r, c))
                               for r, c in zip(*np.nonzero(miss))])
        if not len(self.misses):
            return
        self.misses.set_stroke(opacity=0)
        self.misses.add_updater(lambda m: m.set_stroke(opacity=float(self.sample("misses"))))

    def segment_animations(self, index: int, segment) -> list:
        if segment.name == "theory":
            return [fade_in(self.theory), fade_in(self.legend)]
        if segment.name == "trained":
            self.add(self.trained)
            return []
        if segment.name == "agreement":
            self.add(self.misses)
            return [fade_in(self.agreement)]
        return []
