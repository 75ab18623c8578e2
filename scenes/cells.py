"""Many discs, wedges and rings drawn in one Cairo pass, for grids of neurons.

Manim's Cairo camera spends its time in Python per path (path building, colour arrays), about
50 µs per disc; a 7x7 grid split into three wedges per neuron is ~200 paths every frame. A
``CellLayer`` holds all of its cells as arrays and draws them itself through ``CellCamera``,
issuing the same Cairo calls a Circle or Sector would (so frames look the same) but in one loop.

The layer is a VMobject whose points are its bounding box, so placement, fades and layout checks
see its true extent; its own fill and stroke opacities scale every cell, so ``set_opacity`` and
``OpacityFade`` work on it like on any mobject.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from jaxtyping import Float
from manim import Camera, ManimColor, VMobject

from scenes.image_blit import composite_in_box, placed_image

TAU = 2 * np.pi
STROKE_UNIT = 0.01  # scene units per Manim stroke width unit (the Cairo camera's line width multiple)


def rgb(colour) -> np.ndarray:
    return np.array(ManimColor(colour).to_rgb(), dtype=float)


@dataclass(frozen=True)
class CellStyle:
    """How the cells of a layer are stroked (one outline colour and width for the whole layer)."""

    stroke: str = "#000000"
    stroke_width: float = 0.0  # Manim stroke units (1 = STROKE_UNIT scene units)
    filled: bool = True


@dataclass(frozen=True)
class Backing:
    """A plain disc drawn under each cell's wedges (a neuron's outline and unlit body)."""

    radius: float
    fill: str
    stroke: str
    stroke_width: float


class CellLayer(VMobject):
    """Cells at ``centres``, each a disc split into ``wedges`` equal sectors clockwise from 12 o'clock.

    ``fills[cell, wedge]`` is an RGB colour and ``radii[cell, wedge]`` a radius in scene units; a
    one-wedge layer draws plain discs, an unfilled layer draws rings. Cells are drawn in order,
    each with its ``backing`` (if any) first, so overlapping cells stack like separate mobjects.
    ``alphas[cell]`` (default 1) is each cell's own opacity, under the layer's.
    """

    def __init__(self, centres: Float[np.ndarray, "cells 3"], radii: Float[np.ndarray, "cells wedges"],
                 fills: Float[np.ndarray, "cells wedges 3"] | None = None, cell_style: CellStyle = CellStyle(),
                 backing: Backing | None = None):
        super().__init__(fill_opacity=1.0, stroke_opacity=1.0, stroke_width=0)
        n = len(centres)
        radii = np.asarray(radii, dtype=float)
        self.radii = (radii.reshape(n, -1) if n else radii.reshape(0, radii.shape[-1] if radii.ndim > 1 else 1)).copy()
        wedges = self.radii.shape[1]
        self.fills = np.zeros((n, wedges, 3)) if fills is None else np.asarray(fills, dtype=float).copy()
        self.cell_style, self.backing = cell_style, backing
        self._stroke_rgb = rgb(cell_style.stroke)
        self._backing_rgb = None if backing is None else (rgb(backing.fill), rgb(backing.stroke))
        self.alphas = np.ones(n)
        self.move_cells(centres)

    def move_cells(self, centres: Float[np.ndarray, "cells 3"]) -> "CellLayer":
        """Put the cells at ``centres`` (scene units) and fit the layer's box around them."""
        self.centres = np.asarray(centres, dtype=float)[:, :2].copy()
        reach = max(self.radii.max(initial=0.0) + self.cell_style.stroke_width * STROKE_UNIT / 2,
                    0.0 if self.backing is None else self.backing.radius + self.backing.stroke_width * STROKE_UNIT / 2)
        lo = self.centres.min(axis=0) - reach if len(self.centres) else np.zeros(2)
        hi = self.centres.max(axis=0) + reach if len(self.centres) else np.zeros(2)
        self.set_points_as_corners([[lo[0], lo[1], 0], [hi[0], lo[1], 0], [hi[0], hi[1], 0], [lo[0], hi[1], 0],
                                    [lo[0], lo[1], 0]])
        self._anchor = self.points[0, :2].copy()
        return self

    def set_cell_fills(self, fills: Float[np.ndarray, "cells wedges 3"]) -> "CellLayer":
        self.fills = np.asarray(fills, dtype=float).reshape(self.fills.shape)
        return self

    def set_cell_alphas(self, alphas: Float[np.ndarray, "cells"]) -> "CellLayer":
        """Each cell's opacity (0 hides it), multiplied by the layer's fill and stroke opacities."""
        self.alphas = np.broadcast_to(np.asarray(alphas, dtype=float), self.alphas.shape).copy()
        return self

    def cell_centres(self) -> Float[np.ndarray, "cells 2"]:
        """Where the cells are now (the layer may have been shifted since it was made)."""
        return self.centres + (self.points[0, :2] - self._anchor)

    def draw_with_cairo(self, ctx, camera: Camera) -> None:
        fill_alpha = float(self.get_fill_opacity())
        stroke_alpha = float(self.get_stroke_opacity())
        if fill_alpha <= 0 and stroke_alpha <= 0:
            return
        px = camera.cairo_line_width_multiple
        wedges = self.radii.shape[1]
        angle = TAU / wedges
        look = self.cell_style
        stroke_rgb = self._stroke_rgb
        back = self.backing
        if back is not None:
            back_fill, back_stroke = self._backing_rgb
        for (cx, cy), radii, fills, alpha in zip(self.cell_centres(), self.radii, self.fills, self.alphas):
            if alpha <= 0:
                continue
            cell_fill, cell_stroke = fill_alpha * alpha, stroke_alpha * alpha
            if back is not None:
                ctx.new_path()
                ctx.arc(cx, cy, back.radius, 0.0, TAU)
                ctx.close_path()
                _paint(ctx, back_fill, cell_fill, back_stroke, cell_stroke, back.stroke_width * px)
            for o in range(wedges):
                ctx.new_path()
                if wedges == 1:
                    ctx.arc(cx, cy, radii[o], 0.0, TAU)
                else:
                    start = np.pi / 2 - (o + 1) * angle
                    ctx.move_to(cx, cy)
                    ctx.arc(cx, cy, radii[o], start, start + angle)
                ctx.close_path()
                _paint(ctx, fills[o] if look.filled else None, cell_fill, stroke_rgb, cell_stroke,
                       look.stroke_width * px)
        ctx.new_path()


