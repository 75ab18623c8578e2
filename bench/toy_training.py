"""Benchmark the toy-model trainer: batched instances vs a Python loop, and a cold-cache build of the scenes.

    .venv/bin/python bench/toy_training.py            # full: both comparisons + cold-cache scene training
    .venv/bin/python bench/toy_training.py --quick    # comparisons only

Batched = every instance in one tensor program (engine.toy.train); loop = the same instances trained
one at a time with the same code, steps and batch size. Both run on one torch thread (TRAIN_THREADS).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from engine.toy.config import ToyConfig  # noqa: E402
from engine.toy.phase import phase_grid_config, phase_grid_importance  # noqa: E402
from engine.toy.training import train  # noqa: E402


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(name: str, config: ToyConfig, importance: np.ndarray | None) -> tuple[str, int, int, float, float]:
    """(workload, instances, steps, batched seconds, loop seconds) for the same instances and steps."""
    batched = _timed(lambda: train(config, importance=importance))

    def one_at_a_time() -> None:
        for i, p in enumerate(config.feature_probability):
            train(config.replace(feature_probability=(p,)), importance=None if importance is None else importance[i:i + 1])

    loop = _timed(one_at_a_time)
    return name, config.n_instances, config.steps, batched, loop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300, help="steps per comparison run (default: %(default)s)")
    parser.add_argument("--quick", action="store_true", help="skip the cold-cache scene training")
    args = parser.parse_args()

    densities, importances = np.geomspace(0.01, 1, 10), np.geomspace(0.1, 10, 10)
    workloads = [
        ("20->5 relu, 5 sparsities", ToyConfig(steps=args.steps), None),
        ("2->1 phase grid, 10x10x2", phase_grid_config(densities, importances, 2, steps=max(args.steps // 3, 1)),
         phase_grid_importance(densities, importances, 2)),
    ]
    train(ToyConfig(steps=5))   # warm up torch before timing
    print(f"{'workload':28} {'instances':>9} {'steps':>6} {'batched steps/s':>16} {'loop steps/s':>13} {'speed-up':>9}")
    for name, config, importance in workloads:
        name, n, steps, batched, loop = compare(name, config, importance)
        # A "step" trains every instance once: the loop needs n single-instance steps for it.
        print(f"{name:28} {n:9d} {steps:6d} {steps / batched:16.1f} {steps / loop:13.1f} {loop / batched:8.1f}x")

    if not args.quick:
        with tempfile.TemporaryDirectory(prefix="neuroreel-cold-cache-") as cold:
            os.environ["NEUROREEL_CACHE"] = cold
            from engine.toy.experiments import SCENE_CONFIGS, train_scene_run, train_scene_runs
            print(f"\ncold-cache training of what the scenes need ({len(SCENE_CONFIGS)} runs, default settings):")
            total = 0.0
            for name, config in SCENE_CONFIGS.items():
                seconds = _timed(lambda: train_scene_run(name))
                total += seconds
                print(f"  {name:28} {config.n_instances:4d} instances x {config.steps} steps: {seconds:7.1f} s")
            print(f"  {'total':28} {total:7.1f} s")
            print(f"  reloading all of it from the warm cache: {_timed(train_scene_runs):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
