"""render.py's command line: choose scenes and settings, check everything, then hand over to the run."""
from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline import catalogue
from pipeline.options import OptionError, parse_assignments, parse_colours, settings_for
from engine.text_safety import printable
from pipeline.settings import FORMATS, MAX_PIXELS, MAX_SECONDS, MAX_SIDE, MIN_SIDE, QUALITIES, RenderSettings

EXIT_USAGE = 2

EPILOG = """examples:
  python render.py --list
  python render.py --all                                   every scene, low quality, MP4, into media/
  python render.py --scene toy_wtw --quality high --out talk/
  python render.py --all --format gif --resolution 640x360 --fps 12
  python render.py --scene grid_minilm --objects dog,tree,boat --colours '#E69F00,#56B4E9,#009E73'
  python render.py --scene poly_bars --activations my_model_acts.npz      (format: docs/activations.md)
  python render.py --scene toy_wtw --set steps=3000 --set seed=1 --duration 20
  python render.py --scene toy_wtw --format mov --transparent              for video editors
"""


class UsageError(Exception):
    """Bad input: reported as one line, exit status 2, nothing written."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, no usage dump
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="render.py", description="Render neuroreel scenes of superposition and polysemanticity "
                "from real models to video.", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    what = p.add_argument_group("what to render")
    what.add_argument("--list", action="store_true", help="print every scene name with a one-line description")
    what.add_argument("--scene", action="append", default=[], metavar="NAME",
                      help="render this scene (repeatable), e.g. --scene toy_wtw")
    what.add_argument("--all", action="store_true", help="render every scene in the catalogue")
    how = p.add_argument_group("how (flag names follow Manim's)")
    how.add_argument("-q", "--quality", default="low", choices=list(QUALITIES) + list(QUALITY_SHORTHANDS),
                     help="preset: low 854x480@15 (default), medium 1280x720@30, high 1920x1080@60, 4k 3840x2160@60")
    how.add_argument("-r", "--resolution", metavar="WxH", help="override the preset's size, e.g. --resolution 1280x720")
    how.add_argument("--fps", "--frame_rate", type=int, metavar="N", help="override the preset's frame rate, e.g. --fps 24")
    how.add_argument("--format", default="mp4", choices=list(FORMATS),
                     help="mp4 (H.264, default), gif (palette-optimised), webm, mov (with --transparent), png (last frame)")
    how.add_argument("-t", "--transparent", action="store_true", help="transparent background (use --format mov or png)")
    how.add_argument("--sections", "--save_sections", action="store_true",
                     help="also write one clip per phase into DIR/sections/NAME/, e.g. for editing a lecture")
    talk = p.add_argument_group("talks and READMEs (README: 'Giving a talk')")
    talk.add_argument("--captions", choices=["burned", "none"], default="burned",
                      help="burned: captions in the picture (default); none: talk mode, the content grows into their "
                           "space and captions go to --slides notes and --subtitles")
    talk.add_argument("--theme", choices=["dark", "light"], default="dark", help="dark (default) or light, e.g. for white slide decks")
    talk.add_argument("--subtitles", action="store_true",
                      help="write NAME.srt and NAME.vtt from the phase captions, and put them in the video as a soft "
                           "subtitle track with its phases as chapters (mp4, mov, webm)")
    talk.add_argument("--slides", action="store_true",
                      help="write a manim-slides deck per scene, DIR/slides/NAME.json, one slide per phase "
                           "(implies --sections); present with: manim-slides present NAME --folder DIR/slides")
    talk.add_argument("--max-size", metavar="SIZE", help="fit each GIF/WebM/MP4 under SIZE (e.g. 2MB) by stepping "
                      "frame rate and width down; the run says what it chose")
    talk.add_argument("--lecture", metavar="FILE.toml", help="render a lecture: scenes, title cards and settings from a "
                      "TOML file, joined into one video with chapters, one deck and one subtitle file "
                      "(e.g. lectures/superposition.toml)")
    how.add_argument("-o", "--out", "--media_dir", default="media", metavar="DIR", help="output folder (default media/)")
    how.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                     help="render N scenes at once in separate processes (default: number of cores)")
    how.add_argument("--split", type=int, metavar="N", help="render each scene as up to N pieces on separate "
                     "workers, cut at phase boundaries and joined without re-encoding (default: only when --jobs "
                     "outnumbers the scenes; 1 never splits)")
    how.add_argument("--cluster", metavar="ADDRESS", help="render on a Dask cluster: 'local' starts --jobs worker "
                     "processes here; tcp://HOST:PORT uses a running dask scheduler and its workers (docs/cluster.md; "
                     "give --jobs their thread count); needs: pip install -r requirements-cluster.txt")
    how.add_argument("--force", action="store_true", help="render again even if an unchanged output exists")
    how.add_argument("--quiet", action="store_true", help="print only errors and the failing scenes (for CI logs)")
    data = p.add_argument_group("scene settings (see each scene's settings with a wrong --set name)")
    data.add_argument("--objects", metavar="A,B,C", help="objects/concepts to show, e.g. --objects dog,tree,boat")
    data.add_argument("--source", metavar="SRC", help="data source: minilm (default), digits, hf:NAME_OR_FOLDER, or toy")
    data.add_argument("--activations", metavar="FILE.npz", help="render from your own activation file (docs/activations.md)")
    data.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                      help="any scene setting, e.g. --set steps=3000 --set layer=3")
    data.add_argument("--duration", type=float, metavar="SECONDS", help="stretch or squeeze each video to this length")
    data.add_argument("--colours", "--colors", metavar="#RGB,...", help="object colours, e.g. '#E69F00,#56B4E9,#009E73'")
    many = p.add_argument_group("many machines (README: 'Rendering on many machines')")
    many.add_argument("--shard", metavar="K/N", help="render only share K of N of the work (whole scenes, or pieces "
                      "of them when shards are at least twice the scenes or --split asks), dealt alike on every "
                      "machine; e.g. a CI matrix runs --shard 1/4 ... --shard 4/4, then --join")
    many.add_argument("--join", nargs="+", metavar="DIR", help="assemble the --out folders of all --shard K/N runs "
                      "into --out (which may be one of them): scenes copied, pieces joined; settings come from the "
                      "shards")
    return p


def check_out_dir(out: Path) -> None:
    """Create ``out`` if needed and prove it writable; on failure remove what was created."""
    created: list[Path] = []
    probe = out
    while not probe.exists():
        created.append(probe)
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"output folder '{out}' cannot be created: '{probe}' is a file; choose another --out")
    try:
        for d in reversed(created):
            d.mkdir()
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as e:
        if created:
            shutil.rmtree(created[-1], ignore_errors=True)
        raise UsageError(f"output folder '{out}' is not writable ({e.strerror or e}); choose another --out") from None


QUALITY_SHORTHANDS = {"l": "low", "m": "medium", "h": "high", "k": "4k"}  # Manim's -ql -qm -qh -qk


def _render_settings(args) -> RenderSettings:
    w, h, fps = QUALITIES[QUALITY_SHORTHANDS.get(args.quality, args.quality)]
    if args.resolution:
        m = re.fullmatch(r"(\d{1,9})[xX,](\d{1,9})", args.resolution)
        if not m or not all(MIN_SIDE <= int(v) <= MAX_SIDE and int(v) % 2 == 0 for v in m.groups()) \
                or int(m[1]) * int(m[2]) > MAX_PIXELS:
            raise UsageError(f"--resolution takes WIDTHxHEIGHT with even sides from {MIN_SIDE} to {MAX_SIDE} pixels "
                             f"and at most 8K ({MAX_PIXELS:,} pixels), e.g. 1280x720; not '{args.resolution}'")
        w, h = int(m[1]), int(m[2])
    if args.fps is not None:
        if not 1 <= args.fps <= 240:
            raise UsageError(f"--fps takes a whole number from 1 to 240, not {args.fps}")
        fps = args.fps
    if args.duration is not None and args.duration * fps < 1:
        raise UsageError(f"--duration {args.duration:g} is shorter than one frame at {fps} fps; every phase of "
                         f"a scene needs at least two frames (the error names the least for the scene)")
    if args.transparent and args.format not in ("mov", "png", "webm"):
        raise UsageError(f"--transparent needs a format with an alpha channel: --format mov, webm or png (not {args.format})")
    if args.subtitles and args.format not in ("mp4", "mov", "webm"):
        raise UsageError(f"--subtitles needs a video format that carries a subtitle track: --format mp4, mov or webm "
                         f"(not {args.format})")
    if args.slides and args.format not in ("mp4", "webm", "mov"):
        raise UsageError(f"--slides needs video clips: --format mp4 (or webm, mov), not {args.format}")
    max_size = None
    if args.max_size is not None:
        from pipeline.fit import FORMATS as FIT_FORMATS, parse_size
        if args.format not in FIT_FORMATS:
            raise UsageError(f"--max-size applies to {', '.join(FIT_FORMATS)} output, not --format {args.format}")
        try:
            max_size = parse_size(args.max_size)
        except ValueError as e:
            raise UsageError(str(e)) from None
    return RenderSettings(w, h, fps, format=args.format, transparent=args.transparent,
                          sections=args.sections or args.slides, captions=args.captions, theme=args.theme,
                          subtitles=args.subtitles, max_size=max_size)


def _selected(args) -> list[catalogue.Entry]:
    names = catalogue.names()
    if args.all:
        return [catalogue.CATALOGUE[n] for n in names]
    unknown = [s for s in args.scene if s not in catalogue.CATALOGUE]
    if unknown:
        raise UsageError(f"unknown scene '{unknown[0]}'; choose from: {', '.join(names)} (or --all)")
    return [catalogue.CATALOGUE[s] for s in dict.fromkeys(args.scene)]


def _scene_settings(args, entries) -> dict[str, object]:
    """Each selected scene's settings with the user's choices applied and validated (nothing is built)."""
    assignments = parse_assignments(args.set)
    for flag in ("objects", "source", "activations"):
        if getattr(args, flag) is not None:
            assignments[flag] = getattr(args, flag)
    if args.activations and not Path(args.activations).is_file():
        raise UsageError(f"activation file '{args.activations}' does not exist (format: docs/activations.md)")
    chosen = {}
    for entry in entries:
        settings = settings_for(entry, assignments, strict=len(entries) == 1)
        validate = getattr(settings, "validate", None)
        if validate is not None:
            try:
                validate()
            except ValueError as e:  # SettingsError, ToyConfigError, ActivationFileError: all one line
                raise UsageError(f"{entry.name}: {e}") from None
        _check_source(entry, settings)
        chosen[entry.name] = settings
    used = {k for s in chosen.values() for k in assignments if hasattr(s, k)}
    unused = sorted(set(assignments) - used)
    if unused:  # a setting applies to the selected scenes that have it; none having it is a mistake
        raise UsageError(f"none of the selected scenes has the setting '{unused[0]}'")
    return chosen


def _check_source(entry, settings) -> None:
    """The scene's model source and layer, as far as they can be checked without loading a model:
    a missing Hugging Face model or a layer the model lacks would otherwise fail only once the
    render has started (exit 1, an output folder left behind)."""
    spec = getattr(settings, "source", None)
    if getattr(settings, "activations", None) or not isinstance(spec, str) or spec == "toy":
        return  # a user's file is validated by the scene's settings; the toy model has no layers
    from engine.real.sources import check_spec
    try:
        check_spec(spec, getattr(settings, "layer", None))
    except ValueError as e:  # SourceError and its kinds
        raise UsageError(f"{entry.name}: {e}") from None


@dataclass(frozen=True)
class Plan:
    """A render, checked: what to render, how, and where (finding it builds and writes nothing)."""

    entries: list[catalogue.Entry]
    render: RenderSettings
    scene_settings: dict[str, object]
    colours: list[str] | None
    out: Path


def plan(args: argparse.Namespace) -> Plan:
    """Every check of the command line that needs no model and no output folder (UsageError/OptionError)."""
    if not args.all and not args.scene:
        raise UsageError("nothing to render; pass --scene NAME, --all, or --list to see the scenes")
    if args.jobs < 1:
        raise UsageError(f"--jobs must be at least 1, not {args.jobs}")
    if args.split is not None and not 1 <= args.split <= 64:
        raise UsageError(f"--split takes a number of pieces per scene from 1 to 64, not {args.split}")
    if args.duration is not None and not 0 < args.duration <= MAX_SECONDS:
        raise UsageError(f"--duration takes a number of seconds above 0 and up to {MAX_SECONDS:.0f} "
                         f"(an hour), not {args.duration}")
    entries = _selected(args)
    settings = _render_settings(args)
    colours = parse_colours(args.colours)
    scene_settings = _scene_settings(args, entries)
    if not args.out.strip():  # Path('') is '.', which would scatter outputs into the current folder
        raise UsageError("--out needs a folder name, not an empty string (e.g. --out media)")
    return Plan(entries, settings, scene_settings, colours, Path(args.out))


def _cluster(args) -> str:
    """--cluster checked before anything is built: Dask installed, and a scheduler answering at the address."""
    from pipeline.cluster import ClusterError, check_address
    if args.shard is not None:
        raise UsageError("--cluster and --shard are two ways to spread one render: use one of them")
    try:
        return check_address(args.cluster)
    except ClusterError as e:
        raise UsageError(str(e)) from None


def _shard(args):
    """--shard K/N checked before anything is built (pipeline/shards.py); --lecture and --slides are not sharded."""
    from pipeline.shards import parse_shard
    if args.lecture is not None:
        raise UsageError("--shard spreads --scene/--all renders over machines, not --lecture")
    if args.slides:
        raise UsageError("--slides cannot be sharded: shard and join with --sections, then run the same command "
                         "with --slides and without --shard where you joined (it reuses the videos, writes the decks)")
    try:
        return parse_shard(args.shard)
    except ValueError as e:
        raise UsageError(str(e)) from None


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.list:
            for e in catalogue.CATALOGUE.values():
                if e.listed:
                    print(f"{e.name:<20} {e.description}")
            return 0
        if args.join is not None:
            from pipeline.shard_join import main as join_main  # prints its own one-line errors
            return join_main(args)
        shard = None if args.shard is None else _shard(args)
        if args.lecture is not None:
            from pipeline.lecture import main as lecture_main  # prints its own one-line errors
            return lecture_main(args)
        checked = plan(args)
        cluster = None if args.cluster is None else _cluster(args)
        check_out_dir(checked.out)
    except (UsageError, OptionError) as e:
        print(f"render.py: error: {printable(e)}", file=sys.stderr)
        return EXIT_USAGE
    from pipeline.run import Request, run  # heavy imports only once the input is known to be good
    request = Request(entries=checked.entries, scene_settings=checked.scene_settings, render=checked.render,
                      out=checked.out, jobs=args.jobs, quiet=args.quiet, force=args.force, duration=args.duration,
                      colours=checked.colours, slides=args.slides, split=args.split, cluster=cluster)
    if shard is not None:
        from pipeline.shard_run import run_shard
        return run_shard(request, shard)
    return run(request)
