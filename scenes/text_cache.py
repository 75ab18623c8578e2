"""Text built once per machine, and drawn as one path per line.

Manim's ``Text`` costs about 0.15 s each (Pango writes an SVG, svgelements parses it, one mobject
per glyph is made); a scene has 30 to 60 of them, which is most of a short clip's render time.
Each Text is built once, its glyphs are merged into a single path (Cairo then draws a caption
line with one call instead of one per glyph, which matters while captions fade), and the result
is kept in the neuroreel cache (``<cache>/text``) keyed by everything that shapes it. A damaged
entry is reported by the cache, deleted and rebuilt.

An entry is plain data, never a pickle (unpickling a file someone else can write runs their code):
each mobject of the Text's family as a record of plain attributes (numbers, strings, colours as
hex, two enums by name) and its numeric arrays (glyph outlines, colours). Loading accepts only
that shape: anything else is a damaged entry.
"""
from __future__ import annotations

import enum
import re
import sys
from pathlib import Path
from typing import Any

import manim
import numpy as np
from manim import Text, VGroup, VMobject
from manim.constants import CapStyleType, LineJointType
from manim.utils.color import ManimColor

from engine.cache import ArrayCache, cache_key

FORMAT = 2  # bump when what is stored changes (1 was a pickle: never read again)
_memory: dict[str, tuple[list[dict], dict[str, np.ndarray]]] = {}
# The same text in another colour (a scene in the other theme): glyph outlines do not depend on the colour,
# so an entry is recoloured instead of built again. Keyed by everything but the colour.
_by_shape: dict[str, tuple[str, list[dict], dict[str, np.ndarray]]] = {}
_PLAIN = {"#000000", "#FFFFFF"}  # a Text's strokes and background strokes hold these too: never recoloured
_SHAPE_ONLY_KW = {"disable_ligatures"}  # options that do not colour parts of a Text (t2c, gradient would)

# Attributes rebuilt from the tree rather than stored: links between mobjects, and the SVG path
# objects Manim keeps only to have parsed them.
_LINKS = {"submobjects", "chars", "id_to_vgroup_dict", "path_obj"}
_CLASSES = {"Text": Text, "VGroup": VGroup}  # every other mobject comes back as a plain VMobject
_ENUMS = {e.__name__: e for e in (CapStyleType, LineJointType)}
_ATTR = re.compile(r"^_?[a-z][a-z0-9_]*$")


class _Unstorable(ValueError):
    """A Text holding something other than plain data (then it is not cached on disk)."""


class _Damaged(ValueError):
    """A stored entry that does not have the shape this module writes."""


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


# --- encoding: a mobject tree as (records, arrays) ---------------------------------------------------

