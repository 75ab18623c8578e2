"""Shared neurons: the grid's neurons leave a holding block for the objects they serve.

Draws any ``grid.shared`` timeline. Objects are hubs at the corners of a triangle (two objects: the
ends of a line); neurons serving one object gather beside it, those serving two sit between them,
those serving all three in the middle, each linked to every object it serves (link width and
opacity = the neuron's response). Neurons are drawn as in the grid's combined view: one wedge per
object, longer and fuller in colour for a stronger response.
"""
from __future__ import annotations

import math

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, BackgroundRectangle, Circle, Line, VGroup

from scenes import style
from scenes.base import fade_in, text
from scenes.cells import Backing, CellLayer, CellStyle
from scenes.grid import LayeredScene, hex_rgb, mix, source_line, wedge_length

KIND = "grid.shared"

# Hub positions and where each group of objects gathers, for 2 and 3 objects. A group is keyed by
# its members; the value is (centre, columns). The label side says where the hub's name goes. A group
# larger than MAX_ROWS rows of its columns widens instead of growing into the title or the caption.
LAYOUTS = {
    3: {"hubs": [(-3.0, 1.5), (3.0, 1.5), (0.0, -0.8)], "label_side": [UP, UP, LEFT],
        "groups": {(0,): ((-5.2, 1.95), 3), (1,): ((5.2, 1.95), 3), (2,): ((0.0, -1.75), 8),
                   (0, 1): ((0.0, 2.1), 6), (0, 2): ((-2.5, -0.15), 3), (1, 2): ((2.5, -0.15), 3),
                   (0, 1, 2): ((0.0, 0.75), 4), (): ((-5.1, -0.6), 6)}},
    2: {"hubs": [(-2.7, 0.9), (2.7, 0.9)], "label_side": [UP, UP],
        "groups": {(0,): ((-5.0, 0.9), 3), (1,): ((5.0, 0.9), 3), (0, 1): ((0.0, 0.9), 4),
                   (): ((-5.0, -1.3), 7)}},
}
HOLDING_CENTRE = np.array([-4.9, -0.6, 0.0])
MAX_ROWS = {(0,): 3, (1,): 3, (2,): 2, (0, 2): 3, (1, 2): 3, (0, 1): 2, (0, 1, 2): 2}  # others: no limit


def cluster(centre: tuple[float, float], n: int, cols: int, pitch: float) -> np.ndarray:
    """n positions in rows of ``cols`` (the last row centred) around ``centre``."""
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    out = []
    for i in range(n):
        r, c = divmod(i, cols)
        in_row = min(cols, n - r * cols)
        out.append([centre[0] + (c - (in_row - 1) / 2) * pitch, centre[1] + ((rows - 1) / 2 - r) * pitch, 0.0])
    return np.array(out).reshape(n, 3)


def hub_label(name: str, width: float, hub_colour: str) -> VGroup | None:
    """The object's name inside its hub (in the text colour that reads best on it): one line, or two at a
    space, or None if it cannot fit."""
    ink = style.text_on(hub_colour)
    for size in (style.LABEL_SIZE, style.SMALL_SIZE):
        one = text(name, size, ink)
        if one.width <= width:
            return VGroup(one)
        if " " in name:
            lines = VGroup(*[text(w, size, ink) for w in name.split(" ", 1)]).arrange(DOWN, buff=0.06)
            if lines.width <= width:
                return lines
    return None


