"""Feature vectors in 2-D over training, one panel per sparsity: orthogonal, antipodal pairs, pentagon."""
from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, ORIGIN, RIGHT, UP, Circle, Dot, Line, Square, VGroup, config

from scenes import style
from scenes.base import TimelineScene, fade_in, text
from scenes.toy_parts import importance_key, training_progress

KIND = "toy.feature_geometry"


class FeatureGeometry(TimelineScene):
    """Each panel: the hidden plane, the unit circle, and one line-and-dot per feature W_i coloured by importance."""

    panel_size = 3.0
    panel_gap = 0.35
    panel_top = 2.55
    caption_y = -2.75

    def build(self) -> None:
        tl = self.timeline
        if tl.kind != KIND:
            raise ValueError(f"{type(self).__name__} draws '{KIND}' timelines, not '{tl.kind}'")
        labels: list[str] = tl.meta["panel_labels"]
        W0 = self.sample("W")
        n_panels, n = W0.shape[0], W0.shape[1]
        colours = style.importance_colours(tl.arrays["importance"])

        usable = config.frame_width - 2 * style.MARGIN
        size = min(self.panel_size, (usable - (n_panels - 1) * self.panel_gap) / n_panels)
        # One unit of weight -> scene units, so that the longest vector ever shown stays inside its panel.
        self.unit = (size / 2) * 0.94 / max(1.0, float(tl.meta["max_norm"]))

        title = text(tl.title, style.TITLE_SIZE).to_edge(UP, buff=style.MARGIN)
        source = text(tl.source, style.SMALL_SIZE, style.MUTED).to_edge(DOWN, buff=0.2)
        self.chrome = [title, source]
        if source.width > usable:
            source.scale_to_fit_width(usable)
        statics = [title, source]

        total_w = n_panels * size + (n_panels - 1) * self.panel_gap
        self.centres = []
        for k in range(n_panels):
            c = np.array([-total_w / 2 + size / 2 + k * (size + self.panel_gap), self.panel_top - size / 2, 0])
            self.centres.append(c)
            frame = Square(side_length=size, color=style.FRAME_STROKE, stroke_width=1.5).move_to(c)
            axes = VGroup(Line(c + LEFT * size / 2, c + RIGHT * size / 2), Line(c + DOWN * size / 2, c + UP * size / 2))
            axes.set_stroke(style.FRAME_STROKE, width=1, opacity=0.7)
            circle = Circle(radius=self.unit, color=style.MUTED, stroke_width=1.5).move_to(c)
            circle.set_stroke(opacity=0.6)
            label = text(labels[k], style.LABEL_SIZE).next_to(frame, UP, buff=0.15)
            statics += [frame, axes, circle, label]
        self.panel_bottom = self.panel_top - size

        y_row = self.panel_bottom - 1.05
        rail_static, rail_moving = training_progress(self, int(tl.meta["total_steps"]),
                                                     np.array([-total_w / 2, y_row, 0]), bar_w=3.6)
        key = importance_key(colours)
        key.move_to([total_w / 2 - key.width / 2, y_row, 0])
        self.add(*statics, *rail_static, key)  # static first: baked into the background

        # Least important first, so the important features are drawn on top.
        self.vectors = []
        for k in range(n_panels):
            for i in reversed(range(n)):
                line = Line(ORIGIN, RIGHT, color=colours[i], stroke_width=4)
                dot = Dot(radius=0.075, color=colours[i])
                line.add_updater(lambda m, k=k, i=i: self._place(m, k, i))
                dot.add_updater(lambda m, k=k, i=i: m.move_to(self._tip(k, i)))
                self._place(line, k, i)
                dot.move_to(self._tip(k, i))
                self.vectors += [line, dot]
        self.add(*self.vectors, *rail_moving)
        self._build_shapes()

    def _tip(self, k: int, i: int) -> np.ndarray:
        w = self.sample("W")[k, i]
        return self.centres[k] + self.unit * np.array([w[0], w[1], 0.0])

    def _place(self, line: Line, k: int, i: int) -> None:
        tip = self._tip(k, i)
        if np.linalg.norm(tip - self.centres[k]) < 1e-4:
            tip = self.centres[k] + RIGHT * 1e-4
        line.set_points_as_corners(np.array([self.centres[k], tip]))  # a Line's own cubic, without rotate-and-scale

    def _build_shapes(self) -> None:
        """Under each panel: what formed (shape) and which features it leaves out; shown in the last phase."""
        self.shapes = VGroup()
        for k, (shape, detail) in enumerate(zip(self.timeline.meta["shapes"], self.timeline.meta["shape_details"])):
            lines = VGroup(text(shape, style.LABEL_SIZE, style.HIGHLIGHT),
                           text(detail, style.SMALL_SIZE, style.TEXT)).arrange(DOWN, buff=0.08)
            lines.move_to([self.centres[k][0], self.panel_bottom - 0.42, 0])
            self.shapes.add(lines)

    def segment_animations(self, index: int, segment) -> list:
        return [fade_in(self.shapes)] if segment.name == "shapes" else []
