"""Power of the real-neuron detector: how many tokens per concept a response of a given size needs.

    .venv/bin/python bench/power.py            # MiniLM block 5, cat/car/house + background (dog, tree, boat)
    .venv/bin/python bench/power.py --quick    # fewer draws and neurons (a smoke run)

Effect size r = a concept's rate (active mass per token) / the rate of the rest of the pool.
Prints three markdown tables (method: engine/real/power.py; results: docs/activations.md, "Power"):
A. real responses, binned by r on all the shipped text, re-tested on k snippets per concept, with
   the false-positive rate of the same draws with labels shuffled;
B. responses of known size r planted into real snippets (labels stripped, resampled), for one and
   for two objects, up to 400 snippets per concept;
C. tokens per concept for 80% power, by r and by how often the neuron fires.
Seeded; about a minute on one busy core.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # a shared 2-core machine: one BLAS thread
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bench.common import table  # noqa: E402
from engine.real.detect import DetectionConfig  # noqa: E402
from engine.real.power import UnitArrays, observed_power, planted_power, tokens_for, unit_arrays  # noqa: E402

OBJECTS = ("cat", "car", "house")
BINS = (1.5, 2.0, 3.0, 5.0, np.inf)
OBSERVED_KS = (5, 10, 15, 20, 0)  # 0: all snippets
RATIOS = (1.0, 1.5, 2.0, 3.0, 5.0)
PLANTED_KS = (5, 10, 20, 27, 50, 100, 200, 400)
DENSITY = (0.0, 0.01, 0.02, 0.04, 1.0)  # fraction of the pool's tokens on which the neuron is active


def _pct(x: float) -> str:
    return "-" if np.isnan(x) else f"{100 * x:.0f}%"


def _tokens(x: float, most: float) -> str:
    return f"> {most:,.0f}" if np.isinf(x) else f"{x:,.0f}"


def _bin_name(lo: float, hi: float) -> str:
    return f"r > {lo:g}" if np.isinf(hi) else f"{lo:g} <= r < {hi:g}"


def print_observed(live: UnitArrays, tested: np.ndarray, config: DetectionConfig, reps: int) -> None:
    """Table A: real responses by their r on all the text, re-tested on k snippets per concept."""
    obs = observed_power(live, tested, BINS, OBSERVED_KS, reps, config, seed=1)
    head = ("responses (r on all text)", "n", *(f"k={k} ({t:,.0f} tok)" if k else f"all ({t:,.0f} tok)"
                                                for k, t in zip(obs.ks, obs.tokens)))
    rows = [(_bin_name(BINS[b], BINS[b + 1]), f"{obs.responses[b]:,}", *map(_pct, obs.power[b]))
            for b in range(len(BINS) - 1)]
    rows.append(("two-object neurons: both found", f"{obs.two_object_neurons}", *map(_pct, obs.two_objects)))
    rows.append(("shuffled labels: per test", "", *(f"{100 * x:.1f}%" for x in obs.false_positive)))
    rows.append(("shuffled labels: per neuron", "", *(f"{100 * x:.1f}%" for x in obs.family_false_positive)))
    print(f"\nA. Real responses re-tested on k snippets per concept ({reps} draws each; at 'all' the draws "
          f"differ only in the null's seed, the detector uses one)\n")
    print(table(rows, head))


def print_planted(live: UnitArrays, sample: np.ndarray, n_concepts: int, config: DetectionConfig, reps: int) -> None:
    """Tables B and C: planted responses of known r on the sampled neurons, and the tokens 80% power needs."""
    plant = planted_power(live.take(np.arange(live.n), sample), RATIOS, PLANTED_KS, reps, n_concepts=n_concepts,
                          n_tested=len(OBJECTS), config=config, seed=2)
    head = ("planted r", *(f"k={k} ({t:,.0f} tok)" for k, t in zip(plant.ks, plant.tokens)))
    for name, power in (("one object", plant.one), ("two objects (both found)", plant.two)):
        print(f"\nB. Planted responses, {name}: power over {len(sample)} real neurons "
              f"(r = 1: the false-positive rate)\n")
        print(table([(f"{r:g}", *(_pct(x) for x in power[i].mean(axis=1))) for i, r in enumerate(plant.ratios)], head))

    density = (live.active.sum(axis=0) / live.tokens.sum())[sample]
    groups = [(f"active on {100 * lo:g}-{100 * hi:g}% of tokens" if hi < 1 else f"active on >= {100 * lo:g}%",
               (density >= lo) & (density < hi)) for lo, hi in zip(DENSITY[:-1], DENSITY[1:])]
    groups.insert(0, ("all neurons", np.ones(len(sample), dtype=bool)))
    head = ("neurons", "n", *(f"r={r:g}" for r in plant.ratios[1:]), *(f"r={r:g}, two" for r in plant.ratios[1:]))
    rows = [(name, f"{int(m.sum())}",
             *(_tokens(tokens_for(power[i][:, m].mean(axis=1), plant.tokens), plant.tokens[-1])
               for power in (plant.one, plant.two) for i in range(1, len(RATIOS))))
            for name, m in groups]
    print("\nC. Tokens per concept for 80% power (planted; 'two': both responses of a two-object neuron)\n")
    print(table(rows, head))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer draws and neurons")
    args = parser.parse_args(argv)
    import torch
    torch.set_num_threads(1)
    from engine.polysemantic import capture_with_background

    start = time.perf_counter()
    config = DetectionConfig()
    acts = capture_with_background("minilm", args.layer, OBJECTS)
    data, tested, stats = unit_arrays(acts, OBJECTS, config)
    per_concept = [(c, int((acts.concept == c).sum()), int((data.concept == i).sum()))
                   for i, c in enumerate(sorted(acts.concepts))]
    print(f"MiniLM block {args.layer}: {acts.n_neurons} neurons ({int(stats.dead.sum())} dead), {acts.n_tokens:,} tokens, "
          f"{data.n} snippets of {data.tokens.mean():.1f} tokens on average; tested {', '.join(OBJECTS)}, "
          f"background {', '.join(stats.background)}; alpha {config.alpha} / {len(OBJECTS)}, "
          f"{config.n_permutations:,} permutations")
    print("per concept (tokens, snippets): " + ", ".join(f"{c} {t} / {s}" for c, t, s in per_concept))

    alive = np.flatnonzero(~stats.dead)
    live = data.take(np.arange(data.n), alive)
    print_observed(live, tested, config, reps=4 if args.quick else 20)
    sample = np.sort(np.random.default_rng(0).choice(len(alive), min(128 if args.quick else 512, len(alive)),
                                                     replace=False))
    print_planted(live, sample, len(acts.concepts), config, reps=2 if args.quick else 4)
    print(f"\n{time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
