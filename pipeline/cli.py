"""render.py's command line: choose scenes, build their timelines, render them, record a manifest."""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from pipeline import catalogue
from pipeline.settings import QUALITIES, RenderSettings

EXIT_USAGE = 2

EPILOG = """examples:
  python render.py --list
  python render.py --all                                  # every scene, low quality, into media/
  python render.py --scene toy_wtw --quality high --out talk/
"""


class UsageError(Exception):
    """Bad input: reported as one line, exit status 2, nothing written."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="render.py", description="Render neuroreel scenes from real models to video.",
                epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--list", action="store_true", help="print every scene name with a one-line description")
    p.add_argument("--scene", action="append", default=[], metavar="NAME",
                   help="render this scene (repeatable), e.g. --scene toy_wtw")
    p.add_argument("--all", action="store_true", help="render every scene in the catalogue")
    p.add_argument("--quality", default="low", choices=list(QUALITIES),
                   help="Manim preset: low 854x480@15, medium 1280x720@30, high 1920x1080@60, 4k 3840x2160@60 (default low)")
    p.add_argument("--out", default="media", metavar="DIR", help="output folder (default media/), e.g. --out talk/")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                   help="render N scenes at once in separate processes (default: number of cores)")
    p.add_argument("--quiet", action="store_true", help="print only errors (for CI logs)")
    return p


def _check_out_dir(out: Path) -> list[Path]:
    """Create ``out`` if needed and prove it writable; return the folders created (removed again on failure)."""
    created: list[Path] = []
    probe = out
    while not probe.exists():
        created.append(probe)
        probe = probe.parent
    try:
        if not probe.is_dir():
            raise UsageError(f"output folder '{out}' cannot be created: '{probe}' is a file; choose another --out")
        for d in reversed(created):
            d.mkdir()
        with tempfile.TemporaryFile(dir=out):
            pass
    except UsageError:
        raise
    except OSError as e:
        for d in created:
            shutil.rmtree(d, ignore_errors=True)
        raise UsageError(f"output folder '{out}' is not writable ({e.strerror or e}); choose another --out") from None
    return created


def _selected(args) -> list[catalogue.Entry]:
    names = catalogue.names()
    if args.all:
        return [catalogue.CATALOGUE[n] for n in names]
    unknown = [s for s in args.scene if s not in catalogue.CATALOGUE]
    if unknown:
        raise UsageError(f"unknown scene '{unknown[0]}'; choose from: {', '.join(names)} (or --all)")
    return [catalogue.CATALOGUE[s] for s in dict.fromkeys(args.scene)]


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.list:
            for e in catalogue.CATALOGUE.values():
                print(f"{e.name:<20} {e.description}")
            return 0
        if not args.all and not args.scene:
            raise UsageError("nothing to render; pass --scene NAME, --all, or --list to see the scenes")
        if args.jobs < 1:
            raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
        entries = _selected(args)
        out = Path(args.out)
        _check_out_dir(out)
    except UsageError as e:
        print(f"render.py: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    from pipeline.run import run  # heavy imports only once the input is known to be good
    return run(entries, RenderSettings.from_quality(args.quality), out, jobs=args.jobs, quiet=args.quiet)
