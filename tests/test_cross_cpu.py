"""The fixture tests and golden frames pass under other CPU kernels, as they must on another machine.

Fixtures are written on one machine and checked on every other, whose CPU makes torch, numpy and
their BLAS libraries pick other SIMD kernels, so the engine's floats differ in their last bits (and
training amplifies that). One machine can stand in for another: torch picks its kernels by
``ATEN_CPU_CAPABILITY``, numpy by ``NPY_DISABLE_CPU_FEATURES``, MKL by ``MKL_ENABLE_INSTRUCTIONS`` and
OpenBLAS by ``OPENBLAS_CORETYPE``. This reruns every scene fixture test and golden frame in a subprocess
under the plainest kernels this CPU can be told to use, so each ``make test`` proves the tolerances
in tests/scenes/fixtures.py hold across CPUs, not only on the machine that wrote the fixtures.
"""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Every engine-vs-fixture test and every golden frame; the rest of tests/scenes checks drawing only.
SELECTION = ["tests/scenes", "-k", "fixture_is_what_the_engine_builds or last_frame"]
_PROBE = ("import numpy, torch\n"
          "try:\n    from numpy._core import _multiarray_umath as m\n"
          "except ImportError:\n    from numpy.core import _multiarray_umath as m\n"
          "print(torch.backends.cpu.get_cpu_capability())\n"
          "print(' '.join(f for f in m.__cpu_dispatch__ if m.__cpu_features__.get(f)))\n")


def _kernels(env: dict[str, str] | None = None) -> tuple[str, str]:
    """torch's kernel level and numpy's dispatched SIMD features in a fresh process under ``env``."""
    out = subprocess.run([sys.executable, "-c", _PROBE], env={**os.environ, **(env or {})}, capture_output=True,
                         text=True, check=True, timeout=120).stdout.splitlines()
    return out[0], out[1] if len(out) > 1 else ""


def plainest_kernels() -> dict[str, str]:
    """Environment that switches every library this CPU lets us switch to its baseline kernels."""
    torch_level, numpy_features = _kernels()
    env = {}
    if torch_level != "DEFAULT":
        env["ATEN_CPU_CAPABILITY"] = "default"
    if numpy_features:
        env["NPY_DISABLE_CPU_FEATURES"] = numpy_features
    if platform.machine().lower() in ("x86_64", "amd64"):
        env.update(MKL_ENABLE_INSTRUCTIONS="SSE4_2", OPENBLAS_CORETYPE="Nehalem")
    return env


def test_fixture_tests_and_golden_frames_pass_under_other_cpu_kernels():
    env = plainest_kernels()
    if "ATEN_CPU_CAPABILITY" not in env and "NPY_DISABLE_CPU_FEATURES" not in env:
        pytest.skip("this CPU already runs torch and numpy on their baseline kernels: no others to switch to")
    torch_level, numpy_features = _kernels(env)
    assert torch_level == "DEFAULT" and numpy_features == "", "the kernels were not switched"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SELECTION],
                         cwd=ROOT, env={**os.environ, **env}, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, (f"under {env} the fixture tests or golden frames fail:\n"
                                 + (run.stdout + run.stderr)[-6000:])
    assert " passed" in run.stdout.splitlines()[-1]
