"""Tied against untied toy models: W^T W and W2 W^T per sparsity, in two rows, growing over training."""
from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, Group, ImageMobject, Rectangle, SurroundingRectangle, VGroup, config
from manim.constants import RESAMPLING_ALGORITHMS

from scenes import style
from scenes.base import TimelineScene, fade_in, text
from scenes.heatmap import colour_scale_bar
from scenes.toy_parts import training_progress

KIND = "toy.wtw_tied_untied"


class MatrixGrid(ImageMobject):
    """Every panel's matrix and bias strip, all rows, as ONE image (gaps transparent): one image to draw per frame.

    Layout in pixels (one pixel = one matrix cell): [matrix n | gap 1 | strip 2] per panel, ``panel_gap`` pixels
    between panels and ``row_gap`` between rows.
    """

    def __init__(self, wtw: np.ndarray, bias: np.ndarray, wtw_vmax: float, bias_vmax: float, cell: float,
                 panel_gap: int, row_gap: int):
        self.n_rows, self.n_panels, n = wtw.shape[0], wtw.shape[1], wtw.shape[-1]
        self.n, self.strip, self.panel_gap, self.row_gap = n, 2, panel_gap, row_gap
        self.panel_px = n + 1 + self.strip
        self.vmax = (wtw_vmax, bias_vmax)
        width = self.n_panels * self.panel_px + (self.n_panels - 1) * panel_gap
        height = self.n_rows * n + (self.n_rows - 1) * row_gap
        super().__init__(np.zeros((height, width, 4), dtype=np.uint8))
        self.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
        self.stretch_to_fit_height(height * cell)
        self.stretch_to_fit_width(width * cell)
        self.cell = cell
        self.set_values(wtw, bias)

    def _origin(self, r: int, k: int) -> tuple[int, int]:
        return r * (self.n + self.row_gap), k * (self.panel_px + self.panel_gap)

    def set_values(self, wtw: np.ndarray, bias: np.ndarray) -> "MatrixGrid":
        """Recolour every panel in place: wtw [rows, panels, n, n], bias [rows, panels, n]."""
        n, px = self.n, self.pixel_array
        heat = style.diverging_rgba(wtw, self.vmax[0])
        strip = style.diverging_rgba(bias, self.vmax[1])
        for r in range(self.n_rows):
            for k in range(self.n_panels):
                y, x = self._origin(r, k)
                px[y:y + n, x:x + n] = heat[r, k]
                px[y:y + n, x + n + 1:x + n + 1 + self.strip] = strip[r, k][:, None]
        return self

    def block(self, r: int, k: int, strip: bool = False) -> tuple[np.ndarray, float, float]:
        """Centre, width and height in scene units of panel (r, k)'s matrix (or its bias strip)."""
        y, x = self._origin(r, k)
        if strip:
            x, w = x + self.n + 1, self.strip
        else:
            w = self.n
        top_left = self.get_corner(UP + LEFT)
        centre = top_left + np.array([(x + w / 2) * self.cell, -(y + self.n / 2) * self.cell, 0])
        return centre, w * self.cell, self.n * self.cell


