"""Scene customisation from the command line: flags and ``--set field=value`` onto settings dataclasses.

Settings fields are typed; values are parsed by the field's type (tuples from comma lists), and
any mistake becomes one line naming the scene, the field, and what it accepts.
"""
from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from typing import Any

from pipeline.catalogue import Entry
from pipeline.settings import MAX_SECONDS

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class OptionError(ValueError):
    """A customisation the user asked for does not fit a scene; one line."""


def _parse(value: str, hint: Any, field: str) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value.lower() in ("none", "") and type(None) in args:
            return None
        hint = next(a for a in args if a is not type(None))
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is tuple:
        inner = args[0] if args else str
        return tuple(_parse(v.strip(), inner, field) for v in value.split(",") if v.strip())
    if hint is bool:
        if value.lower() in ("1", "true", "yes", "on"):
            return True
        if value.lower() in ("0", "false", "no", "off"):
            return False
        raise OptionError(f"{field} takes true or false, not '{value}'")
    try:
        parsed = hint(value) if hint in (int, float, str) else value
    except ValueError:
        raise OptionError(f"{field} takes a {hint.__name__}, not '{value}'") from None
    if hint is float and not math.isfinite(parsed):  # inf and nan pass float() but no setting means them
        raise OptionError(f"{field} takes a finite number, not '{value}'")
    if hint in (int, float) and field.endswith("_seconds") and not 0 < parsed <= MAX_SECONDS:
        raise OptionError(f"{field} takes a number of seconds above 0 and up to {MAX_SECONDS:.0f}, not '{value}'")
    return parsed


def settings_for(entry: Entry, assignments: dict[str, str], strict: bool) -> Any:
    """The entry's settings with the user's assignments applied (only fields it has, unless strict)."""
    cls = entry.settings_obj().__class__
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    extra = {}
    for key, value in assignments.items():
        if key not in fields:
            if strict:
                raise OptionError(f"scene '{entry.name}' has no setting '{key}'; its settings are: {', '.join(sorted(fields))}")
            continue
        extra[key] = _parse(value, hints[key], f"{entry.name}.{key}")
    return entry.settings_obj(**extra)


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise OptionError(f"--set takes field=value (e.g. --set steps=2000), not '{pair}'")
        out[key.strip()] = value.strip()
    return out


def parse_colours(text: str | None) -> list[str] | None:
    if not text:
        return None
    colours = [c.strip() for c in text.split(",") if c.strip()]
    bad = [c for c in colours if not HEX_COLOUR.match(c)]
    if bad:
        raise OptionError(f"--colours takes #RRGGBB values separated by commas (e.g. #E69F00,#56B4E9), not '{bad[0]}'")
    return colours
