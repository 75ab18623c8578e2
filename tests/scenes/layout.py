"""Layout checks on a built scene: text inside the frame, no two texts overlapping, nothing too small."""
from __future__ import annotations

import itertools

import numpy as np
from manim import Text, config

from scenes import style

TOLERANCE = 0.02  # scene units; glyph boxes may touch


def visible_texts(scene) -> list[Text]:
    texts = []
    for mob in scene.mobjects:
        for m in mob.get_family():
            if isinstance(m, Text) and len(m.submobjects) and m.get_fill_opacity() > 0.05:
                texts.append(m)
    return list(dict.fromkeys(texts))


def _box(m) -> tuple[np.ndarray, np.ndarray]:
    return m.get_corner(np.array([-1, -1, 0]))[:2], m.get_corner(np.array([1, 1, 0]))[:2]


def layout_problems(scene) -> list[str]:
    problems = []
    cam = scene.renderer.camera  # talk mode zooms the camera: its frame, not the configured one, is on screen
    zoom = config.frame_width / cam.frame_width
    centre = np.asarray(cam.frame_center, dtype=float)[:2]
    half = np.array([cam.frame_width / 2, cam.frame_height / 2])
    texts = visible_texts(scene)
    for t in texts:
        lo, hi = _box(t)
        if np.any(lo - centre < -half - TOLERANCE) or np.any(hi - centre > half + TOLERANCE):
            problems.append(f"outside the frame: {t.text!r}")
        if t.font_size * zoom < style.MIN_FONT_SIZE - 0.5:
            problems.append(f"font size {t.font_size:.1f} < {style.MIN_FONT_SIZE}: {t.text!r}")
    for a, b in itertools.combinations(texts, 2):
        (alo, ahi), (blo, bhi) = _box(a), _box(b)
        overlap = np.minimum(ahi, bhi) - np.maximum(alo, blo)
        if np.all(overlap > TOLERANCE):
            problems.append(f"overlap: {a.text!r} and {b.text!r}")
    return problems
