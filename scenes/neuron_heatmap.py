"""Neuron x object heatmap: one pixel image (objects as rows, neurons as columns, sorted by group),
columns revealed block by block, group labels above, polysemantic columns marked by a bracket."""
from __future__ import annotations

import numpy as np
from manim import RIGHT, Group, Line, Mobject, VGroup, config

from scenes import style
from scenes.base import TimelineScene, text, text_width
from scenes.hunt_parts import FadeCache, SequentialHeatmap, place_in_rows, sequential_scale_bar, title_and_source

KIND = "real.neuron_heatmap"


def bracket(x0: float, x1: float, y: float, colour: str, tick: float = 0.1, width: float = 2) -> VGroup:
    """A horizontal bracket opening downwards over [x0, x1]."""
    return VGroup(Line([x0, y - tick, 0], [x0, y, 0]), Line([x0, y, 0], [x1, y, 0]), Line([x1, y, 0], [x1, y - tick, 0])
                  ).set_stroke(colour, width)


class NeuronObjectHeatmap(TimelineScene):
    caption_y = -2.62
    heat_top = 1.45
    max_cell_h = 0.62
    row_label_gap = 0.2

    def build(self) -> None:
        tl = self.timeline
        if tl.kind != KIND:
            raise ValueError(f"{type(self).__name__} draws '{KIND}' timelines, not '{tl.kind}'")
        values = np.asarray(tl.arrays["values"], dtype=float)  # [objects, neurons]
        n_obj, n = values.shape
        colours = style.object_colours(tl.meta, n_obj)
        title, source = title_and_source(tl)
        self.chrome = [title, source]

        row_labels = [text(s, style.LABEL_SIZE, style.text_colour(c)) for s, c in zip(tl.meta["object_labels"], colours)]
        label_w = max(m.width for m in row_labels)
        left = -config.frame_width / 2 + style.MARGIN + label_w + self.row_label_gap
        right = config.frame_width / 2 - style.MARGIN
        cell_w = (right - left) / n
        cell_h = min(self.max_cell_h, 2.0 / n_obj)
        self.heat = SequentialHeatmap(values, 1.0, height=cell_h * n_obj, width=cell_w * n)
        self.heat.move_to([(left + right) / 2, self.heat_top - cell_h * n_obj / 2, 0])
        self.values = values
        self.col_x = left + cell_w * (np.arange(n) + 0.5)
        top, bottom = self.heat.get_top()[1], self.heat.get_bottom()[1]
        for k, m in enumerate(row_labels):
            m.move_to([left - self.row_label_gap - m.width / 2, top - cell_h * (k + 0.5), 0])

        statics: list[Mobject] = [title, source, *row_labels, self.heat.outline()]
        # Neuron names under their columns, reading upwards.
        names = VGroup()
        for x, s in zip(self.col_x, tl.meta["neuron_labels"]):
            m = text(s, style.SMALL_SIZE, style.MUTED).rotate(np.pi / 2)
            m.move_to([x, bottom - 0.1 - m.height / 2, 0])
            names.add(m)
        statics.append(names)
        legend = Group(text("0", style.SMALL_SIZE, style.MUTED), sequential_scale_bar(width=1.6),
                        text("1", style.SMALL_SIZE, style.MUTED),
                        text(tl.meta.get("value_label", ""), style.SMALL_SIZE, style.MUTED)).arrange(RIGHT, buff=0.12)
        legend.move_to([right - legend.width / 2, names.get_bottom()[1] - 0.25, 0])
        statics.append(legend)
        self.add(*statics)  # static first

        self.fades = FadeCache()
        self.heat.add_updater(lambda m: self._update_heat())
        self.heat.set_values(values, np.broadcast_to(self.sample("reveal")[None, :], values.shape))
        self.add(self.heat)
        # Thin gaps in the background colour between blocks, so groups read as separate.
        edges = [b["start"] for b in tl.meta["blocks"][1:]]
        self.add(*[Line([left + cell_w * e, top, 0], [left + cell_w * e, bottom, 0], stroke_width=3,
                        color=style.BACKGROUND) for e in edges])
        self._build_group_labels(tl.meta["blocks"], top, cell_w)

    def _update_heat(self) -> None:
        reveal = self.sample("reveal")
        key = tuple(np.round(reveal, 3))
        if key != getattr(self, "_shown", None):  # recolour only while columns are appearing
            self._shown = key
            self.heat.set_values(self.values, np.broadcast_to(reveal[None, :], self.values.shape))

    def _build_group_labels(self, blocks: list[dict], top: float, cell_w: float) -> None:
        """Per block a thin bracket and a label (in rows so none overlap); over all shared blocks a
        highlight bracket 'polysemantic'; both fade in with the marks track."""
        items = []
        for b in blocks:
            x0, x1 = self.col_x[b["start"]] - cell_w / 2 + 0.03, self.col_x[b["stop"] - 1] + cell_w / 2 - 0.03
            items.append(((x0 + x1) / 2, text_width(b["label"], style.SMALL_SIZE), x0, x1, b))
        rows = place_in_rows([(x, w) for x, w, *_ in items], gap=0.15)
        if max(rows, default=0) > 1:  # too many groups to name in two rows: name the single-object ones only
            items = [it if len(it[4]["group"]) == 1 else (*it[:4], {**it[4], "label": ""}) for it in items]
            rows = place_in_rows([(x, w if b["label"] else 0.0) for x, w, _, _, b in items], gap=0.15)
        row_h = 0.32
        self.group_labels = VGroup()
        for (x, w, x0, x1, b), r in zip(items, rows):
            y = top + 0.12
            colour = style.TEXT if len(b["group"]) == 1 else style.HIGHLIGHT
            br = bracket(x0, x1, y, style.MUTED, tick=0.08, width=1.5)
            label = (text(b["label"], style.SMALL_SIZE, colour).move_to([x, y + 0.08 + (r + 0.5) * row_h, 0])
                     if b["label"] else VGroup())
            self.group_labels.add(VGroup(br, label))
        y_top = top + 0.12 + 0.08 + (max(rows, default=-1) + 1) * row_h + 0.12
        shared = [b for b in blocks if len(b["group"]) > 1]
        single = [b for b in blocks if len(b["group"]) == 1]
        self.level = VGroup()
        for part, words, colour in ((single, "monosemantic: one object", style.TEXT),
                                    (shared, "polysemantic: two or more objects", style.HIGHLIGHT)):
            if not part:
                continue
            x0 = self.col_x[part[0]["start"]] - cell_w / 2 + 0.03
            x1 = self.col_x[part[-1]["stop"] - 1] + cell_w / 2 - 0.03
            br = bracket(x0, x1, y_top, colour, tick=0.12, width=2.5)
            label = text(words, style.LABEL_SIZE, colour)
            label.move_to([np.clip((x0 + x1) / 2, -config.frame_width / 2 + style.MARGIN + label.width / 2,
                                   config.frame_width / 2 - style.MARGIN - label.width / 2), y_top + 0.25, 0])
            self.level.add(VGroup(br, label))
        self.block_starts = [b["start"] for b in blocks]
        everything = VGroup(self.group_labels, self.level)
        everything.add_updater(lambda m: self._show_labels())
        self._show_labels()
        self.add(everything)

    def _show_labels(self) -> None:
        """A block's label shows with its columns; the two level brackets with the marks track."""
        reveal, marks = self.sample("reveal"), float(self.sample("marks"))
        f = self.fades
        for (br, label), start in zip(self.group_labels, self.block_starts):
            f.stroke(br, float(reveal[start]))
            f.fill(label, float(reveal[start]))
        for br, label in self.level:
            f.stroke(br, marks)
            f.fill(label, marks)
