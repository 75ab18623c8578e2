"""Heatmaps drawn as pixels: one ImageMobject whose pixels change per frame.

Hundreds of squares cost about ten times more per frame (see platform notes); an image with
nearest-neighbour resampling looks the same and stays cheap at any resolution.
"""
from __future__ import annotations

import numpy as np
from manim import ImageMobject, Rectangle
from manim.constants import RESAMPLING_ALGORITHMS

from scenes import style


class PixelHeatmap(ImageMobject):
    """A [rows, cols] matrix shown as coloured cells through a diverging map."""

    def __init__(self, values: np.ndarray, vmax: float, height: float, width: float | None = None):
        values = np.atleast_2d(np.asarray(values, dtype=float))
        self.vmax = vmax
        super().__init__(style.diverging_rgba(values, vmax))
        self.set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
        rows, cols = values.shape
        self.stretch_to_fit_height(height)
        self.stretch_to_fit_width(width if width is not None else height * cols / rows)

    def set_values(self, values: np.ndarray) -> "PixelHeatmap":
        """Recolour in place (same shape); cheap enough for a per-frame updater."""
        self.pixel_array[...] = style.diverging_rgba(np.atleast_2d(values), self.vmax)
        return self

    def outline(self, buff: float = 0.0, colour: str | None = None, width: float = 1.5) -> Rectangle:
        """A frame around the map, in the theme's FRAME_STROKE unless ``colour`` is given."""
        r = Rectangle(width=self.width + 2 * buff, height=self.height + 2 * buff, color=colour or style.FRAME_STROKE,
                      stroke_width=width)
        return r.move_to(self.get_center())


def colour_scale_bar(vmax: float, height: float = 0.18, width: float = 1.6, steps: int = 64) -> PixelHeatmap:
    """A horizontal -vmax..+vmax legend strip in the same map."""
    return PixelHeatmap(np.linspace(-vmax, vmax, steps)[None, :], vmax, height=height, width=width)
