"""The polysemanticity bar chart: each neuron's mean activation on each object's text, grouped bars
per neuron coloured by object, grown one object at a time; polysemantic neurons outlined at the end."""
from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, RIGHT, Line, Mobject, Rectangle, Square, VGroup, config

from scenes import style
from scenes.base import TimelineScene, text
from scenes.hunt_parts import (FadeCache, fmt_tick, label_width, nice_ticks, place_in_rows, set_bar, title_and_source,
                               usable_width)

KIND = "real.poly_bars"


class PolysemanticityBars(TimelineScene):
    """Grouped bars (neurons along x, one bar per object), heights and emphasis sampled from tracks."""

    caption_y = -2.8
    plot_bottom = -1.55
    plot_top = 1.35
    axis_gutter = 1.05  # room left of the plot for tick labels and the axis name
    label_row_h = 0.55

    def build(self) -> None:
        tl = self.timeline
        if tl.kind != KIND:
            raise ValueError(f"{type(self).__name__} draws '{KIND}' timelines, not '{tl.kind}'")
        means = np.asarray(tl.arrays["means"], dtype=float)
        n_obj, n = means.shape
        colours = style.object_colours(tl.meta, n_obj)
        title, source = title_and_source(tl)
        self.chrome = [title, source]

        left = -config.frame_width / 2 + style.MARGIN + self.axis_gutter
        right = config.frame_width / 2 - style.MARGIN
        slot = (right - left) / n
        self.xs = left + slot * (np.arange(n) + 0.5)
        self.bar_w = min(0.32, 0.72 * slot / n_obj)
        step = self.bar_w * 1.12
        self.offsets = (np.arange(n_obj) - (n_obj - 1) / 2) * step

        legend = self._legend(tl.meta["object_labels"], colours, title)
        self._plan_highlight_labels(tl.meta["highlight_labels"])
        # The plot fills what the legend and the rows of highlight labels leave free.
        self.plot_top = min(self.plot_top, legend.get_bottom()[1] - 0.12 - self.n_label_rows * self.label_row_h - 0.12)
        lo, hi = tl.meta["value_range"]
        ticks = nice_ticks(lo, hi)
        self.lo, self.hi = min(lo, ticks[0]), max(hi, ticks[-1])
        statics: list[Mobject] = [title, source, legend]
        statics += self._axes(left, right, ticks, tl.meta.get("y_label", "mean activation"))
        statics += self._neuron_labels(tl.meta["neuron_labels"], slot)
        self.add(*statics)  # static first: drawn once into the background

        self.fades = FadeCache()
        self.bars = VGroup(*[Rectangle(stroke_width=0, fill_color=colours[o], fill_opacity=1.0)
                             for o in range(n_obj) for _ in range(n)])
        self.bars.add_updater(lambda m: self._update_bars())
        self._update_bars()
        self.add(self.bars)
        self._build_highlights(means)

    # --- static parts ------------------------------------------------------------------------
    def y_of(self, v):
        return self.plot_bottom + (np.asarray(v) - self.lo) / (self.hi - self.lo) * (self.plot_top - self.plot_bottom)

    def _axes(self, left: float, right: float, ticks: list[float], name: str) -> list[Mobject]:
        parts: list[Mobject] = []
        for v in ticks:
            y = float(self.y_of(v))
            grid = Line([left - 0.05, y, 0], [right, y, 0], stroke_width=1 if v else 2,
                        color=style.FRAME_STROKE if v else style.MUTED)
            label = text(fmt_tick(v), style.SMALL_SIZE, style.MUTED)
            label.next_to([left - 0.1, y, 0], LEFT, buff=0.05)
            parts += [grid, label]
        axis = Line([left - 0.05, float(self.y_of(self.lo)), 0], [left - 0.05, float(self.y_of(self.hi)), 0],
                    stroke_width=2, color=style.MUTED)
        label = text(name, style.SMALL_SIZE, style.MUTED).rotate(np.pi / 2)
        label.move_to([-config.frame_width / 2 + style.MARGIN + label.width / 2,
                       float(self.y_of((self.lo + self.hi) / 2)), 0])
        return [axis, *parts, label]

    def _neuron_labels(self, labels: list[str], slot: float) -> list[Mobject]:
        out = []
        y = self.plot_bottom - 0.12
        for x, s in zip(self.xs, labels):
            if label_width(s, style.SMALL_SIZE) > slot - 0.1 and " " in s:
                s = s.replace(" ", "\n", 1)
            lines = VGroup(*[text(part, style.SMALL_SIZE) for part in s.split("\n")]).arrange(DOWN, buff=0.06)
            lines.move_to([x, y - lines.height / 2, 0])
            out.append(lines)
        return out

    def _legend(self, labels: list[str], colours: list[str], title: Mobject) -> VGroup:
        items = VGroup(*[VGroup(Square(0.2, stroke_width=0, fill_color=c, fill_opacity=1),
                                text(s, style.LABEL_SIZE)).arrange(RIGHT, buff=0.12)
                         for s, c in zip(labels, colours)]).arrange(RIGHT, buff=0.45)
        if items.width > usable_width():
            items.arrange_in_grid(cols=2, buff=(0.45, 0.1))
        items.next_to(title, DOWN, buff=0.22)
        return items

    # --- moving parts ------------------------------------------------------------------------
    def _update_bars(self) -> None:
        heights = self.sample("heights")  # [objects, neurons]
        obj_op = self.sample("object_opacity")
        neuron_op = self.sample("neuron_opacity")
        key = (heights.tobytes(), obj_op.tobytes(), neuron_op.tobytes())
        if key == getattr(self, "_shown", None):
            return
        self._shown = key
        n_obj, n = heights.shape
        zero = float(self.y_of(0.0))
        tiny = 1e-3 * (self.hi - self.lo)
        for o in range(n_obj):
            for j in range(n):
                bar = self.bars[o * n + j]
                h = float(heights[o, j])
                set_bar(bar, float(self.xs[j] + self.offsets[o]), self.bar_w, zero, float(self.y_of(h)))
                self.fades.fill(bar, float(obj_op[o] * neuron_op[j]) if abs(h) > tiny else 0.0)

    def _plan_highlight_labels(self, labels: list[str]) -> None:
        """Texts and rows above the plot for the highlight labels, so that no two overlap."""
        edge = config.frame_width / 2 - style.MARGIN
        self.marked = [j for j in range(len(labels)) if labels[j]]
        self.label_texts = {j: labels[j].replace("responds to ", "responds to\n", 1) for j in self.marked}
        widths = {j: label_width(self.label_texts[j], style.SMALL_SIZE) for j in self.marked}
        self.label_xs = {j: float(np.clip(self.xs[j], -edge + widths[j] / 2 + 0.02, edge - widths[j] / 2 - 0.02))
                         for j in self.marked}
        rows = place_in_rows([(self.label_xs[j], widths[j]) for j in self.marked], gap=0.2)
        self.label_rows = dict(zip(self.marked, rows))
        self.n_label_rows = max(rows, default=-1) + 1

    def _build_highlights(self, means: np.ndarray) -> None:
        """Outline and label each highlighted neuron; a thin stem joins a label to its outline."""
        n_obj = means.shape[0]
        half = (n_obj - 1) / 2 * self.bar_w * 1.12 + self.bar_w / 2 + 0.08
        self.highlights = []
        for j in self.marked:
            y0 = float(self.y_of(min(0.0, means[:, j].min()))) - 0.06
            y1 = float(self.y_of(max(0.0, means[:, j].max()))) + 0.06
            box = Rectangle(width=2 * half, height=y1 - y0, color=style.HIGHLIGHT, stroke_width=3)
            box.move_to([float(self.xs[j]), (y0 + y1) / 2, 0])
            label = VGroup(*[text(s, style.SMALL_SIZE, style.HIGHLIGHT) for s in self.label_texts[j].split("\n")])
            label.arrange(DOWN, buff=0.05)
            label.move_to([self.label_xs[j], self.plot_top + 0.12 + (self.label_rows[j] + 0.5) * self.label_row_h, 0])
            stem = Line([float(self.xs[j]), y1, 0], label.get_bottom() + DOWN * 0.03, color=style.HIGHLIGHT,
                        stroke_width=1.5)
            group = VGroup(box, stem, label)
            self._show_highlight(group, 0.0)
            group.add_updater(lambda m, j=j: self._show_highlight(m, float(self.sample("highlight")[j])))
            self.highlights.append(group)
            self.add(group)

    def _show_highlight(self, group: VGroup, a: float) -> None:
        box, stem, label = group
        self.fades.stroke(box, a)
        self.fades.stroke(stem, a)
        self.fades.fill(label, a)
