"""User-provided text made safe to print: shown, never obeyed.

Concept names, file paths, model names and the error messages that quote them reach the terminal.
A terminal obeys escape codes (colours, cursor moves, a changed window title) and rich parses
``[tags]`` as markup (a stray ``[/red]`` is a MarkupError). :func:`printable` makes control
characters visible (``\\x1b``), :func:`for_rich` also escapes markup. No dependencies beyond the
standard library (rich is imported only when asked for), so the engine and the pipeline can use it.
"""
from __future__ import annotations

import re

# C0 and C1 controls (newline and tab included: a message stays one line), DEL, and the Unicode
# line separators and bidirectional overrides that reorder what a reader sees.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(match: re.Match) -> str:
    ch = match.group()
    if ch in _NAMED:
        return _NAMED[ch]
    return f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"


def printable(text: object) -> str:
    """``str(text)`` with every control character replaced by its escape, e.g. ESC -> ``\\x1b``."""
    return _UNSAFE.sub(_visible, str(text))


def for_rich(text: object) -> str:
    """:func:`printable`, with rich markup escaped, for tables, titles and ``console.print``."""
    from rich.markup import escape
    return escape(printable(text))
