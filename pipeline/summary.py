"""The table printed at the end of a render: every scene, its status, time and output.

User text (the output folder, error messages quoting concept names or paths) is shown, never
obeyed: control characters are made visible and rich markup escaped (engine.text_safety).
"""
from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from engine.text_safety import printable, for_rich

CELL_CHARS = 120  # a failed scene's error in the table; the whole message follows the table


def summary_table(req, results: dict, seconds: float) -> Group:
    """The table, then the full error of every failed scene whose message the table cuts (it would lose its fix)."""
    s = req.render
    table = Table(title=f"neuroreel: {len(results)} scene(s), {s.width}x{s.height}@{s.fps} {s.format}"
                        f" into {for_rich(req.out)}/ in {seconds:.1f} s")
    for col in ("scene", "status", "seconds", "output"):
        table.add_column(col)
    errors = []
    for entry in req.entries:
        r = results.get(entry.name)
        if r is None:
            continue
        status = "[red]FAILED[/]" if not r.ok else ("reused" if r.reused else "[green]rendered[/]")
        if r.ok and r.pieces > 1:
            status += f" in {r.pieces} pieces"
        if r.ok:
            output = for_rich(r.file)
        else:
            error = printable(r.error or "")
            output = for_rich(error)
            if len(error) > CELL_CHARS:
                output = for_rich(error[:CELL_CHARS - 3]) + "..."
                errors.append(Text(f"{r.name}: {error}"))  # Text: never parsed as markup
        table.add_row(for_rich(r.name), status, f"{r.seconds:.1f}", output)
    return Group(table, *errors)
