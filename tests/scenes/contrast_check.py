"""Contrast checks on a built scene: every visible text against what is drawn behind it.

What is behind a text is composed the way the camera draws: the frame's background colour, then, in
drawing order, every filled shape, image pixel and neuron cell that comes before the text and covers
the point, each at its opacity. It is sampled at five points along the text's middle (10% to 90% of
its width) and the worst is kept, so a label over two heatmap cells is held to the darker or lighter
of them. Strokes (lines, outlines, brackets) are not composed: they are thin, and a text is not placed
on one. The text's own colour is its fill at its opacity over that backdrop. A text passes at
``contrast.required_ratio(font size)`` (4.5:1, or 3:1 for titles; see scenes/contrast.py).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from manim import ImageMobject, Text, VMobject

from scenes import contrast
from scenes.cells import CellLayer

SAMPLES = (0.1, 0.3, 0.5, 0.7, 0.9)
VISIBLE = 0.05  # texts fainter than this are not on screen (mid-fade parts are checked at full opacity elsewhere)


@dataclass
class TextContrast:
    text: str
    font_size: float
    colour: str  # the text's fill as drawn (its opacity applied over the backdrop)
    behind: str  # the backdrop where contrast is worst
    ratio: float
    required: float

    @property
    def ok(self) -> bool:
        return self.ratio >= self.required - 1e-9

    def __str__(self) -> str:
        return (f"{self.text!r} (size {self.font_size:g}): {self.colour} on {self.behind} = {self.ratio:.2f}:1, "
                f"needs {self.required:g}:1")


def _draw_order(scene) -> list:
    """Everything the camera draws, in the order it draws it (families flattened, parents first)."""
    out = []
    for mob in scene.mobjects:
        out.extend(m for m in mob.get_family() if (isinstance(m, ImageMobject) or m.has_points()))
    return list(dict.fromkeys(out))


def _painters(order: list) -> list[tuple[int, object, np.ndarray, np.ndarray]]:
    """(draw index, mobject, box low, box high) of what may paint a backdrop: images, neuron cells and
    filled shapes (not texts), each boxed by its own points."""
    out = []
    for i, m in enumerate(order):
        if isinstance(m, Text) or not (isinstance(m, (ImageMobject, CellLayer)) or isinstance(m, VMobject)):
            continue
        if isinstance(m, VMobject) and not isinstance(m, CellLayer):
            rgbas = m.get_fill_rgbas()
            if not len(rgbas) or rgbas[0, 3] <= 0:
                continue
        pts = m.points[:, :2]
        out.append((i, m, pts.min(axis=0), pts.max(axis=0)))
    return out


def _inside_polygon(pt: np.ndarray, vmob: VMobject) -> bool:
    """Even-odd test against the VMobject's curves, sampled (Manim's circles and rounded corners are cubics)."""
    crossings = 0
    t = np.linspace(0, 1, 5)[:, None]
    for path in vmob.get_subpaths():
        if len(path) < 4:
            continue
        curves = path[: len(path) // 4 * 4].reshape(-1, 4, 3)
        pts = []
        for a, b, c, d in curves:
            pts.append((1 - t) ** 3 * a + 3 * (1 - t) ** 2 * t * b + 3 * (1 - t) * t ** 2 * c + t ** 3 * d)
        poly = np.concatenate(pts)[:, :2]
        x, y = poly[:, 0], poly[:, 1]
        x2, y2 = np.roll(x, -1), np.roll(y, -1)
        cross = (y > pt[1]) != (y2 > pt[1])
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = x + (pt[1] - y) * (x2 - x) / (y2 - y)
        crossings += int(np.sum(cross & (pt[0] < xs)))
    return crossings % 2 == 1


def _paint_at(mob, pt: np.ndarray) -> tuple[np.ndarray, float] | None:
    """(rgb, alpha) that ``mob`` (one of ``_painters``, its box holding ``pt``) paints there (fill only), or None."""
    if isinstance(mob, ImageMobject):
        pts = mob.points[:, :2]
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        px = mob.get_pixel_array()
        rows, cols = px.shape[:2]
        c = min(int((pt[0] - lo[0]) / (hi[0] - lo[0]) * cols), cols - 1)
        r = min(int((hi[1] - pt[1]) / (hi[1] - lo[1]) * rows), rows - 1)
        rgba = px[r, c].astype(float) / 255
        return rgba[:3], float(rgba[3])
    if isinstance(mob, CellLayer):
        return _cell_paint(mob, pt)
    rgbas = mob.get_fill_rgbas()
    if not _inside_polygon(pt, mob):
        return None
    return rgbas[0, :3], float(rgbas[0, 3])


def _cell_paint(layer: CellLayer, pt: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The topmost neuron cell (its backing, then its wedge) of a CellLayer at ``pt``."""
    found = None
    fill_alpha = float(layer.get_fill_opacity())
    if fill_alpha <= 0:
        return None
    wedges = layer.radii.shape[1]
    for (cx, cy), radii, fills, alpha in zip(layer.cell_centres(), layer.radii, layer.fills, layer.alphas):
        d = np.hypot(pt[0] - cx, pt[1] - cy)
        if alpha <= 0:
            continue
        if layer.backing is not None and d <= layer.backing.radius:
            found = (contrast.to_rgb(layer.backing.fill), fill_alpha * alpha)
        if layer.cell_style.filled:
            angle = (np.pi / 2 - np.arctan2(pt[1] - cy, pt[0] - cx)) % (2 * np.pi)  # clockwise from 12 o'clock
            o = min(int(angle / (2 * np.pi / wedges)), wedges - 1)
            if d <= radii[o]:
                found = (fills[o], fill_alpha * alpha)
    return found


