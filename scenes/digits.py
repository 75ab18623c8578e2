"""One hidden neuron of the digits MLP: per digit class, the share of images that make it fire
strongly (bars), then its top-activating images of each class it responds to (8x8 pixels), and
of the class it ignores, with their activations."""
from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, Dot, Group, ImageMobject, Line, Mobject, Rectangle, Square, VGroup
from manim.constants import RESAMPLING_ALGORITHMS

from scenes import style
from scenes.base import TimelineScene, fade_in, fade_out, text
from scenes.hunt_parts import set_bar, title_and_source

KIND = "real.digits_neuron"


def _hex(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i:i + 2], 16) for i in (0, 2, 4)], dtype=float)


def digit_image(pixels: np.ndarray, size: float) -> ImageMobject:
    """An 8x8 image (ink in [0, 1]) as ink in the text colour on a square in the sequential map's 0 colour
    (light on dark, or dark on light), nearest-neighbour scaled."""
    ink = np.clip(np.asarray(pixels, dtype=float), 0.0, 1.0)[..., None]
    dark, light = _hex(style.SEQUENTIAL_STOPS[0]), _hex(style.TEXT)
    rgb = dark + (light - dark) * ink
    rgba = np.concatenate([rgb, np.full(ink.shape, 255.0)], axis=-1).round().astype(np.uint8)
    img = ImageMobject(rgba)
    img.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
    img.stretch_to_fit_height(size).stretch_to_fit_width(size)
    return img


