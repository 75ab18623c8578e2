"""The one place for the look of every scene: palette, fonts, sizes, margins, in a dark and a light theme.

Object colours are the Okabe-Ito palette (distinguishable with the common colour-vision
deficiencies) ordered so that neighbours also differ in lightness, which keeps them apart in
greyscale; they are the same in both themes. Diverging maps are red-white-blue with white at zero,
as in the superposition papers.

Themes. Everything that depends on the background lives in a ``Theme``; ``use_theme(name)`` (each
scene calls it before building) sets this module's names (BACKGROUND, TEXT, MUTED, HIGHLIGHT, ...)
from it, so code reads ``style.X`` when it draws, never a copy taken at import. ``dark`` is the
original look, unchanged; ``light`` is for white slide decks.

Contrast (WCAG 2.x, checked for every text of every scene in both themes by tests/scenes/test_contrast.py;
how Manim font sizes map to WCAG's large text is in scenes/contrast.py: only titles are large):
- text: TEXT, MUTED and HIGHLIGHT reach 4.5:1 on their theme's background (light: 18.5, 6.0, 5.9).
- object colours written as text (row labels, tags, legend numbers) go through ``text_colour``: in the
  light theme, a shade mixed towards black until it reaches 4.5:1 on white (orange #E69F00 -> #9C6C00,
  sky blue #56B4E9 -> #3B7CA1, vermillion #D55E00 -> #C25600, yellow #F0E442 -> #7F7923, pink #CC79A7 ->
  #A36186, green #009E73 -> #008662; blue #0072B2 passes as it is). The dark theme keeps them as they are.
- text on a filled shape (numbers on heatmap cells, names on hubs) takes ``text_on(fill)``: TEXT or
  BACKGROUND, whichever contrasts more, or pure black or white where neither reaches 4.5:1.
- filled shapes (WCAG 1.4.11 asks 3:1 for graphics needed to understand them). On the dark background
  #111418 every Okabe-Ito colour reaches 3:1 (blue #0072B2 the least, 3.6; the others 4.8 to 14).
  On white, blue (5.2), vermillion (3.9), green (3.4) and pink (3.1) pass; orange #E69F00 (2.3),
  sky blue #56B4E9 (2.3) and yellow #F0E442 (1.3) do not. They stay as they are (the palette is the
  point), and no scene depends on them alone: every filled object colour is named by a text label
  beside it (legends, row and hub labels) and the grid's discs carry a rim (GRID_CELL_STROKE).
  FRAME_STROKE (also the grey of unlit data bars), SHARED_TOKENS, 'not represented' and every
  feature-importance colour reach 3:1 in both themes, except the dark theme's least important (2.4).
- every text in both themes reaches AA against what is drawn behind it (tests/scenes/test_contrast.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import lru_cache

import numpy as np

from scenes.contrast import NORMAL_TEXT, contrast_ratio, readable

FONT = "DejaVu Sans"
MONO_FONT = "DejaVu Sans Mono"
FONT_FILE = "DejaVuSans.ttf"  # the file of FONT, for measuring text without building it


@dataclass(frozen=True)
class Theme:
    """Every colour that depends on the background. Hex strings, '#RRGGBB'."""

    name: str
    background: str
    text: str
    muted: str  # secondary text: axis ticks, sources, keys
    highlight: str  # what a phase points at: text, outlines, rings
    frame_stroke: str  # panel frames, gridlines, progress rails
    # Sequential map for non-negative values (normalised activations), 0 first. Its 0 differs from the
    # background just enough that empty cells stay visible.
    sequential_stops: tuple[str, ...]
    diverging_mid: str  # zero of the red-white-blue map
    token_heat: str  # token chips (Neuroscope style): fill opacity = activation / the neuron's peak; text sits on them
    token_heat_text: str  # a chip's value written beside it, in the chips' hue
    shared_tokens: str  # the part of a response carried by shared (generic) tokens
    grid_cell_off: str  # a neuron that does not respond: the far end of every brightness ramp
    grid_cell_stroke: str  # the rim of every neuron circle
    # Feature importance (viridis, as in the paper's and ARENA's plots), least important first.
    importance_stops: tuple[str, ...]
    solution_colours: dict[str, str] = field(hash=False)  # which solution a 2-in-1 model takes (Okabe-Ito hues)
    solution_empty: str  # a phase-diagram cell not filled in yet
    readable_object_text: bool = False  # write object colours as text in shades reaching 4.5:1 (text_colour)


_SOLUTIONS = {"not represented": "#7F8790", "dedicated dimension": "#56B4E9", "superposition": "#E69F00",
              "other": "#CC79A7"}

DARK = Theme(
    name="dark",
    background="#111418",
    text="#EEEEEE",
    muted="#9AA0A6",
    highlight="#FFD54A",
    frame_stroke="#5F6368",
    # magma-like: a dark blue-grey just lighter than the background (0) to pale yellow (1)
    sequential_stops=("#1E2430", "#3B0F70", "#8C2981", "#DE4968", "#FE9F6D", "#FCFDBF"),
    diverging_mid="#F7F7F7",
    token_heat="#B83A3A",  # #EEEEEE tokens on a fully lit chip: 4.9:1
    token_heat_text="#D84E4E",  # a chip's value beside it: 4.6:1 on the background
    shared_tokens="#7A7F87",
    grid_cell_off="#272C33",
    grid_cell_stroke="#3C4249",
    # viridis from 0.25, so the least important feature still stands out against the dark background
    importance_stops=("#3B528B", "#2C728E", "#21918C", "#28AE80", "#5EC962", "#ADDC30", "#FDE725"),
    solution_colours=_SOLUTIONS,
    solution_empty="#22272E",
    readable_object_text=True,  # the least important features' numbers, written in their viridis colour
)

LIGHT = Theme(
    name="light",
    background="#FFFFFF",
    text="#111418",
    muted="#5F6368",
    highlight="#C2185B",  # crimson, 5.9:1 on white; amber (the dark theme's) darkened to 4.5:1 matches orange labels
    frame_stroke="#8F959B",  # 3:1 on white, as the dark theme's on its background (grey data bars use it)
    # magma reversed (dark = high, as maps on paper read), from a grey just darker than white
    sequential_stops=("#ECEEF1", "#FEB78A", "#F0605D", "#B5367A", "#6A1C81", "#221150"),
    diverging_mid="#F7F7F7",  # as on paper; the heatmaps' outlines mark where a map ends
    token_heat="#E35D5D",  # dark text on a fully lit chip: 5.3:1
    token_heat_text="#B83232",  # 5.9:1 on white
    shared_tokens="#7A7F87",
    grid_cell_off="#E6E8EB",
    grid_cell_stroke="#A9AEB4",
    # viridis from 0 to 0.53 (dark theme: 0.25 to 1): least important darkest, most important brightest, as
    # there ("brighter = more important"); the yellow end is left out so every feature's line reaches 3:1 on white
    importance_stops=("#440154", "#482878", "#3E4A89", "#31688E", "#26828E", "#1F9A8A"),
    solution_colours=_SOLUTIONS,
    solution_empty="#EEF0F3",
    readable_object_text=True,
)

THEMES: dict[str, Theme] = {"dark": DARK, "light": LIGHT}  # palettes a scene can be drawn in (render.py --theme)

# Set from the theme in use by use_theme() (below, and by every scene before it builds).
THEME: Theme
BACKGROUND: str
TEXT: str
MUTED: str
HIGHLIGHT: str
FRAME_STROKE: str
SEQUENTIAL_STOPS: list[str]
DIVERGING_MID: str
TOKEN_HEAT: str
TOKEN_HEAT_TEXT: str
SHARED_TOKENS: str
GRID_CELL_OFF: str
GRID_CELL_STROKE: str
IMPORTANCE_STOPS: list[str]
SOLUTION_COLOURS: dict[str, str]
SOLUTION_EMPTY: str


def use_theme(name: str) -> None:
    """Make ``name`` the palette of what is built next (each scene calls this before building)."""
    if name not in THEMES:
        raise ValueError(f"theme must be one of {', '.join(THEMES)}, not {name!r}")
    global THEME, _SEQ, _IMP, _MID
    THEME = THEMES[name]
    values = {f.name: getattr(THEME, f.name) for f in fields(Theme)}
    for key in ("sequential_stops", "importance_stops"):
        values[key] = list(values[key])
    values["solution_colours"] = dict(values["solution_colours"])
    globals().update({k.upper(): v for k, v in values.items() if k not in ("name", "readable_object_text")})
    _SEQ = np.stack([_hex_rgb(c) for c in SEQUENTIAL_STOPS])
    _IMP = np.stack([_hex_rgb(c) for c in IMPORTANCE_STOPS])
    _MID = _hex_rgb(DIVERGING_MID)


def text_colour(colour: str) -> str:
    """The colour to write text in ``colour`` with on the background: itself in the dark theme, in the light
    theme the nearest shade reaching 4.5:1 (yellow labels on white would be illegible)."""
    return _readable(colour, BACKGROUND) if THEME.readable_object_text else colour


def text_on(fill, ratio: float = NORMAL_TEXT) -> str:
    """Text colour for a label drawn on ``fill``: TEXT or BACKGROUND, whichever contrasts more, or pure black
    or white if neither reaches ``ratio`` (one of those always reaches 4.5:1)."""
    best = max((TEXT, BACKGROUND), key=lambda c: contrast_ratio(c, fill))
    if contrast_ratio(best, fill) >= ratio:
        return best
    return max(("#000000", "#FFFFFF"), key=lambda c: contrast_ratio(c, fill))


@lru_cache(maxsize=None)
def _readable(colour: str, background: str) -> str:
    return readable(colour, background)


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

# Diverging map endpoints (ColorBrewer RdBu): negative blue, zero near-white (the theme's), positive red.
_NEG = np.array([0x21, 0x66, 0xAC], dtype=float)
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

def _hex_rgb(colour: str) -> np.ndarray:
    colour = colour.lstrip("#")
    return np.array([int(colour[i:i + 2], 16) for i in (0, 2, 4)], dtype=float)


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
GRID_EDGE_MAX_WIDTH = 5.0  # stroke width of a link at full response (shared-neuron graph)


# --- toy-model geometry, dimensionality and phase scenes (scenes/toy_geometry.py, toy_dims.py, toy_phase.py) ---

def importance_colours(importance: np.ndarray) -> list[str]:
    """Hex colour per feature: the least important at the first of IMPORTANCE_STOPS, the most at the last."""
    imp = np.asarray(importance, dtype=float)
    span = imp.max() - imp.min()
    x = (imp - imp.min()) / span if span > 1e-12 else np.ones_like(imp)
    pos = x * (len(_IMP) - 1)
    lo = np.minimum(pos.astype(int), len(_IMP) - 2)
    rgb = _IMP[lo] * (1 - (pos - lo))[:, None] + _IMP[lo + 1] * (pos - lo)[:, None]
    return ["#{:02X}{:02X}{:02X}".format(*np.round(c).astype(int)) for c in rgb]


use_theme("dark")
