"""The one place for the look of every scene: palette, fonts, sizes, margins.

Object colours are the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies) ordered so that neighbours also differ in lightness, which keeps them apart in
greyscale. Diverging maps are red-white-blue with white at zero, as in the superposition papers.
"""
from __future__ import annotations

import numpy as np

FONT = "DejaVu Sans"
MONO_FONT = "DejaVu Sans Mono"
FONT_FILE = "DejaVuSans.ttf"  # the file of FONT, for measuring text without building it

BACKGROUND = "#111418"
TEXT = "#EEEEEE"
MUTED = "#9AA0A6"
HIGHLIGHT = "#FFD54A"
FRAME_STROKE = "#5F6368"

# Okabe-Ito, reordered for lightness contrast between neighbours.
OBJECT_COLOURS = ["#E69F00", "#56B4E9", "#D55E00", "#F0E442", "#0072B2", "#CC79A7", "#009E73"]

# Font sizes in Manim units (font_size); MIN_FONT_SIZE is the floor the layout test enforces,
# chosen so text stays legible at 854x480.
TITLE_SIZE = 34
CAPTION_SIZE = 22
LABEL_SIZE = 20
SMALL_SIZE = 17
MIN_FONT_SIZE = 16

MARGIN = 0.35  # scene units kept clear at the frame edge

# Diverging map endpoints (ColorBrewer RdBu): negative blue, zero near-white, positive red.
_NEG = np.array([0x21, 0x66, 0xAC], dtype=float)
_MID = np.array([0xF7, 0xF7, 0xF7], dtype=float)
_POS = np.array([0xB2, 0x18, 0x2B], dtype=float)


def diverging_rgba(values: np.ndarray, vmax: float) -> np.ndarray:
    """Map values in [-vmax, vmax] to RGBA uint8 pixels, red positive, blue negative."""
    x = np.clip(np.asarray(values, dtype=float) / max(vmax, 1e-12), -1.0, 1.0)[..., None]
    rgb = np.where(x >= 0, _MID + (_POS - _MID) * x, _MID + (_NEG - _MID) * (-x))
    alpha = np.full(x.shape, 255.0)
    return np.concatenate([rgb, alpha], axis=-1).round().astype(np.uint8)


def object_colour(i: int) -> str:
    return OBJECT_COLOURS[i % len(OBJECT_COLOURS)]


def object_colours(meta: dict, n: int) -> list[str]:
    """Colours for n objects: the timeline's ``object_colours`` (set by ``render.py --colours``) or the palette."""
    chosen = list(meta.get("object_colours") or [])
    return [chosen[i] if i < len(chosen) else object_colour(i) for i in range(n)]