class DigitsNeuron(TimelineScene):
    caption_y = -2.78
    chart_left = -6.2
    chart_right = -1.35
    chart_bottom = -1.4
    chart_top = 2.0
    image_size = 0.9
    image_gap = 0.16

    def build(self) -> None:
        tl = self.timeline
        if tl.kind != KIND:
            raise ValueError(f"{type(self).__name__} draws '{KIND}' timelines, not '{tl.kind}'")
        title, source = title_and_source(tl)
        self.chrome = [title, source]
        rows = tl.meta["rows"]
        colours = style.object_colours(tl.meta, len(rows))
        self.row_colours = [colours[k] if r["responds"] else style.MUTED for k, r in enumerate(rows)]
        classes = tl.meta["classes"]
        colour_of = {r["class"]: c for r, c in zip(rows, self.row_colours) if r["responds"]}
        self.add(title, source, *self._chart_statics(classes, tl.meta["bar_label"]))

        slot = (self.chart_right - self.chart_left) / len(classes)
        self.bar_x = self.chart_left + slot * (np.arange(len(classes)) + 0.5)
        self.bar_w = 0.62 * slot
        self.bars = VGroup(*[Rectangle(stroke_width=0, fill_color=colour_of.get(c, style.FRAME_STROKE), fill_opacity=1)
                             for c in classes])
        self.bars.add_updater(lambda m: self._update_bars())
        self._update_bars()
        self.add(self.bars)

        self.rows = self._image_rows(tl, rows, title)
        self.summary = self._summary(classes, rows)
        self.diagram = self._network_diagram(tl)

    def y_of(self, v: float) -> float:
        return self.chart_bottom + float(v) * (self.chart_top - self.chart_bottom)

    def _chart_statics(self, classes: list[str], label: str) -> list[Mobject]:
        parts: list[Mobject] = []
        for v in (0.0, 0.5, 1.0):
            y = self.y_of(v)
            parts.append(Line([self.chart_left, y, 0], [self.chart_right, y, 0], stroke_width=2 if v == 0 else 1,
                              color=style.MUTED if v == 0 else style.FRAME_STROKE))
            parts.append(text(f"{v:.0%}", style.SMALL_SIZE, style.MUTED).next_to([self.chart_left - 0.08, y, 0], LEFT, buff=0.05))
        slot = (self.chart_right - self.chart_left) / len(classes)
        for i, c in enumerate(classes):
            parts.append(text(c, style.LABEL_SIZE).move_to([self.chart_left + slot * (i + 0.5), self.chart_bottom - 0.25, 0]))
        caption = text(label, style.SMALL_SIZE, style.MUTED)
        caption.move_to([(self.chart_left + self.chart_right) / 2 - 0.3, self.chart_top + 0.4, 0])
        digit = text("digit class", style.SMALL_SIZE, style.MUTED)
        digit.move_to([(self.chart_left + self.chart_right) / 2, self.chart_bottom - 0.6, 0])
        return [*parts, caption, digit]

    def _update_bars(self) -> None:
        heights = self.sample("bars")
        for bar, x, h in zip(self.bars, self.bar_x, heights):
            set_bar(bar, float(x), self.bar_w, self.y_of(0), self.y_of(float(h)))
            bar.set_fill(opacity=1.0 if h > 1e-3 else 0.0)

    def _image_rows(self, tl, rows: list[dict], title: Mobject) -> list[Group]:
        images = np.asarray(tl.arrays["images"])
        acts = np.asarray(tl.arrays["image_activations"])
        left = self.chart_right + 1.35
        neuron = tl.meta["neuron"]
        self.header = text(f"{neuron['label']}: top images per digit", style.LABEL_SIZE, style.HIGHLIGHT)
        self.header.move_to([left + self.header.width / 2 - 0.6, self.chart_top + 0.4, 0])
        top, bottom = self.chart_top + 0.05, -2.05  # the rows' room, value labels included
        step = min((top - bottom) / max(len(rows), 1), self.image_size + 0.75)
        out, y = [], top - (self.image_size + 0.35) / 2 - 0.05
        for k, r in enumerate(rows):
            name = text(r["class"], style.CAPTION_SIZE, style.text_colour(self.row_colours[k]))
            name.move_to([left - 0.45, y, 0])
            pics = []
            for j in range(images.shape[1]):
                x = left + j * (self.image_size + self.image_gap) + self.image_size / 2
                img = digit_image(images[k, j], self.image_size).move_to([x, y, 0])
                frame = Rectangle(width=self.image_size, height=self.image_size, stroke_width=1.5,
                                  color=self.row_colours[k]).move_to(img.get_center())
                value = text(f"{acts[k, j]:.1f}", style.SMALL_SIZE, style.TEXT)
                value.next_to(img, DOWN, buff=0.06)
                pics.append(Group(img, frame, value))
            out.append(Group(name, *pics))
            y -= step
        return out

    def _summary(self, classes: list[str], rows: list[dict]) -> VGroup:
        marks = VGroup()
        for k, r in enumerate(rows):
            if not r["responds"]:
                continue
            i = classes.index(r["class"])
            h = float(self.timeline.arrays["strong_share"][i])
            box = Rectangle(width=self.bar_w + 0.16, height=self.y_of(h) - self.y_of(0) + 0.5,
                            color=style.HIGHLIGHT, stroke_width=3)
            box.move_to([self.bar_x[i], (self.y_of(h) + self.y_of(0)) / 2 - 0.17, 0])
            row = self.rows[k]
            marks.add(box, Rectangle(width=row.width + 0.25, height=row.height + 0.15, color=style.HIGHLIGHT,
                                     stroke_width=3).move_to(row.get_center()))
        return marks

    def _network_diagram(self, tl) -> VGroup:
        """The architecture (a schematic, not data): 8x8 pixels -> hidden neurons -> 10 digits, the
        shown neuron highlighted with its connections."""
        n_hidden = int(tl.meta.get("n_hidden", 32))
        index = int(tl.meta["neuron"]["index"])
        x_in, x_hid, x_out = self.chart_right + 1.6, self.chart_right + 4.0, self.chart_right + 6.3
        y_mid = (self.chart_top + self.chart_bottom) / 2 - 0.1
        cell = 0.16
        grid = VGroup(*[Square(cell, stroke_width=1, color=style.FRAME_STROKE) for _ in range(64)]
                      ).arrange_in_grid(8, 8, buff=0).move_to([x_in, y_mid, 0])
        gap = min(0.12, 3.6 / n_hidden)
        hidden = VGroup(*[Dot(radius=gap * 0.38, color=style.HIGHLIGHT if k == index else style.FRAME_STROKE)
                          for k in range(n_hidden)]).arrange(DOWN, buff=gap * 0.24).move_to([x_hid, y_mid, 0])
        outs = VGroup(*[VGroup(Dot(radius=0.06, color=style.MUTED), text(c, style.SMALL_SIZE, style.MUTED)
                               ).arrange(RIGHT, buff=0.12) for c in tl.meta["classes"]]
                      ).arrange(DOWN, buff=0.1, aligned_edge=LEFT).move_to([x_out, y_mid, 0])
        me = hidden[index].get_center()
        wires = VGroup(*[Line(grid.get_corner(c), me, stroke_width=1, color=style.HIGHLIGHT)
                         for c in (UP + RIGHT, RIGHT, DOWN + RIGHT)],
                       *[Line(me, o[0].get_center(), stroke_width=1, color=style.HIGHLIGHT) for o in outs])
        wires.set_stroke(opacity=0.6)
        names = VGroup(text("64 pixels", style.SMALL_SIZE, style.MUTED).next_to(grid, DOWN, buff=0.15),
                       text(f"{n_hidden} hidden", style.SMALL_SIZE, style.MUTED).next_to(hidden, DOWN, buff=0.15),
                       text(tl.meta["neuron"]["label"], style.LABEL_SIZE, style.HIGHLIGHT).next_to(hidden[index], LEFT, buff=0.15))
        names[2].shift(LEFT * 0.3)
        return VGroup(wires, grid, hidden, outs, names)

    def segment_animations(self, index: int, segment) -> list:
        if segment.name == "network":
            return [fade_in(self.diagram)]
        if segment.name == "row_0":
            return [fade_out(self.diagram), fade_in(self.header), fade_in(self.rows[0])]
        if segment.name.startswith("row_"):
            return [fade_in(self.rows[int(segment.name[4:])])]
        if segment.name == "summary":
            return [fade_in(self.summary)]
        return []
