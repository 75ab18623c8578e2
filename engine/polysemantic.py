"""Hunt polysemantic neurons in real models: the library facade and the command line.

    python -m engine.polysemantic ACTS.npz --json REPORT.json        # a saved/user activation file
    python -m engine.polysemantic minilm --layer 5 --save-activations acts.npz
    python -m engine.polysemantic digits
    python -m engine.polysemantic hf:gpt2 --concepts cat,fortran,medical

Every neuron is classified dead / monosemantic / polysemantic / artifact (the rule and its
thresholds: ``engine/real/detect.py`` and docs/activations.md). Bad inputs are one line on
stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from engine.real.activations import ActivationFileError, ActivationSet, load_activations
from engine.real.detect import DetectionConfig, detect, neuron_stats
from engine.real.grid import GRID_OBJECTS, GridSelection, concept_means, select_grid
from engine.real.probes import ProbeError
from engine.real.report import ConceptResponse, NeuronReport, PolysemanticReport, TokenHit
from engine.real.sources import DEFAULT_SOURCE, NeuronSource, SourceError, open_source

__all__ = [
    "ActivationFileError", "ActivationSet", "ConceptResponse", "DetectionConfig", "GridSelection",
    "NeuronReport", "NeuronSource", "PolysemanticReport", "ProbeError", "SourceError", "TokenHit",
    "capture", "concept_means", "detect", "grid_neurons", "hunt", "load_activations", "neuron_stats",
    "open_source", "select_grid",
]

#: Errors that are the user's input, reported as one line (exit status 2).
USER_ERRORS = (ActivationFileError, SourceError, ProbeError)


def capture(spec: str = DEFAULT_SOURCE, layer: int | None = None, concepts: Sequence[str] | None = None,
            quiet: bool = True) -> ActivationSet:
    """Activations of one layer of a source (``minilm``, ``digits``, ``hf:...`` or an ``.npz`` path)."""
    return open_source(spec, layer=layer).capture(concepts, quiet=quiet)


def hunt(spec: str = DEFAULT_SOURCE, layer: int | None = None, concepts: Sequence[str] | None = None,
         config: DetectionConfig = DetectionConfig(), quiet: bool = True) -> tuple[ActivationSet, PolysemanticReport]:
    """Capture and classify: the activations and the report on every neuron."""
    acts = capture(spec, layer, concepts, quiet)
    return acts, detect(acts, config)


def grid_neurons(spec: str = DEFAULT_SOURCE, objects: Sequence[str] = GRID_OBJECTS,
                 layer: int | None = None) -> GridSelection:
    """The 49 grid neurons of one layer for these objects; the source's other concepts are the background."""
    source = open_source(spec, layer=layer)
    missing = [o for o in objects if o not in source.concepts]
    if missing:
        raise SourceError(f"{source.name} has no concept '{missing[0]}' (it knows: {', '.join(source.concepts)})")
    background = [c for c in source.concepts if c not in objects]
    return select_grid(source.capture([*objects, *background]), objects)


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


def print_summary(report: PolysemanticReport, description: str, top: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(width=None if sys.stdout.isatty() else 120)
    counts = report.counts()
    console.print(f"[bold]{description}[/]: {len(report.neurons)} neurons, {report.n_tokens} tokens, "
                  f"{len(report.concepts)} concepts ({', '.join(report.concepts)})")
    console.print("  ".join(f"{label} [bold]{count}[/]" for label, count in counts.items()))
    for label in ("polysemantic", "artifact", "monosemantic"):
        examples = _interesting(report, label, top)
        if not examples:
            continue
        table = Table(title=f"{label}: {len(examples)} clear examples of {counts[label]}", title_justify="left")
        table.add_column("neuron", no_wrap=True)
        table.add_column("concept", no_wrap=True)
        table.add_column("carried by", no_wrap=True)
        table.add_column("top tokens (activation)")
        for neuron in examples:
            for i, r in enumerate(neuron.responses):
                tokens = ", ".join(f"{h.token!r} {h.activation:.2f}" for h in r.top_tokens)
                table.add_row(neuron.name if i == 0 else "", r.concept, r.carried_by, tokens)
        console.print(table)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m engine.polysemantic",
                                     description="Classify neurons as dead, monosemantic, polysemantic or artifact.")
    parser.add_argument("source", nargs="?", default=DEFAULT_SOURCE,
                        help="an activation .npz file, or minilm (default), digits, hf:<model-or-folder>")
    parser.add_argument("--layer", type=int, default=None, help="layer to capture (model sources)")
    parser.add_argument("--concepts", default=None, help="comma-separated concepts (default: all the source knows)")
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
        source = open_source(args.source, layer=args.layer)
        acts = source.capture(concepts, quiet=args.quiet)
        report = detect(acts)
    except USER_ERRORS as e:
        print(f"neuroreel: error: {e}", file=sys.stderr)
        return 2
    if args.save_activations:
        print(f"saved activations to {acts.save(args.save_activations)}", file=sys.stderr)
    if args.json:
        print(f"wrote report to {report.save_json(args.json)}", file=sys.stderr)
    if not args.quiet:
        print_summary(report, source.description, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