def _paint(ctx, fill: np.ndarray | None, fill_alpha: float, stroke: np.ndarray, stroke_alpha: float,
           width: float) -> None:
    """Fill then stroke the current path, as Manim's camera does for a VMobject."""
    if fill is not None and fill_alpha > 0:
        ctx.set_source_rgba(fill[2], fill[1], fill[0], fill_alpha)  # the pixel array is RGBA, Cairo writes BGRA
        ctx.fill_preserve()
    if width > 0 and stroke_alpha > 0:
        ctx.set_source_rgba(stroke[2], stroke[1], stroke[0], stroke_alpha)
        ctx.set_line_width(width)
        ctx.stroke_preserve()


class CellCamera(Camera):
    """The Cairo camera, except that mobjects with ``draw_with_cairo`` draw themselves and images
    are composited over only the pixels they cover (``scenes.image_blit``)."""

    def display_image_mobject(self, image_mobject, pixel_array: np.ndarray) -> None:
        placed = placed_image(self, image_mobject)
        if placed is not None:
            composite_in_box(pixel_array, *placed)

    def display_vectorized(self, vmobject: VMobject, ctx):
        draw = getattr(vmobject, "draw_with_cairo", None)
        if draw is not None:
            draw(ctx, self)
        elif not _invisible(vmobject):  # a faded-out label still costs a path of ~1,000 points
            super().display_vectorized(vmobject, ctx)
        return self


def _invisible(vmobject: VMobject) -> bool:
    """True if neither the fill nor either stroke would paint anything."""
    if np.any(vmobject.get_fill_rgbas()[:, 3] > 0):
        return False
    return not any(vmobject.get_stroke_width(background) > 0 and np.any(vmobject.get_stroke_rgbas(background)[:, 3] > 0)
                   for background in (False, True))
