"""Colour contrast as WCAG 2.x defines it, and the font sizes that count as large text in a frame.

Plain numpy (no Manim), so the palette (scenes/style.py) can use it to derive readable shades and the
tests can check every text a scene shows.

WCAG 2.x, success criterion 1.4.3 (contrast, minimum): text needs a contrast ratio of at least
4.5:1 with what is behind it, large text (18 pt = 24 CSS px, or 14 pt bold) 3:1; 1.4.11 (non-text
contrast) asks 3:1 for the parts of graphics needed to understand them.

How Manim font sizes map to points. A video has no CSS pixels, so we take the smallest frame the
project renders and lays out for, 854x480 (``MIN_FONT_SIZE`` is chosen to be legible there), as the
page: one frame pixel is one CSS pixel. The frame is 8 scene units high, so a scene unit is 60 px,
and a DejaVu Sans em at Manim ``font_size`` s is ``EM_PER_FONT_SIZE * s`` scene units (measured:
about 0.01378 units per font_size point). Large text (an em of 24 px = 0.4 units) is then font_size
>= 29.04: in this project only titles (``style.TITLE_SIZE`` = 34) are large; captions (22), labels
(20) and small text (17) are normal text and need 4.5:1. Larger frames and talk mode's zoom only make
text bigger on screen, so the mapping errs on the strict side. Nothing in the scenes is bold.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

NORMAL_TEXT = 4.5  # WCAG 1.4.3 (AA), normal text
LARGE_TEXT = 3.0  # WCAG 1.4.3 (AA), large text
NON_TEXT = 3.0  # WCAG 1.4.11 (AA), graphical objects

REFERENCE_FRAME_PX = 480  # the frame height taken as CSS pixels (854x480, the smallest preset)
FRAME_UNITS = 8.0  # Manim's frame height in scene units
EM_PER_FONT_SIZE = 0.013775  # scene units of a DejaVu Sans em per Manim font_size point (measured)
LARGE_TEXT_PX = 24.0  # 18 pt


def large_text_font_size() -> float:
    """The smallest Manim font_size that is WCAG large text under the mapping above (about 29.04)."""
    return LARGE_TEXT_PX / (REFERENCE_FRAME_PX / FRAME_UNITS) / EM_PER_FONT_SIZE


def required_ratio(font_size: float) -> float:
    """The WCAG AA minimum for text of this Manim font size."""
    return LARGE_TEXT if font_size >= large_text_font_size() else NORMAL_TEXT


def to_rgb(colour) -> np.ndarray:
    """sRGB in [0, 1] from '#RRGGBB' or '#RGB' (alpha, if given, dropped), an integer triple in 0-255 (pixels),
    a float triple in 0-1, or anything with ``to_rgb()`` (ManimColor)."""
    if hasattr(colour, "to_rgb"):
        return np.asarray(colour.to_rgb(), dtype=float)[:3]
    if isinstance(colour, str):
        h = colour.lstrip("#")
        if len(h) in (3, 4):
            h = "".join(ch * 2 for ch in h)
        if len(h) not in (6, 8):
            raise ValueError(f"not a #RRGGBB colour: {colour!r}")
        return np.array([int(h[i:i + 2], 16) for i in (0, 2, 4)], dtype=float) / 255
    rgb = np.asarray(colour)[:3]
    return rgb.astype(float) / 255 if rgb.dtype.kind in "iu" else rgb.astype(float)


def to_hex(colour) -> str:
    return "#{:02X}{:02X}{:02X}".format(*np.round(np.clip(to_rgb(colour), 0, 1) * 255).astype(int))


def relative_luminance(colour) -> float:
    """WCAG 2.x relative luminance: linearised sRGB channels weighted 0.2126, 0.7152, 0.0722."""
    c = to_rgb(colour)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(lin @ np.array([0.2126, 0.7152, 0.0722]))


def contrast_ratio(a, b) -> float:
    """(L1 + 0.05) / (L2 + 0.05), the lighter colour's luminance on top: 1 (same) to 21 (black on white)."""
    la, lb = relative_luminance(a), relative_luminance(b)
    return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)


def blend(fg, bg, alpha: float) -> np.ndarray:
    """``fg`` painted at opacity ``alpha`` over ``bg`` (sRGB, as Cairo composites)."""
    return to_rgb(fg) * alpha + to_rgb(bg) * (1 - alpha)


def readable(colour: str, backgrounds: str | Sequence[str], ratio: float = NORMAL_TEXT) -> str:
    """``colour`` itself if it reaches ``ratio`` against every background, else the nearest shade that does:
    mixed towards black (light backgrounds) or white (dark ones) in steps of 1%, keeping its hue. Used for
    object colours written as text, and for user-chosen colours (render.py --colours) alike."""
    bgs = [backgrounds] if isinstance(backgrounds, str) else list(backgrounds)
    if all(contrast_ratio(colour, bg) >= ratio for bg in bgs):
        return colour
    dark_bg = np.mean([relative_luminance(bg) for bg in bgs]) < 0.18
    target = np.ones(3) if dark_bg else np.zeros(3)
    rgb = to_rgb(colour)
    for k in range(1, 101):
        shade = to_hex(rgb + (target - rgb) * k / 100)
        if all(contrast_ratio(shade, bg) >= ratio for bg in bgs):
            return shade
    return to_hex(target)
