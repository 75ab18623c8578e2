"""Hunt polysemantic neurons in real models: the library facade and the command line.

    python -m engine.polysemantic ACTS.npz --json REPORT.json        # a saved/user activation file
    python -m engine.polysemantic minilm --layer 5 --save-activations acts.npz
    python -m engine.polysemantic digits
    python -m engine.polysemantic hf:gpt2 --concepts cat,fortran,medical

Every neuron is classified dead / broad / monosemantic / polysemantic / artifact against a
permutation null (the rule and its thresholds: ``engine/real/detect.py`` and docs/activations.md),
and every count is printed beside its chance level: the same count with the concept labels
shuffled across whole snippets. ``--concepts`` picks the concepts tested; the source's other
concepts of the same genre stay in the null pool as background (``--no-background`` drops them). Bad inputs are one
line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Sequence

from engine.real.activations import ActivationFileError, ActivationSet, load_activations
from engine.real.detect import DetectionConfig, detect, neuron_stats
from engine.real.grid import GRID_OBJECTS, GridSelection, concept_means, select_grid
from engine.real.probes import ProbeError, matched_background
from engine.real.null import SnippetError
from engine.real.report import ConceptResponse, NeuronReport, PolysemanticReport, TokenHit
from engine.real.sources import DEFAULT_SOURCE, NeuronSource, SourceError, open_source
from engine.text_safety import printable

__all__ = [
    "ActivationFileError", "ActivationSet", "ConceptResponse", "DetectionConfig", "GridSelection",
    "NeuronReport", "NeuronSource", "PolysemanticReport", "ProbeError", "SourceError", "TokenHit",
    "capture", "concept_means", "detect", "grid_neurons", "hunt", "load_activations", "neuron_stats",
    "open_source", "select_grid",
]

class OutputPathError(ValueError):
    """An output file cannot be written where the user asked; the message is one line."""


#: Errors that are the user's input, reported as one line (exit status 2).
USER_ERRORS = (ActivationFileError, SourceError, ProbeError, OutputPathError, SnippetError)


def capture(spec: str = DEFAULT_SOURCE, layer: int | None = None, concepts: Sequence[str] | None = None,
            quiet: bool = True) -> ActivationSet:
    """Activations of one layer of a source (``minilm``, ``digits``, ``hf:...`` or an ``.npz`` path)."""
    return open_source(spec, layer=layer).capture(concepts, quiet=quiet)


def hunt(spec: str = DEFAULT_SOURCE, layer: int | None = None, concepts: Sequence[str] | None = None,
         config: DetectionConfig = DetectionConfig(), quiet: bool = True,
         background: bool = True) -> tuple[ActivationSet, PolysemanticReport]:
    """Capture and classify the tested ``concepts`` (default: all); the source's other concepts are the
    null's background unless ``background`` is False. Returns the activations and the report."""
    acts = capture_with_background(spec, layer, concepts, quiet, background)
    return acts, detect(acts, config, concepts=concepts)


def capture_with_background(spec: str = DEFAULT_SOURCE, layer: int | None = None,
                            concepts: Sequence[str] | None = None, quiet: bool = True,
                            background: bool = True) -> ActivationSet:
    """Activations of the ``concepts`` followed by their background (:func:`background_of`)."""
    source = open_source(spec, layer=layer)
    if concepts is None:
        return source.capture(None, quiet=quiet)
    missing = [c for c in concepts if c not in source.concepts]
    if missing:
        raise SourceError(f"{source.name} has no concept '{missing[0]}' (it knows: {', '.join(source.concepts)})")
    rest = background_of(source, concepts) if background else ()
    return source.capture([*concepts, *rest], quiet=quiet)


def background_of(source: NeuronSource, concepts: Sequence[str]) -> tuple[str, ...]:
    """The null's background for these concepts: for probe texts, the other concepts of the same genre
    (``data/probes/genres.json``: the grid objects' background is the other everyday-English objects,
    so a neuron firing on any English prose answers none of them); for digits and files, every other concept."""
    probes_dir = getattr(source, "probes_dir", None)
    if probes_dir is not None:
        return matched_background(concepts, source.concepts, probes_dir)
    return tuple(c for c in source.concepts if c not in concepts)


def grid_neurons(spec: str = DEFAULT_SOURCE, objects: Sequence[str] = GRID_OBJECTS,
                 layer: int | None = None) -> GridSelection:
    """The 49 grid neurons of one layer for these objects, tested against their matched background."""
    return select_grid(capture_with_background(spec, layer, objects), objects)


# --- command line ------------------------------------------------------------------------------

def _interesting(report: PolysemanticReport, label: str, n: int) -> list[NeuronReport]:
    """Clearest examples first (fewest concepts, then strongest peak), one per concept combination."""
    ranked = sorted(report.with_label(label), key=lambda r: (len(r.concepts), -r.peak, r.index))
    picked, seen = [], set()
    for neuron in ranked:
        if frozenset(neuron.concepts) not in seen:
            seen.add(frozenset(neuron.concepts))
            picked.append(neuron)
    return picked[:n]