def _glyph_style(t: Text) -> tuple[np.ndarray, float] | None:
    """The text's fill colour and opacity, from its glyphs (fades set the glyphs, not the Text)."""
    glyphs = [m for m in t.get_family() if m.has_points()]
    if not glyphs:
        return None
    rgba = glyphs[0].get_fill_rgbas()[0]
    return np.asarray(rgba[:3], dtype=float), max(float(g.get_fill_opacity()) for g in glyphs)


def text_contrasts(scene) -> list[TextContrast]:
    """The contrast of every visible text on screen, each against its worst backdrop."""
    order = _draw_order(scene)
    index = {id(m): i for i, m in enumerate(order)}
    painters = _painters(order)
    background = contrast.to_rgb(scene.camera.background_color)
    cam = scene.renderer.camera
    centre = np.asarray(cam.frame_center, dtype=float)[:2]
    half = np.array([cam.frame_width / 2, cam.frame_height / 2])
    out = []
    texts = [m for top in scene.mobjects for m in top.get_family() if isinstance(m, Text)]
    for t in dict.fromkeys(texts):
        look = _glyph_style(t)
        if look is None or look[1] <= VISIBLE:
            continue
        fill, opacity = look
        if np.any(np.abs(t.get_center()[:2] - centre) > half):
            continue  # parked off screen
        first = min(index[id(m)] for m in t.get_family() if id(m) in index)
        lo, hi = t.get_corner(np.array([-1, -1, 0]))[:2], t.get_corner(np.array([1, 1, 0]))[:2]
        worst = None
        for f in SAMPLES:
            pt = np.array([lo[0] + f * (hi[0] - lo[0]), (lo[1] + hi[1]) / 2])
            behind = background.copy()
            for i, mob, mlo, mhi in painters:
                if i >= first:
                    break
                if np.any(pt < mlo) or np.any(pt > mhi):
                    continue
                paint = _paint_at(mob, pt)
                if paint is not None:
                    behind = contrast.blend(paint[0], behind, paint[1])
            drawn = contrast.blend(fill, behind, opacity)
            ratio = contrast.contrast_ratio(drawn, behind)
            if worst is None or ratio < worst[0]:
                worst = (ratio, drawn, behind)
        out.append(TextContrast(t.text, float(t.font_size), contrast.to_hex(worst[1]), contrast.to_hex(worst[2]),
                                worst[0], contrast.required_ratio(float(t.font_size))))
    return out


def contrast_problems(scene) -> list[str]:
    return [str(c) for c in text_contrasts(scene) if not c.ok]