class SharedNeurons(LayeredScene):
    """Hubs for the objects, a holding block of neurons, links that appear as neurons arrive."""

    caption_y = -2.9
    node_radius = 0.2
    pitch = 0.5
    hub_radius = 0.5

    def build(self) -> None:
        tl = self.timeline
        if tl.kind != KIND:
            raise ValueError(f"{type(self).__name__} draws '{KIND}' timelines, not '{tl.kind}'")
        self.levels = np.asarray(tl.arrays["levels"], dtype=float)
        serves = np.asarray(tl.arrays["serves"]).astype(bool)
        n_obj, cells = self.levels.shape
        if n_obj not in LAYOUTS:
            raise ValueError(f"{type(self).__name__} lays out 2 or 3 objects, not {n_obj}")
        layout = LAYOUTS[n_obj]
        colours = style.object_colours(tl.meta, n_obj)
        rgb = [hex_rgb(c) for c in colours]
        off = hex_rgb(style.GRID_CELL_OFF)
        self.hub_pos = [np.array([x, y, 0.0]) for x, y in layout["hubs"]]

        title = text(tl.title, style.TITLE_SIZE).to_edge(UP, buff=style.MARGIN)
        source = self.source_mob = source_line(tl.source)
        self.chrome = [title, source]
        hubs = VGroup()
        for o, (pos, colour) in enumerate(zip(self.hub_pos, colours)):
            disc = Circle(radius=self.hub_radius, stroke_width=0, fill_color=colour, fill_opacity=1.0).move_to(pos)
            label = hub_label(tl.meta["labels"][o], 1.75 * self.hub_radius, colour)
            if label is not None:
                label.move_to(pos)
            else:  # too long to sit inside: beside the hub, in its colour
                label = text(tl.meta["labels"][o], style.LABEL_SIZE, style.text_colour(colour))
                label.next_to(disc, layout["label_side"][o], buff=0.15)
            hubs.add(disc, label)
        self.add(title, source, hubs)  # static first

        # Where every neuron starts (the holding block, in grid order) and ends (its group's cluster).
        rows = math.ceil(math.sqrt(cells))
        self.start = cluster(tuple(HOLDING_CENTRE[:2]), cells, rows, self.pitch * 0.84)
        self.end = self.start.copy()
        self.clusters: dict[tuple[int, ...], np.ndarray] = {}
        for members, (centre, cols) in layout["groups"].items():
            mask = np.all(serves == np.isin(np.arange(n_obj), members)[:, None], axis=0)
            idx = np.flatnonzero(mask)
            if len(idx):
                cols = max(cols, math.ceil(len(idx) / MAX_ROWS.get(members, len(idx))))
                self.end[idx] = cluster(centre, len(idx), cols, self.pitch)
                self.clusters[members] = idx

        self.nodes = CellLayer(self.start, self.node_radius * wedge_length(self.levels.T),
                               mix(off, np.stack(rgb)[None, :, :], self.levels.T),
                               CellStyle(style.BACKGROUND, stroke_width=1.0 if n_obj > 1 else 0.0),
                               backing=Backing(self.node_radius, style.GRID_CELL_OFF, style.GRID_CELL_STROKE, 1.2))
        self.links, self.link_ends = VGroup(), []
        for j in range(cells):
            for o in np.flatnonzero(serves[:, j]):
                width = 0.8 + (style.GRID_EDGE_MAX_WIDTH - 0.8) * self.levels[o, j]
                line = Line(self.start[j], self.hub_pos[o], stroke_color=colours[o], stroke_width=width)
                line.set_stroke(opacity=0.0)
                self.links.add(line)
                self.link_ends.append((j, int(o), 0.3 + 0.7 * float(self.levels[o, j])))
        self.links.add_updater(lambda m: self._update_links())
        self.nodes.add_updater(lambda m: self._update_nodes())
        self.add(self.links, self.nodes)
        self.layers = [(self.links, self.links.updaters[:]), (self.nodes, self.nodes.updaters[:])]
        self.labels = self._group_labels()

    # --- per frame --------------------------------------------------------------------------------
    def _positions(self) -> np.ndarray:
        place = np.asarray(self.sample("place"), dtype=float)[:, None]
        return self.start * (1 - place) + self.end * place

    def _update_nodes(self) -> None:
        self.nodes.move_cells(self._positions())

    def _update_links(self) -> None:
        pos = self._positions()
        place = np.asarray(self.sample("place"), dtype=float)
        for line, (j, o, strength) in zip(self.links, self.link_ends):
            if place[j] <= 0:
                line.set_stroke(opacity=0.0)
                continue
            hub = self.hub_pos[o]
            direction = pos[j] - hub
            dist = np.linalg.norm(direction)
            if dist < self.hub_radius + self.node_radius + 1e-3:
                line.set_stroke(opacity=0.0)
                continue
            tip = hub + direction / dist * self.hub_radius
            # the same straight cubic Line makes; put_start_and_end_on's rotate-and-scale cost 40% of the scene
            line.set_points_as_corners(np.array([pos[j] - direction / dist * self.node_radius, tip]))
            line.set_stroke(opacity=float(place[j]) * strength * 0.85)

    # --- phases -----------------------------------------------------------------------------------
    def _group_labels(self) -> VGroup:
        labels = VGroup()
        n_obj = self.levels.shape[0]
        for g in self.timeline.meta["groups"]:
            members = tuple(g["members"])
            if members not in self.clusters:
                continue
            idx = self.clusters[members]
            pts = self.end[idx]
            words = text(f"{g['n']} serve {g['label']}", style.SMALL_SIZE, style.HIGHLIGHT if len(members) >= 2 else style.TEXT)
            box = BackgroundRectangle(words, color=style.BACKGROUND, fill_opacity=1.0, buff=0.06)
            label = VGroup(box, words)
            top, bottom = pts[:, 1].max() + self.node_radius, pts[:, 1].min() - self.node_radius
            centre_x = pts[:, 0].mean()
            right = [pts[:, 0].max() + self.node_radius, pts[:, 1].mean(), 0]
            if members == ():
                label.next_to([centre_x, bottom, 0], DOWN, buff=0.1)
            elif n_obj == 3 and members in ((2,), (0, 1, 2)):
                label.next_to(right, RIGHT, buff=0.2)  # below: the caption, or other clusters
            elif n_obj == 3 and members in ((0, 1), (0,), (1,)):
                label.next_to([centre_x, top, 0], UP, buff=0.12)
            else:
                label.next_to([centre_x, bottom, 0], DOWN, buff=0.14)
            labels.add(label)
        return labels

    def make_caption(self, segment) -> VGroup:
        """Captions sit just above the source line and grow upwards."""
        cap = super().make_caption(segment)
        return cap.next_to(self.source_mob, UP, buff=0.2)

    def bring_to_back(self, *mobjects):
        """The base class sends what faded in to the back; the count labels stay on top of the links
        (listed last, before the clock, so they are static once faded in)."""
        super().bring_to_back(*[m for m in mobjects if m is not self.labels])
        if self.labels in mobjects:
            self.add_layer(self.labels)
        return self

    def segment_animations(self, index: int, segment) -> list:
        for mob, updaters in self.layers:
            self.freeze_or_thaw(index, segment, mob, ("place",), updaters)
        return [fade_in(self.labels)] if segment.name == "summary" else []