def count_line(label: str, chance) -> str:
    """``polysemantic 43 (chance 0.0, max 0)``: a count beside its chance level."""
    return f"{label} {chance.real:,.0f} (chance {chance.mean:,.1f}, max {chance.max:,.0f})"


def print_summary(report: PolysemanticReport, description: str, top: int) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from engine.text_safety import for_rich

    console = Console(width=None if sys.stdout.isatty() else 120, highlight=False)
    null = report.null
    console.print(f"[bold]{for_rich(description)}[/]: {len(report.neurons)} neurons, {report.n_tokens} tokens; "
                  f"tested {len(report.concepts)} concept{'s' if len(report.concepts) != 1 else ''} "
                  f"({for_rich(', '.join(report.concepts))})"
                  + (f", background {for_rich(', '.join(null.background))}" if null.background else ""))
    console.print(f"chance: the same counts with concept labels shuffled across {null.n_units} {escape(null.units)} "
                  f"({null.n_shuffles} shuffles, seed {null.seed}); a response needs p <= {null.corrected_threshold:.3g} "
                  f"({null.n_permutations:,} permutations, alpha {null.alpha:g} / {len(report.concepts)} concepts)")
    for label, chance in report.chance().items():
        console.print("  " + count_line(label, chance).replace(label, f"[bold]{label}[/]", 1))
    for label in ("polysemantic", "artifact", "monosemantic"):
        examples = _interesting(report, label, top)
        if not examples:
            continue
        table = Table(title=f"{label}: {len(examples)} clear examples of {report.counts()[label]}", title_justify="left")
        table.add_column("neuron", no_wrap=True)
        table.add_column("concept", no_wrap=True)
        table.add_column("p", no_wrap=True)
        table.add_column("carried by", no_wrap=True)
        table.add_column("top tokens (activation)")
        for neuron in examples:
            for i, r in enumerate(neuron.responses):
                tokens = ", ".join(f"{h.token!r} {h.activation:.2f}" for h in r.top_tokens)
                carried = r.carried_by if r.carried_by == "content" else f"tokens ({', '.join(r.shared_types)})"
                table.add_row(for_rich(neuron.name) if i == 0 else "", for_rich(r.concept), f"{r.p_value:.4f}",
                              for_rich(carried), for_rich(tokens))
        console.print(table)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine.polysemantic",
                                     description="Classify neurons as dead, monosemantic, polysemantic or artifact.")
    parser.add_argument("source", nargs="?", default=DEFAULT_SOURCE,
                        help="an activation .npz file, or minilm (default), digits, hf:<model-or-folder>")
    parser.add_argument("--layer", type=int, default=None, help="layer to capture (model sources)")
    parser.add_argument("--concepts", default=None,
                        help="comma-separated concepts to test (default: all the source knows); the others stay "
                             "in the null pool as background if they are of the same genre (data/probes/genres.json)")
    parser.add_argument("--no-background", action="store_true",
                        help="shuffle labels among the tested concepts only (no background concepts)")
    parser.add_argument("--json", type=Path, default=None, metavar="REPORT.json", help="write the full report")
    parser.add_argument("--save-activations", type=Path, default=None, metavar="ACTS.npz",
                        help="save the captured activations in the public format (docs/activations.md)")
    parser.add_argument("--top", type=int, default=5, help="examples per class in the printed summary")
    parser.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    concepts = [c.strip() for c in args.concepts.split(",") if c.strip()] if args.concepts else None
    try:
        for path, what in ((args.json, "--json"), (args.save_activations, "--save-activations")):
            _check_writable(path, what)
        source = open_source(args.source, layer=args.layer)
        acts = capture_with_background(args.source, args.layer, concepts, args.quiet, not args.no_background)
        report = detect(acts, concepts=concepts)
    except USER_ERRORS as e:
        print(f"neuroreel: error: {printable(e)}", file=sys.stderr)
        return 2
    outputs = (("--save-activations", args.save_activations, acts.save, "saved activations to"),
               ("--json", args.json, report.save_json, "wrote report to"))
    for flag, path, save, done in outputs:
        if path is None:
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            print(f"{done} {printable(save(path))}", file=sys.stderr)
        except OSError as e:
            print(f"neuroreel: error: {flag} {printable(path)}: cannot write it ({printable(e.strerror or e)}); "
                  f"choose a folder you can write to", file=sys.stderr)
            return 2
    if not args.quiet:
        print_summary(report, source.description, args.top)
    return 0


def _check_writable(path: Path | None, flag: str) -> None:
    """An output path that cannot be written is the user's input error, found before capturing: missing
    folders are created when the report is written, so the nearest existing one must be a writable folder."""
    if path is None:
        return
    if path.is_dir():
        raise OutputPathError(f"{flag} {path}: is a folder; give a file name")
    folder = path.parent
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        raise OutputPathError(f"{flag} {path}: cannot create it under {folder} (not a writable folder); "
                              f"choose another path")


if __name__ == "__main__":
    raise SystemExit(main())