class TiedUntiedAcrossSparsity(TimelineScene):
    """Row r (tied, untied) x panel k (sparsity): the matrix as a heatmap with the bias strip beside it."""

    heat_size = 1.55
    panel_gap = 0.42
    row_gap = 0.5
    grid_top = 2.7
    label_w = 1.75  # room on the left for the row names
    caption_y = -2.55

    def build(self) -> None:
        tl = self.timeline
        if tl.kind != KIND:
            raise ValueError(f"{type(self).__name__} draws '{KIND}' timelines, not '{tl.kind}'")
        labels: list[str] = tl.meta["panel_labels"]
        wtw0, bias0 = self.sample("wtw"), self.sample("bias")
        n_rows, n_panels, n = wtw0.shape[0], wtw0.shape[1], wtw0.shape[-1]

        usable = config.frame_width - 2 * style.MARGIN
        cell = self.heat_size / n
        panel_gap_px = max(2, round(self.panel_gap / cell))
        width_px = n_panels * (n + 3) + (n_panels - 1) * panel_gap_px
        cell = min(cell, (usable - self.label_w) / width_px)
        row_gap_px = max(2, int(np.ceil(self.row_gap / cell)))
        self.grid = MatrixGrid(wtw0, bias0, tl.meta["wtw_vmax"], tl.meta["bias_vmax"], cell, panel_gap_px, row_gap_px)
        grid_w = self.grid.width
        x0 = -(grid_w + self.label_w) / 2 + self.label_w  # left edge of the first panel
        self.grid.move_to([x0 + grid_w / 2, self.grid_top - self.grid.height / 2, 0])

        title = text(tl.title, style.TITLE_SIZE).to_edge(UP, buff=style.MARGIN)
        source = text(tl.source, style.SMALL_SIZE, style.MUTED).to_edge(DOWN, buff=0.2)
        self.chrome = [title, source]
        if source.width > usable:
            source.scale_to_fit_width(usable)
        statics = [title, source]

        self.rows = []
        for r in range(n_rows):
            row = []
            for k in range(n_panels):
                boxes = []
                for strip in (False, True):
                    centre, w, h = self.grid.block(r, k, strip)
                    boxes.append(Rectangle(width=w, height=h, color=style.FRAME_STROKE, stroke_width=1.5).move_to(centre))
                statics += boxes
                row.append(VGroup(*boxes))
            y = row[0].get_center()[1]
            name = VGroup(text(tl.meta["row_names"][r], style.LABEL_SIZE),
                          text(tl.meta["row_matrices"][r], style.LABEL_SIZE, style.MUTED)).arrange(DOWN, buff=0.1)
            name.move_to([x0 - 0.3 - name.width / 2, y, 0])
            statics.append(name)
            self.rows.append(row)
        for k, label_text in enumerate(labels):
            statics.append(text(label_text, style.LABEL_SIZE).next_to(self.rows[0][k], UP, buff=0.15))
        self.grid_bottom = self.grid.get_bottom()[1]
        self.add(*statics)  # static first: baked into the background, drawn once

        self.grid.add_updater(lambda m: m.set_values(self.sample("wtw"), self.sample("bias")))
        self.add(self.grid)

        y_row = self.grid_bottom - 0.58
        rail_static, rail_moving = training_progress(self, int(tl.meta["total_steps"]),
                                                     np.array([x0, y_row, 0]), bar_w=3.4)
        legend = Group(text("\u22121", style.SMALL_SIZE, style.MUTED), colour_scale_bar(1.0, width=1.3),
                       text("+1", style.SMALL_SIZE, style.MUTED), text("(strip: bias b)", style.SMALL_SIZE, style.MUTED)
                       ).arrange(RIGHT, buff=0.12)
        legend.move_to([x0 + grid_w - legend.width / 2, y_row, 0])
        self.add(*rail_static, legend, *rail_moving)
        self._build_highlights()
        self._build_counts()

    def _build_highlights(self) -> None:
        for r, row in enumerate(self.rows):
            box = SurroundingRectangle(VGroup(*row), color=style.HIGHLIGHT, buff=0.1, stroke_width=4)
            box.set_stroke(opacity=0)
            box.add_updater(lambda m, r=r: m.set_stroke(opacity=float(self.sample("highlight")[r])))
            self.add(box)

    def _build_counts(self) -> None:
        """'k/n read back' under every panel, for the summary."""
        counts = self.timeline.arrays["n_read_back"]
        n = self.timeline.meta["n_features"]
        m = self.timeline.meta["n_hidden"]
        self.counts = VGroup()
        for r, row in enumerate(self.rows):
            for k, panel in enumerate(row):
                c = int(counts[r, k])
                label = text(f"{c}/{n} features", style.SMALL_SIZE, style.HIGHLIGHT if c > m else style.TEXT)
                self.counts.add(label.next_to(panel, DOWN, buff=0.06))

    def segment_animations(self, index: int, segment) -> list:
        return [fade_in(self.counts)] if segment.name == "summary" else []
