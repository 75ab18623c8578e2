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

THEMES = ("dark",)  # palettes a scene can be drawn in (render.py --theme)


def use_theme(name: str) -> None:
    """Make ``name`` the palette of what is built next (each scene calls this before building)."""
    if name not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}, not {name!r}")


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


# --- real-neuron scenes (bars, heatmap, hunt, digits) ------------------------------------------
# Sequential map for non-negative values such as normalised activations: a magma-like ramp from a
# dark blue-grey just lighter than the background (0, so empty cells stay visible) to pale yellow (1).
SEQUENTIAL_STOPS = ["#1E2430", "#3B0F70", "#8C2981", "#DE4968", "#FE9F6D", "#FCFDBF"]
TOKEN_HEAT = "#D64545"  # token chips (Neuroscope style): fill opacity = activation / the neuron's peak
SHARED_TOKENS = "#7A7F87"  # the part of a response carried by shared (generic) tokens


def _hex_rgb(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i:i + 2], 16) for i in (0, 2, 4)], dtype=float)


_SEQ = np.stack([_hex_rgb(c) for c in SEQUENTIAL_STOPS])


def sequential_rgba(values: np.ndarray, vmax: float) -> np.ndarray:
    """Map values in [0, vmax] to RGBA uint8 pixels along SEQUENTIAL_STOPS (values below 0 show as 0)."""
    x = np.clip(np.asarray(values, dtype=float) / max(vmax, 1e-12), 0.0, 1.0)
    pos = x * (len(_SEQ) - 1)
    lo = np.minimum(pos.astype(int), len(_SEQ) - 2)
    w = (pos - lo)[..., None]
    rgb = _SEQ[lo] * (1 - w) + _SEQ[lo + 1] * w
    alpha = np.full(x.shape + (1,), 255.0)
    return np.concatenate([rgb, alpha], axis=-1).round().astype(np.uint8)


# --- grid and shared-neuron scenes (scenes/grid.py, scenes/grid_shared.py) ---------------------------
GRID_CELL_OFF = "#272C33"  # a neuron that does not respond: the dark end of every brightness ramp
GRID_CELL_STROKE = "#3C4249"  # the rim of every neuron circle
GRID_EDGE_MAX_WIDTH = 5.0  # stroke width of a link at full response (shared-neuron graph)


# --- toy-model geometry, dimensionality and phase scenes (scenes/toy_geometry.py, toy_dims.py, toy_phase.py) ---
# Feature importance as in the paper's and ARENA's plots: viridis, most important brightest (yellow); the ramp
# starts at viridis 0.25 so the least important feature still stands out against the dark background.
IMPORTANCE_STOPS = ["#3B528B", "#2C728E", "#21918C", "#28AE80", "#5EC962", "#ADDC30", "#FDE725"]
_IMP = np.stack([_hex_rgb(c) for c in IMPORTANCE_STOPS])


def importance_colours(importance: np.ndarray) -> list[str]:
    """Hex colour per feature: the least important at the dark end of IMPORTANCE_STOPS, the most at the bright end."""
    imp = np.asarray(importance, dtype=float)
    span = imp.max() - imp.min()
    x = (imp - imp.min()) / span if span > 1e-12 else np.ones_like(imp)
    pos = x * (len(_IMP) - 1)
    lo = np.minimum(pos.astype(int), len(_IMP) - 2)
    rgb = _IMP[lo] * (1 - (pos - lo))[:, None] + _IMP[lo + 1] * (pos - lo)[:, None]
    return ["#{:02X}{:02X}{:02X}".format(*np.round(c).astype(int)) for c in rgb]


# Which solution a 2-features-in-1-dimension model takes (engine.toy.phase.LABELS order), Okabe-Ito hues.
SOLUTION_COLOURS = {"not represented": "#7F8790", "dedicated dimension": "#56B4E9",
                    "superposition": "#E69F00", "other": "#CC79A7"}
SOLUTION_EMPTY = "#22272E"  # a cell not filled in yet
