"""Pieces shared by the toy-model scenes: a training-progress bar and step counter, a colour key."""
from __future__ import annotations

import numpy as np
from manim import LEFT, RIGHT, Dot, Mobject, Rectangle, VGroup

from scenes import style
from scenes.base import SwapLabel, TimelineScene, text

def training_progress(scene: TimelineScene, total: int, left: np.ndarray, bar_w: float = 4.0,
                      track: str = "step") -> tuple[list[Mobject], list[Mobject]]:
    """A bar filling with the timeline's ``track`` (training step) and a 'step k / total' label built once per
    snapshot (SwapLabel), left end at ``left``. Returns (static, moving) mobjects for the caller to add in order."""
    rail = Rectangle(width=bar_w, height=0.1, stroke_width=0, fill_color=style.FRAME_STROKE, fill_opacity=1)
    rail.move_to(left, aligned_edge=LEFT)
    start = rail.get_left()
    fill = Rectangle(width=bar_w, height=0.1, stroke_width=0, fill_color=style.TEXT, fill_opacity=1)

    def grow(m: Mobject) -> None:
        frac = max(1e-3, float(scene.sample(track)) / max(total, 1))
        m.stretch_to_fit_width(bar_w * frac).move_to(start, aligned_edge=LEFT)
    fill.add_updater(grow)
    grow(fill)
    anchor = rail.get_right() + RIGHT * 0.25
    label = SwapLabel(lambda step: text(f"step {step:,} / {total:,}", style.SMALL_SIZE, style.MUTED),
                      lambda: int(scene.sample(track)), lambda m: m.next_to(anchor, RIGHT, buff=0))
    return [rail], [fill, label]

def importance_key(colours: list[str], size: float = style.SMALL_SIZE) -> VGroup:
    """'feature ●1 ●2 ... (1 = most important)': which colour is which feature."""
    items = [text("feature", size, style.MUTED)]
    for i, c in enumerate(colours):
        items.append(VGroup(Dot(radius=0.07, color=c), text(str(i + 1), size, style.text_colour(c))).arrange(RIGHT, buff=0.06))
    items.append(text("(1 = most important)", size, style.MUTED))
    return VGroup(*items).arrange(RIGHT, buff=0.18)
