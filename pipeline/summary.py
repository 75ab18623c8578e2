"""The table printed at the end of a render: every scene, its status, time and output."""
from __future__ import annotations

from rich.table import Table


def summary_table(req, results: dict, seconds: float) -> Table:
    s = req.render
    table = Table(title=f"neuroreel: {len(results)} scene(s), {s.width}x{s.height}@{s.fps} {s.format}"
                        f" into {req.out}/ in {seconds:.1f} s")
    for col in ("scene", "status", "seconds", "output"):
        table.add_column(col)
    for entry in req.entries:
        r = results.get(entry.name)
        if r is None:
            continue
        status = "[red]FAILED[/]" if not r.ok else ("reused" if r.reused else "[green]rendered[/]")
        table.add_row(r.name, status, f"{r.seconds:.1f}", r.file if r.ok else (r.error or "")[:120])
    return table
