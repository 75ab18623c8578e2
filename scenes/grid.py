"""Superposition on a grid of neurons: each object lights its neurons in turn, then all objects at once.

Draws any ``grid.superposition`` timeline (a real layer, the toy model or a user's file). The grid
is one circle per neuron whose fill is recoloured per frame from the timeline's ``weights`` track
and static ``levels``; the combined view adds one wedge per object and neuron; shared neurons get
a ring. Discs, wedges and rings are ``CellLayer``s, each drawn in one Cairo pass. Layers whose
tracks do not change during a segment are frozen (no updater), so Cairo bakes them into the static
background for that segment.
"""
from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, Circle, ManimColor, SurroundingRectangle, VGroup, config

from scenes import style
from scenes.base import TimelineScene, fade_in, text, wrapped
from scenes.cells import STROKE_UNIT, CellLayer, CellStyle
from scenes.cells import rgb as hex_rgb

KIND = "grid.superposition"


def mix(base: np.ndarray, colour: np.ndarray, amount: np.ndarray) -> np.ndarray:
    """Colours [cells, 3] between ``base`` and ``colour`` by ``amount`` [cells] in [0, 1]."""
    a = np.clip(np.asarray(amount, dtype=float), 0.0, 1.0)[..., None]
    return base * (1 - a) + colour * a


def source_line(s: str) -> VGroup:
    """The data source at the bottom: one line, shrunk to the smallest legible size if needed, else two lines."""
    usable = config.frame_width - 2 * style.MARGIN
    line = text(s, style.SMALL_SIZE, style.MUTED)
    if line.width > usable:
        if line.width * style.MIN_FONT_SIZE / style.SMALL_SIZE <= usable:
            line.scale_to_fit_width(usable)
        else:
            line = wrapped(s, usable, style.SMALL_SIZE, style.MUTED).arrange(DOWN, buff=0.06)
    return VGroup(line).to_edge(DOWN, buff=0.2)


def wedge_length(levels: np.ndarray) -> np.ndarray:
    """Wedge radius as a fraction of the cell's: a stub for no response, the full cell for the strongest."""
    return 0.3 + 0.7 * np.clip(np.asarray(levels, dtype=float), 0.0, 1.0)


class LayeredScene(TimelineScene):
    """A TimelineScene whose animated layers are frozen (no updater) in segments where their tracks hold still.

    A frozen layer is set to its value for the whole segment (sampled at the segment's end, not at the
    clock, which is frame-aligned and may sit a fraction of a frame before the boundary) and becomes
    part of the static background Cairo draws once.
    """

    _sample_at: float | None = None

    def now(self) -> float:
        return self._sample_at if self._sample_at is not None else super().now()

    def add_layer(self, *mobs) -> None:
        """Add mobjects after everything else but before the clock: Manim redraws every frame all that
        is listed after the first moving mobject, and the clock (animated by every play) is one."""
        self.add(*mobs)
        if getattr(self, "clock", None) is not None and self.clock in self.mobjects:
            self.add(self.clock)

    def freeze_or_thaw(self, index: int, segment, mob, tracks: tuple[str, ...], updaters: list) -> None:
        t0 = float(self.timeline.segment_starts()[index])
        t1 = t0 + segment.duration
        if self.timeline.holds_still(t0, t1, tracks):
            self._sample_at = t1
            try:
                if not mob.updaters:
                    for f in updaters:
                        mob.add_updater(f)
                mob.update()
            finally:
                self._sample_at = None
            mob.clear_updaters()
        elif not mob.updaters:
            for f in updaters:
                mob.add_updater(f)


