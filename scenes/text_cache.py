"""Text built once per machine, and drawn as one path per line.

Manim's ``Text`` costs about 0.15 s each (Pango writes an SVG, svgelements parses it, one mobject
per glyph is made); a scene has 30 to 60 of them, which is most of a short clip's render time.
Each Text is built once, its glyphs are merged into a single path (Cairo then draws a caption
line with one call instead of one per glyph, which matters while captions fade), and the result
is kept in the neuroreel cache (``<cache>/text``) keyed by everything that shapes it. A damaged
entry is reported by the cache, deleted and rebuilt.
"""
from __future__ import annotations

import pickle

import manim
import numpy as np
from manim import Text, VGroup, VMobject

from engine.cache import ArrayCache, cache_key

FORMAT = 1  # bump when what is stored changes
_memory: dict[str, bytes] = {}


def merge_glyphs(t: Text) -> Text:
    """Replace a Text's glyph mobjects by one VMobject holding all their outlines (same look, one path)."""
    glyphs = t.family_members_with_points()
    if len(glyphs) > 1:
        merged = VMobject()
        merged.set_points(np.concatenate([g.points for g in glyphs]))
        merged.match_style(glyphs[0])
        t.submobjects = [merged]
        t.chars = VGroup(merged)
        t.id_to_vgroup_dict = {}
    return t


def cached_text(s: str, font: str, size: float, colour: str, keep_glyphs: bool = False, **kw) -> Text:
    """``Text(s, font=font, font_size=size, color=colour, **kw)``, from the cache when there; glyphs merged
    into one path unless ``keep_glyphs`` (for callers that find characters by submobject index)."""
    key = cache_key("text", FORMAT, manim.__version__, s, font, float(size), str(colour), keep_glyphs,
                    sorted(kw.items(), key=str))
    blob = _memory.get(key)
    if blob is None:
        cache = ArrayCache("text")
        hit = cache.load(key)
        if hit is not None:
            blob = hit[0]["pickle"].tobytes()
        else:
            t = Text(s, font=font, font_size=size, color=colour, **kw)
            t = t if keep_glyphs else merge_glyphs(t)
            blob = pickle.dumps(t, protocol=pickle.HIGHEST_PROTOCOL)
            cache.save(key, {"pickle": np.frombuffer(blob, dtype=np.uint8)}, {"text": s, "size": size})
        _memory[key] = blob
    return pickle.loads(blob)
