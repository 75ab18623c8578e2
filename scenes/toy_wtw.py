"""W^T W and bias per sparsity, animated over training: superposition appearing as features get sparse."""
from __future__ import annotations

from manim import DOWN, LEFT, RIGHT, UP, Group, Rectangle, SurroundingRectangle, VGroup, config

from scenes import style
from scenes.base import SwapLabel, TimelineScene, fade_in, text
from scenes.heatmap import PixelHeatmap, colour_scale_bar

KIND = "toy.wtw_sparsity"


class WtWAcrossSparsity(TimelineScene):
    """One panel per sparsity: W^T W as a pixel heatmap with the bias strip beside it."""

    panel_gap = 0.45
    heat_size = 2.1
    row_top = 2.35
    caption_y = -2.45

    def build(self) -> None:
        tl = self.timeline
        if tl.kind != KIND:
            raise ValueError(f"{type(self).__name__} draws '{KIND}' timelines, not '{tl.kind}'")
        labels: list[str] = tl.meta["panel_labels"]
        wtw0, bias0 = self.sample("wtw"), self.sample("bias")
        n = wtw0.shape[-1]

        usable = config.frame_width - 2 * style.MARGIN
        strip_w = self.heat_size / n * 2
        panel_w = self.heat_size + 0.08 + strip_w
        scale = min(1.0, (usable - (len(labels) - 1) * self.panel_gap) / (len(labels) * panel_w))
        size, strip_w = self.heat_size * scale, strip_w * scale

        title = text(tl.title, style.TITLE_SIZE).to_edge(UP, buff=style.MARGIN)
        source = text(tl.source, style.SMALL_SIZE, style.MUTED).to_edge(DOWN, buff=0.2)
        self.chrome = [title, source]
        if source.width > usable:
            source.scale_to_fit_width(usable)

        self.heatmaps, self.strips, panels, statics = [], [], [], [title, source]
        for i, label_text in enumerate(labels):
            heat = PixelHeatmap(wtw0[i], tl.meta["wtw_vmax"], height=size)
            strip = PixelHeatmap(bias0[i][:, None], tl.meta["bias_vmax"], height=size, width=strip_w)
            strip.next_to(heat, RIGHT, buff=0.08 * scale)
            label = text(label_text, style.LABEL_SIZE).next_to(Group(heat, strip), UP, buff=0.15)
            sub = VGroup(text("W\u1d40W", style.SMALL_SIZE, style.MUTED).next_to(heat, DOWN, buff=0.1),
                         text("b", style.SMALL_SIZE, style.MUTED).next_to(strip, DOWN, buff=0.1))
            panels.append(Group(label, heat, strip, sub))
            self.heatmaps.append(heat)
            self.strips.append(strip)
        row = Group(*panels).arrange(RIGHT, buff=self.panel_gap * scale, aligned_edge=DOWN)
        row.move_to([0, self.row_top - row.height / 2, 0])
        self.panels = panels
        for heat, strip, panel in zip(self.heatmaps, self.strips, panels):
            statics += [panel[0], panel[3], heat.outline(), strip.outline()]
        self.add(*statics)  # static first: baked into the background, drawn once

        for i, (heat, strip) in enumerate(zip(self.heatmaps, self.strips)):
            heat.add_updater(lambda m, i=i: m.set_values(self.sample("wtw")[i]))
            strip.add_updater(lambda m, i=i: m.set_values(self.sample("bias")[i][:, None]))
        self.add(*self.heatmaps, *self.strips)
        self._build_progress(row)
        self._build_highlights()
        self._build_summary()

    def _build_highlights(self) -> None:
        for i, panel in enumerate(self.panels):
            box = SurroundingRectangle(panel, color=style.HIGHLIGHT, buff=0.12, stroke_width=4)
            box.set_stroke(opacity=0)
            box.add_updater(lambda m, i=i: m.set_stroke(opacity=float(self.sample("highlight")[i])))
            self.add(box)

    def _build_progress(self, row: Group) -> None:
        """A training-progress bar and a step label built once per snapshot, never per frame."""
        total = int(self.timeline.meta["total_steps"])
        y = row.get_bottom()[1] - 0.4
        bar_w = 5.0
        track = Rectangle(width=bar_w, height=0.1, stroke_width=0, fill_color=style.FRAME_STROKE, fill_opacity=1)
        track.move_to([-1.2, y, 0])
        left = track.get_left()
        legend = Group(text("\u22121", style.SMALL_SIZE, style.MUTED), colour_scale_bar(1.0, width=1.3),
                       text("+1", style.SMALL_SIZE, style.MUTED)).arrange(RIGHT, buff=0.12)
        legend.move_to([config.frame_width / 2 - style.MARGIN - legend.width / 2, y, 0])
        self.add(track, legend)

        fill = Rectangle(width=bar_w, height=0.1, stroke_width=0, fill_color=style.TEXT, fill_opacity=1)

        def grow(m):
            frac = max(1e-3, float(self.sample("step")) / total)
            m.stretch_to_fit_width(bar_w * frac).move_to(left, aligned_edge=LEFT)
        fill.add_updater(grow)
        grow(fill)
        anchor = track.get_right() + RIGHT * 0.25
        label = SwapLabel(lambda step: text(f"step {step:,} / {total:,}", style.SMALL_SIZE, style.MUTED),
                          lambda: int(self.sample("step")), lambda m: m.next_to(anchor, RIGHT, buff=0))
        self.add(fill, label)
        self.progress_y = y

    def _build_summary(self) -> None:
        n_rep = self.timeline.arrays["n_represented"]
        d_star = self.timeline.arrays["dims_per_feature"]
        n = self.timeline.meta["n_features"]
        self.summary = VGroup()
        for i, panel in enumerate(self.panels):
            lines = VGroup(text(f"{int(n_rep[i])}/{n} features", style.LABEL_SIZE, style.HIGHLIGHT),
                           text(f"D* = {float(d_star[i]):.2f}", style.SMALL_SIZE, style.TEXT)).arrange(DOWN, buff=0.08)
            lines.move_to([panel.get_center()[0], self.progress_y - 0.65, 0])
            self.summary.add(lines)

    def segment_animations(self, index: int, segment) -> list:
        return [fade_in(self.summary)] if segment.name == "summary" else []