class SuperpositionGrid(LayeredScene):
    """The grid on the left, legend, caption and count on the right, the data source at the bottom."""

    grid_centre = np.array([-3.45, -0.3, 0.0])
    grid_size = 6.3  # scene units for the longer side of the grid
    panel_left = 0.45
    panel_right = config.frame_width / 2 - style.MARGIN
    caption_top = 1.75

    @property
    def caption_width(self) -> float:  # type: ignore[override]
        return self.panel_right - self.panel_left

    def build(self) -> None:
        tl = self.timeline
        if tl.kind != KIND:
            raise ValueError(f"{type(self).__name__} draws '{KIND}' timelines, not '{tl.kind}'")
        self.levels = np.asarray(tl.arrays["levels"], dtype=float)  # [objects, cells]
        self.group_size = np.asarray(tl.arrays["group_size"])
        n_obj, cells = self.levels.shape
        self.colours = style.object_colours(tl.meta, n_obj)
        self.rgb = np.stack([hex_rgb(c) for c in self.colours])
        self.off = hex_rgb(style.GRID_CELL_OFF)

        title = text(tl.title, style.TITLE_SIZE).to_edge(UP, buff=style.MARGIN)
        source = source_line(tl.source)
        self.chrome = [title, source]
        top, bottom = title.get_bottom()[1] - 0.2, source.get_top()[1] + 0.15
        rows, cols = tl.meta["grid"]
        pitch = min(self.grid_size, top - bottom) / max(rows, cols)
        self.radius = 0.39 * pitch
        centre = np.array([self.grid_centre[0], (top + bottom) / 2, 0.0])
        self.centres = np.array([centre + np.array([(c - (cols - 1) / 2) * pitch, ((rows - 1) / 2 - r) * pitch, 0])
                                 for r in range(rows) for c in range(cols)][:cells])
        legend, self.legend_items = self._legend(tl.meta["labels"])
        key = self._brightness_key(tl.meta["brightness_key"], legend)
        # The outlines never change, so they join the static background; the discs' fills, which
        # change every frame of an object's phase, stop at the outline's inner edge (stroking is
        # the costliest Cairo call at 1080p).
        outline = CellStyle(style.GRID_CELL_STROKE, stroke_width=1.5, filled=False)
        outlines = CellLayer(self.centres, np.full((cells, 1), self.radius), cell_style=outline)
        self.add(title, source, legend, key, outlines)  # static first: drawn once into the background

        inner = self.radius - outline.stroke_width * STROKE_UNIT / 2
        self.discs = CellLayer(self.centres, np.full((cells, 1), inner))
        self.discs.add_updater(lambda m: self._colour_discs())
        self.boxes = VGroup(*[SurroundingRectangle(item, color=c, buff=0.08, stroke_width=3, corner_radius=0.08)
                              for item, c in zip(self.legend_items, self.colours)])
        self.boxes.add_updater(lambda m: self._show_boxes())
        self.add(self.discs, self.boxes)
        self._colour_discs()
        self._show_boxes()

        # Each wedge shows its response twice, by brightness and by length (a rose chart), so the
        # objects a neuron serves stand out at a glance.
        self.wedges = CellLayer(self.centres, self.radius * wedge_length(self.levels.T),
                                mix(self.off, self.rgb[None, :, :], self.levels.T),
                                CellStyle(style.BACKGROUND, stroke_width=1.0 if n_obj > 1 else 0.0))
        self.wedges.add_updater(lambda m: m.set_opacity(float(self.sample("split"))))
        shared = np.flatnonzero(self.group_size >= 2)
        self.rings = CellLayer(self.centres[shared], np.full((len(shared), 1), self.radius + 0.075),
                               cell_style=CellStyle(style.HIGHLIGHT, stroke_width=3.5, filled=False))
        self.rings.add_updater(lambda m: m.set_stroke(opacity=float(self.sample("ring"))))
        self.layers = [(self.discs, ("weights",)), (self.boxes, ("weights", "split")),
                       (self.wedges, ("split",)), (self.rings, ("ring",))]
        self._layer_updaters = {id(m): m.updaters[:] for m, _ in self.layers}
        self.count_panel = self._count_panel()

    # --- pieces -----------------------------------------------------------------------------------
    def _legend(self, labels: list[str]) -> tuple[VGroup, list[VGroup]]:
        items = [VGroup(Circle(radius=0.13, stroke_width=0, fill_color=c, fill_opacity=1.0),
                        text(label, style.LABEL_SIZE)).arrange(RIGHT, buff=0.14)
                 for label, c in zip(labels, self.colours)]
        legend = VGroup(*items).arrange(RIGHT, buff=0.45)
        if legend.width > self.caption_width:
            legend.arrange_in_grid(cols=3, buff=(0.45, 0.25), col_alignments="l" * 3)
        legend.move_to([(self.panel_left + self.panel_right) / 2, 0, 0]).align_to([0, 2.95, 0], UP)
        return legend, items

    def _brightness_key(self, words: list[str], legend: VGroup) -> VGroup:
        ramp = VGroup(*[Circle(radius=0.1, stroke_width=0, fill_opacity=1.0,
                               fill_color=ManimColor(mix(self.off, hex_rgb(style.TEXT), np.array(a))))
                        for a in np.linspace(0, 1, 6)]).arrange(RIGHT, buff=0.07)
        key = VGroup(text("response:", style.SMALL_SIZE, style.MUTED), text(words[0], style.SMALL_SIZE, style.MUTED),
                     ramp, text(words[1], style.SMALL_SIZE, style.MUTED)).arrange(RIGHT, buff=0.15)
        key.move_to([(self.panel_left + self.panel_right) / 2, 0, 0]).align_to(legend, DOWN).shift(DOWN * 0.5)
        self.caption_top = key.get_bottom()[1] - 0.35
        return key

    def _count_panel(self) -> VGroup:
        rows = VGroup()
        for row in self.timeline.meta["count_rows"]:
            marker = Circle(radius=0.14, stroke_color=style.GRID_CELL_STROKE, stroke_width=1.5,
                            fill_color=style.GRID_CELL_OFF, fill_opacity=1.0)
            if row["size"] >= 2:
                marker.set_stroke(style.HIGHLIGHT, width=3)
            rows.add(VGroup(marker, text(str(row["n"]), style.CAPTION_SIZE, style.HIGHLIGHT if row["size"] >= 2 else style.TEXT),
                            text(row["label"], style.LABEL_SIZE)).arrange(RIGHT, buff=0.18))
        rows.arrange(DOWN, buff=0.16, aligned_edge=LEFT)
        count_seg = next(s for s in self.timeline.segments if s.name == "count")
        caption = self.make_caption(count_seg)
        rows.align_to([self.panel_left, 0, 0], LEFT).align_to(caption, UP).shift(DOWN * (caption.height + 0.35))
        return rows

    def make_caption(self, segment) -> VGroup:
        cache = self.__dict__.setdefault("_captions", {})
        if segment.caption in cache:  # the count caption is built early, to place the count under it
            return cache[segment.caption]
        cap = cache[segment.caption] = wrapped(segment.caption, self.caption_width)
        cap.arrange(DOWN, buff=0.12, aligned_edge=LEFT)
        cap.align_to([self.panel_left, 0, 0], LEFT).align_to([0, self.caption_top, 0], UP)
        return cap

    # --- per frame --------------------------------------------------------------------------------
    def _colour_discs(self) -> None:
        weights = np.clip(np.asarray(self.sample("weights"), dtype=float), 0.0, 1.0)
        colour = np.broadcast_to(self.off, (self.levels.shape[1], 3)).copy()
        for o in range(len(weights)):  # later objects drawn over earlier ones: the newest is on top
            if weights[o] > 0:
                colour = mix(colour, self.rgb[o], weights[o] * self.levels[o])
        self.discs.set_cell_fills(colour[:, None, :])

    def _show_boxes(self) -> None:
        weights = np.clip(np.asarray(self.sample("weights"), dtype=float), 0.0, 1.0)
        visible = 1.0 - float(self.sample("split"))
        for box, w in zip(self.boxes, weights):
            box.set_stroke(opacity=float(w) * visible)

    # --- phases -----------------------------------------------------------------------------------
    def segment_animations(self, index: int, segment) -> list:
        t1 = float(self.timeline.segment_starts()[index]) + segment.duration
        for mob, tracks in self.layers:
            if mob not in self.mobjects:
                if not any(np.any(np.asarray(self.timeline.tracks[k].at(t1)) != 0) for k in tracks):
                    continue  # not on screen yet (wedges before the combined view, rings before 'shared')
                self.add_layer(mob)
            self.freeze_or_thaw(index, segment, mob, tracks, self._layer_updaters[id(mob)])
        return [fade_in(self.count_panel)] if segment.name == "count" else []