def _plain(value: Any) -> Any:
    """A JSON value for an attribute, with colours and enums tagged; raises _Unstorable otherwise."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.floating, np.integer, np.bool_)):
        return value.item()
    if isinstance(value, ManimColor):
        return {"__color__": value.to_hex(with_alpha=True)}
    if isinstance(value, enum.Enum) and type(value).__name__ in _ENUMS:
        return {"__enum__": type(value).__name__, "name": value.name}
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict) and all(isinstance(k, str) and not k.startswith("__") for k in value):
        return {k: _plain(v) for k, v in value.items()}
    raise _Unstorable(type(value).__name__)


def _encode(root: VMobject) -> tuple[list[dict], dict[str, np.ndarray]]:
    records: list[dict] = []
    arrays: dict[str, np.ndarray] = {}

    def visit(mob) -> int:
        index = len(records)
        record: dict[str, Any] = {"class": type(mob).__name__, "attrs": {}, "arrays": [], "children": []}
        records.append(record)
        for name, value in vars(mob).items():
            if name in _LINKS:
                continue
            if not _ATTR.match(name):
                raise _Unstorable(name)
            if isinstance(value, np.ndarray):
                if value.dtype.kind not in "fiub":
                    raise _Unstorable(f"{name}: {value.dtype}")
                arrays[f"{index}.{name}"] = value
                record["arrays"].append(name)
            else:
                record["attrs"][name] = _plain(value)
        record["children"] = [visit(child) for child in mob.submobjects]
        return index

    visit(root)
    return records, arrays


# --- decoding: strict, plain data only ----------------------------------------------------------------

def _value(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        if "__color__" in value:
            if set(value) != {"__color__"} or not re.fullmatch(r"#[0-9A-Fa-f]{8}", str(value["__color__"])):
                raise _Damaged("bad colour")
            return ManimColor(value["__color__"])
        if "__enum__" in value:
            kind = _ENUMS.get(value.get("__enum__"))
            if kind is None or set(value) != {"__enum__", "name"} or value["name"] not in kind.__members__:
                raise _Damaged("bad enum")
            return kind[value["name"]]
        if any(not isinstance(k, str) or k.startswith("__") for k in value):
            raise _Damaged("bad mapping")
        return {k: _value(v) for k, v in value.items()}
    raise _Damaged(f"unexpected {type(value).__name__}")


def _decode(records: Any, arrays: dict[str, np.ndarray]) -> Text:
    if not isinstance(records, list) or not records or not isinstance(records[0], dict) \
            or records[0].get("class") != "Text":
        raise _Damaged("no Text at the root")
    built: list[VMobject | None] = [None] * len(records)
    for index in range(len(records) - 1, -1, -1):  # children always come after their parent
        record = records[index]
        if not isinstance(record, dict) or set(record) != {"class", "attrs", "arrays", "children"}:
            raise _Damaged("bad record")
        children = record["children"]
        if not isinstance(children, list) or any(not isinstance(c, int) or isinstance(c, bool) or not index < c < len(records)
                                                 or built[c] is None for c in children):
            raise _Damaged("bad children")
        cls = _CLASSES.get(record["class"], VMobject)
        mob = cls.__new__(cls)
        attrs = record["attrs"]
        names = record["arrays"]
        if not isinstance(attrs, dict) or not isinstance(names, list) \
                or any(not isinstance(n, str) or not _ATTR.match(n) or n in _LINKS for n in [*attrs, *names]):
            raise _Damaged("bad attribute name")
        state = {name: _value(value) for name, value in attrs.items()}
        for name in names:
            array = arrays.get(f"{index}.{name}")
            if array is None or array.dtype.kind not in "fiub":
                raise _Damaged(f"array {index}.{name}")
            state[name] = array.copy()  # mobjects move their points in place; the cached copy must not move
        if "points" not in state:
            raise _Damaged("no points")
        mob.__dict__.update(state)
        mob.submobjects = [built[c] for c in children]
        for c in children:
            built[c] = None  # a child belongs to one parent (no shared or cyclic links)
        if record["class"] == "Text":
            mob.chars = VGroup(*mob.submobjects)
            mob.id_to_vgroup_dict = {}
        built[index] = mob
    return built[0]


def _recoloured(arrays: dict[str, np.ndarray], old: str, new: str) -> dict[str, np.ndarray]:
    """A Text's arrays with every fill and stroke colour equal to ``old`` set to ``new`` (alphas kept): the
    arrays ``Text(..., color=new)`` has, when neither colour is black or white (tests/scenes/test_contrast.py)."""
    was, now = np.array(ManimColor(old).to_rgb()), np.array(ManimColor(new).to_rgb())
    out = {}
    for name, array in arrays.items():
        array = array.copy()
        if name.endswith("_rgbas") and array.ndim == 2 and array.shape[1] == 4:
            rows = np.all(array[:, :3] == was, axis=1)
            array[rows, :3] = now
        out[name] = array
    return out


def cached_text(s: str, font: str, size: float, colour: str, keep_glyphs: bool = False, **kw) -> Text:
    """``Text(s, font=font, font_size=size, color=colour, **kw)``, from the cache when there (or recoloured from
    the same text in another colour); glyphs merged into one path unless ``keep_glyphs`` (for callers that find
    characters by submobject index)."""
    key = cache_key("text", FORMAT, manim.__version__, s, font, float(size), str(colour), keep_glyphs,
                    sorted(kw.items(), key=str))
    hex_colour = ManimColor(colour).to_hex().upper()
    shape = None
    if set(kw) <= _SHAPE_ONLY_KW and hex_colour not in _PLAIN:
        shape = cache_key("text-shape", FORMAT, manim.__version__, s, font, float(size), keep_glyphs,
                          sorted(kw.items(), key=str))
    entry = _memory.get(key)
    if entry is not None:
        return _decode(*entry)
    cache = ArrayCache("text")
    hit = cache.load(key)
    if hit is not None:
        arrays, meta = hit
        try:
            text = _decode(meta.get("records"), arrays)
            _memory[key] = (meta["records"], arrays)
            if shape is not None:
                _by_shape.setdefault(shape, (hex_colour, meta["records"], arrays))
            return text
        except (_Damaged, ValueError, TypeError, KeyError) as e:
            print(f"neuroreel: text cache entry {cache.path(key).name} is damaged ({e}), rebuilding",
                  file=sys.stderr)
            cache.path(key).unlink(missing_ok=True)
    other = _by_shape.get(shape) if shape is not None else None
    if other is not None:
        was, records, source = other
        arrays = _recoloured(source, was, hex_colour)
    else:
        t = Text(s, font=font, font_size=size, color=colour, **kw)
        t = t if keep_glyphs else merge_glyphs(t)
        try:
            records, arrays = _encode(t)
        except _Unstorable:
            return t  # drawn right, just not cached
    cache.save(key, arrays, {"text": s, "size": size, "records": records})
    _memory[key] = (records, {k: v.copy() for k, v in arrays.items()})
    if shape is not None:
        _by_shape.setdefault(shape, (hex_colour, records, _memory[key][1]))
    return _decode(records, _memory[key][1])
