"""Dimensions per feature against sparsity: the D* curve drawing left to right, each feature's D_i, the plateaus."""
from __future__ import annotations

import numpy as np
from manim import (DOWN, LEFT, RIGHT, UP, Axes, Circle, DashedLine, Dot, Line, Rectangle, VGroup, VMobject, config)

from scenes import style
from scenes.base import TimelineScene, fade_in, text
from scenes.cells import CellLayer, CellStyle, rgb

KIND = "toy.dimensionality"


def _nice_ticks(x_max: float) -> list[float]:
    ticks = [v for v in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if v <= x_max * 1.0001]
    if x_max / ticks[-1] > 1.4:
        ticks.append(x_max)
    return ticks


def _spread(ys: list[float], gap: float) -> list[float]:
    """Label heights, in the order given (top to bottom), pushed apart so neighbours are at least ``gap`` apart."""
    out: list[float] = []
    for y in ys:
        out.append(min(y, out[-1] - gap) if out else y)
    return out


class DimensionsPerFeature(TimelineScene):
    """Axes: x = 1/(1-S) on a log scale, y = dimensions per feature. D* as a line, each feature's D_i as a dot."""

    plot_left = -5.55
    plot_width = 9.0
    plot_bottom = -1.3
    plot_height = 4.15
    caption_y = -2.8

    def build(self) -> None:
        tl = self.timeline
        if tl.kind != KIND:
            raise ValueError(f"{type(self).__name__} draws '{KIND}' timelines, not '{tl.kind}'")
        x = np.asarray(tl.arrays["inverse_density"], dtype=float)
        d_star = np.asarray(tl.arrays["dims_per_feature"], dtype=float)
        D = np.asarray(tl.arrays["feature_dimensionality"], dtype=float)
        represented = np.asarray(tl.arrays["represented"], dtype=bool)
        line_colour, dot_colour = style.TEXT, style.object_colours(tl.meta, 2)[1]
        usable = config.frame_width - 2 * style.MARGIN

        x_max = float(x.max())
        self.axes = Axes(x_range=[0, np.log10(x_max), np.log10(x_max)], y_range=[0, 1.05, 0.25],
                         x_length=self.plot_width, y_length=self.plot_height, tips=False,
                         axis_config={"include_ticks": False, "include_numbers": False, "color": style.MUTED,
                                      "stroke_width": 2})
        self.axes.move_to([self.plot_left + self.plot_width / 2, self.plot_bottom + self.plot_height / 2, 0])
        ax = self.axes

        title = text(tl.title, style.TITLE_SIZE).to_edge(UP, buff=style.MARGIN)
        source = text(tl.source, style.SMALL_SIZE, style.MUTED).to_edge(DOWN, buff=0.2)
        self.chrome = [title, source]
        if source.width > usable:
            source.scale_to_fit_width(usable)
        statics = [title, source, ax]

        for v in _nice_ticks(x_max):
            p = self.p(v, 0)
            statics.append(Line(p, p + DOWN * 0.1, color=style.MUTED, stroke_width=2))
            statics.append(text(f"{v:g}", style.SMALL_SIZE, style.MUTED).next_to(p, DOWN, buff=0.16))
        for v, label in ((0, "0"), (0.25, "0.25"), (0.5, "0.5"), (0.75, "0.75"), (1.0, "1")):
            p = self.p(1, v)
            statics.append(Line(p, p + LEFT * 0.1, color=style.MUTED, stroke_width=2))
            statics.append(text(label, style.SMALL_SIZE, style.MUTED).next_to(p + LEFT * 0.1, LEFT, buff=0.1))
        x_title = text("1/(1\u2212S): how rare each feature is (log scale)", style.SMALL_SIZE, style.MUTED)
        x_title.next_to(self.p(np.sqrt(x_max), 0), DOWN, buff=0.5)
        y_title = text("dimensions per feature", style.SMALL_SIZE, style.MUTED).rotate(np.pi / 2)
        y_title.next_to(ax.y_axis, LEFT, buff=0.75)
        statics += [x_title, y_title]

        key = VGroup(
            VGroup(Line(ORIGIN3, RIGHT * 0.45, color=line_colour, stroke_width=4),
                   text("D* = m / \u2016W\u2016\u00b2 (whole model)", style.SMALL_SIZE)).arrange(RIGHT, buff=0.15),
            VGroup(Dot(radius=0.06, color=dot_colour).set_opacity(0.8),
                   text("D\u1d62 of one feature", style.SMALL_SIZE)).arrange(RIGHT, buff=0.15),
        ).arrange(DOWN, aligned_edge=LEFT, buff=0.15)
        key.move_to(ax.c2p(np.log10(x_max), 0.9) + LEFT * (key.width / 2 + 0.15) + DOWN * (key.height / 2))
        self.add(*statics)  # static first: drawn once into the background

        self._build_references(x_max)
        self.key = key

        # The D* line: a full polyline, shown partially as the "curve" track runs 0 -> 1.
        self.full_curve = VMobject().set_points_as_corners([self.p(a, b) for a, b in zip(x, d_star)])
        self.curve = VMobject(stroke_color=line_colour, stroke_width=4)
        self.curve.add_updater(lambda m: m.pointwise_become_partial(self.full_curve, 0, max(1e-4, float(self.sample("curve")))))
        self.curve.set_stroke(opacity=0)
        self.curve_dots = VGroup(*[Dot(self.p(a, b), radius=0.045, color=line_colour) for a, b in zip(x, d_star)])

        # One column of dots per sparsity, revealed left to right by the "columns" track. All of them
        # are one CellLayer (one Cairo pass), not hundreds of Dots each recoloured every frame.
        dots = [(k, self.p(x[k], d)) for k in range(len(x)) for d in D[k][represented[k]]]
        self.dot_column = np.array([k for k, _ in dots], dtype=float)
        centres = np.array([c for _, c in dots]).reshape(-1, 3)
        self.columns = CellLayer(centres, np.full((len(dots), 1), 0.05),
                                 np.broadcast_to(rgb(dot_colour), (len(dots), 1, 3)))
        self.columns.set_cell_alphas(0.0)
        self.columns.add_updater(
            lambda m: m.set_cell_alphas(0.8 * np.clip(float(self.sample("columns")) - self.dot_column, 0.0, 1.0)))
        self.add(self.columns, self.curve)
        self._build_polytope_dots(x, D, represented, key)

    def _build_polytope_dots(self, x: np.ndarray, D: np.ndarray, represented: np.ndarray, key: VGroup) -> None:
        """Features the engine verified as polytope members, ringed in the sticky phase (and a key line for them)."""
        verified = np.asarray(self.timeline.arrays.get("in_polytope", np.zeros_like(represented)), dtype=bool)
        centres = np.array([self.p(x[k], D[k, i]) for k, i in zip(*np.nonzero(verified & represented))]).reshape(-1, 3)
        self.poly_dots = CellLayer(centres, np.full((len(centres), 1), 0.085),
                                   cell_style=CellStyle(stroke=style.HIGHLIGHT, stroke_width=2.0, filled=False))
        self.poly_dots.set_cell_alphas(0.0)
        self.poly_dots.add_updater(lambda m: m.set_cell_alphas(0.9 * float(self.sample("sticky"))))
        self.add(self.poly_dots)
        self.poly_key = VGroup(Circle(radius=0.085, color=style.HIGHLIGHT, stroke_width=2.0),
                               text("in a polytope verified from W", style.SMALL_SIZE)).arrange(RIGHT, buff=0.15)
        self.poly_key.next_to(key, DOWN, aligned_edge=LEFT, buff=0.15)

    # --- helpers -----------------------------------------------------------------------------------
    def p(self, inverse_density: float, dims: float) -> np.ndarray:
        return self.axes.c2p(np.log10(inverse_density), dims)

    def _build_references(self, x_max: float) -> None:
        """Plateau lines and bands (1 and 1/2) and the sticky fractions, shown in later phases."""
        tl = self.timeline
        right = self.p(x_max, 0)[0]
        self.plateau = VGroup()
        for level, name, rng in ((1.0, "1", tl.arrays["plateau_1"]), (0.5, "1/2", tl.arrays["plateau_half"])):
            line = DashedLine(self.p(1, level), self.p(x_max, level), color=style.HIGHLIGHT, stroke_width=2,
                              dash_length=0.08)
            label = text(name, style.LABEL_SIZE, style.HIGHLIGHT).next_to(self.p(x_max, level), RIGHT, buff=0.15)
            self.plateau.add(line, label)
            if not np.isnan(rng[0]):
                lo, hi = self.p(rng[0], level), self.p(rng[1], level)
                band = Rectangle(width=max(hi[0] - lo[0], 0.12) + 0.16, height=0.2, stroke_color=style.HIGHLIGHT,
                                 stroke_width=3, fill_opacity=0).move_to((lo + hi) / 2)
                self.plateau.add(band)
        values = list(tl.arrays["sticky_values"])
        labels = [f"{f}  {name}".strip() for f, name in zip(tl.meta["sticky_labels"], tl.meta["sticky_names"])]
        self.sticky = VGroup()
        ys = _spread([self.p(1, v)[1] for v in values], gap=0.3)
        for v, label, y in zip(values, labels, ys):
            line = DashedLine(self.p(1, v), self.p(x_max, v), color=style.MUTED, stroke_width=1.5, dash_length=0.05)
            tag = text(label, style.SMALL_SIZE, style.TEXT).move_to([right + 0.45, y, 0], aligned_edge=LEFT)
            lead = Line([right + 0.05, self.p(1, v)[1], 0], [right + 0.4, y, 0], color=style.MUTED, stroke_width=1.5)
            self.sticky.add(line, lead, tag)

    def _freeze(self, *mobs) -> None:
        """Stop updating what has finished moving and send it to the static background (last argument deepest)."""
        for mob in mobs:
            mob.clear_updaters()
            self.bring_to_back(mob)

    def segment_animations(self, index: int, segment) -> list:
        if segment.name == "curve":
            self.curve.set_stroke(opacity=1)
            return [fade_in(self.key)]
        if segment.name == "features":
            self._freeze(self.curve)
            self.add(self.curve_dots)
            return []
        if segment.name == "plateaus":
            self._freeze(self.curve_dots, self.curve, self.columns)
            return [fade_in(self.plateau)]
        if segment.name == "sticky":
            return [fade_in(self.sticky), fade_in(self.poly_key)]
        return []


ORIGIN3 = np.zeros(3)
