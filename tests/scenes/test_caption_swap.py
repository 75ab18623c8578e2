"""Consecutive captions never stack: the old one is gone before the new one shows (no cross-fade)."""
from __future__ import annotations

import numpy as np
from manim import Text, tempconfig

from scenes.base import caption_swap


def shown(mob) -> float:
    """How opaque the drawn parts (the glyphs) are."""
    return max(m.get_fill_opacity() for m in mob.get_family() if m.has_points())


def test_two_captions_are_never_visible_together():
    with tempconfig({"dry_run": True}):
        old, new = Text("first caption", font_size=22), Text("second caption", font_size=22)
        fade_out, fade_in = caption_swap(old, new)
        fade_out.begin()
        for alpha in np.linspace(0, 1, 41):
            fade_out.interpolate(alpha)
            fade_in.interpolate(alpha)
            a, b = shown(old), shown(new)
            assert min(a, b) < 1e-9, f"both captions visible at {alpha:.3f}: {a:.2f} and {b:.2f}"
        assert shown(old) < 1e-9 and shown(new) > 0.99


def test_a_first_or_last_caption_fades_alone():
    with tempconfig({"dry_run": True}):
        only = Text("only", font_size=22)
        assert [a.is_in for a in caption_swap(None, only)] == [True]
        assert [a.is_in for a in caption_swap(only, None)] == [False]
        assert caption_swap(None, None) == []
