"""``python -m engine.toy``: train one toy config and write its weights to an .npz.

Errors in the flags are one line on stderr and exit status 2; nothing is written then.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import numpy as np

from engine.toy.config import CORRELATIONS, MODELS, ToyConfig, ToyConfigError

PROG = "python -m engine.toy"
# ToyConfig field -> the flag that sets it, so a config error names what the user typed.
FLAG_OF_FIELD = {"model": "--model", "n_features": "--features", "n_hidden": "--hidden",
                 "importance_decay": "--importance", "feature_probability": "--feature-probability",
                 "correlation": "--correlation", "steps": "--steps", "batch_size": "--batch-size", "lr": "--lr",
                 "weight_decay": "--weight-decay", "seed": "--seed", "n_snapshots": "--snapshots"}


class UsageError(Exception):
    """Bad command line: reported as one line, exit status 2."""


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:   # argparse would print the whole usage block
        raise UsageError(message)


def _probabilities(text: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers in (0, 1]") from None
    if not values:
        raise argparse.ArgumentTypeError("give at least one value in (0, 1]")
    return values


def build_parser() -> argparse.ArgumentParser:
    d = ToyConfig()
    p = _OneLineParser(prog=PROG, description="Train a toy model of superposition (Elhage et al. 2022) "
                       "and save its weights, one instance per feature probability.")
    p.add_argument("--model", choices=MODELS, default=d.model, help="default: %(default)s")
    p.add_argument("--features", type=int, default=d.n_features, help="number of input features (default: %(default)s)")
    p.add_argument("--hidden", type=int, default=d.n_hidden, help="hidden dimensions / neurons (default: %(default)s)")
    p.add_argument("--importance", type=float, default=d.importance_decay,
                   help="importance decay: feature i has importance IMPORTANCE**i, 1 = equal (default: %(default)s)")
    p.add_argument("--feature-probability", type=_probabilities, default=d.feature_probability,
                   help="comma-separated 1-S values in (0, 1], one instance each (default: 1,0.3,0.1,0.03,0.01)")
    p.add_argument("--correlation", choices=CORRELATIONS, default=d.correlation,
                   help="pairs of features that co-occur or never do (default: %(default)s)")
    p.add_argument("--steps", type=int, default=d.steps, help="default: %(default)s")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help="default: %(default)s")
    p.add_argument("--lr", type=float, default=d.lr, help="AdamW learning rate (default: %(default)s)")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay, help="default: %(default)s")
    p.add_argument("--seed", type=int, default=d.seed, help="default: %(default)s")
    p.add_argument("--snapshots", type=int, default=d.n_snapshots,
                   help="weight snapshots kept over training (default: %(default)s)")
    p.add_argument("--out", type=Path, required=True, help="output .npz")
    p.add_argument("--no-cache", action="store_true", help="train even if data/cache holds this run")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument("--progress", action="store_true", help="progress bar even when stderr is not a terminal")
    shown.add_argument("--quiet", action="store_true", help="print nothing on success")
    return p


def config_from_args(args: argparse.Namespace) -> ToyConfig:
    config = ToyConfig(model=args.model, n_features=args.features, n_hidden=args.hidden,
                       importance_decay=args.importance, feature_probability=args.feature_probability,
                       correlation=args.correlation, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
                       weight_decay=args.weight_decay, seed=args.seed, n_snapshots=args.snapshots)
    try:
        config.validate()
    except ToyConfigError as e:
        raise UsageError(f"{FLAG_OF_FIELD.get(e.field, e.field)}={e.value!r} is invalid: {e.valid}") from None
    return config


def check_writable(out: Path) -> None:
    """Fail before training, not after, if --out cannot be written."""
    if out.is_dir():
        raise UsageError(f"--out {out} is a directory; give a file path such as run.npz")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise UsageError(f"--out {out}: directory {parent} does not exist")
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=f".{out.name}.", suffix=".probe"):
            pass
    except OSError as e:
        raise UsageError(f"--out {out} is not writable ({e.strerror})") from None


def run_arrays(run) -> dict[str, np.ndarray]:
    """What the .npz holds: final weights, the training history, and the config as JSON."""
    arrays = {"W": run.W, "b": run.b, "feature_probability": run.feature_probability, "importance": run.importance}
    if run.W2 is not None:
        arrays["W2"] = run.W2
    if run.b_hidden is not None:
        arrays["b_hidden"] = run.b_hidden
    arrays.update(run.to_arrays())
    arrays["config"] = np.array(run.config.to_json())
    return arrays


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        config = config_from_args(args)
        check_writable(args.out)
    except UsageError as e:
        print(f"{PROG}: error: {e}", file=sys.stderr)
        return 2
    from engine.cache import write_npz_atomic
    from engine.toy.measure import dimensions_per_feature, n_represented
    from engine.toy.training import train, train_cached

    progress = not args.quiet and (args.progress or sys.stderr.isatty())
    try:
        run = (train if args.no_cache else train_cached)(config, progress=progress)
        write_npz_atomic(args.out, run_arrays(run))
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted; nothing written", file=sys.stderr)
        return 130
    except OSError as e:
        print(f"{PROG}: error: cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return 1
    if not args.quiet:
        summary = {"out": str(args.out), "instances": config.n_instances,
                   "represented": n_represented(run.W).tolist(),
                   "dimensions_per_feature": np.round(dimensions_per_feature(run.W), 3).tolist()}
        print(json.dumps(summary))
    return 0
