"""Throughput of activation capture on CPU: MiniLM over every probe text, no cache.

    python bench/capture.py                 # layer 5, batch 32, torch's default threads
    python bench/capture.py --layer 3 --threads 1 --repeat 3

Prints one line per run (tokens, seconds, tokens/second) and the best run; exits 0.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from engine.real.minilm import DEFAULT_LAYER, open_minilm  # noqa: E402
from engine.real.probes import load_probes  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layer", type=int, default=DEFAULT_LAYER)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    source = open_minilm(layer=args.layer, use_cache=False)
    start = time.perf_counter()
    source.model()
    print(f"model load: {time.perf_counter() - start:.2f} s ({source.description}, "
          f"{torch.get_num_threads()} torch threads)")
    probes = load_probes()
    rates = []
    for run in range(args.repeat):
        start = time.perf_counter()
        acts = source.capture_probes(probes, args.layer, batch_size=args.batch_size)
        seconds = time.perf_counter() - start
        rates.append(acts.n_tokens / seconds)
        print(f"run {run + 1}: {acts.n_tokens} tokens from {len(probes)} concepts in {seconds:.2f} s "
              f"= {rates[-1]:,.0f} tokens/s")
    print(f"best: {max(rates):,.0f} tokens/s (batch {args.batch_size}, layer {args.layer})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
