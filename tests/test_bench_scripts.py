"""`make bench` runs exactly the benchmark scripts that exist, and each answers --help (exit 0)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def bench_targets() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    line = re.search(r"^\t@for b in ([\w ]+); do .*bench/\$\$b\.py", makefile, re.M)
    assert line, "the bench target of the Makefile no longer lists its scripts"
    return line.group(1).split()


def test_make_bench_lists_every_benchmark_script():
    scripts = {p.stem for p in (ROOT / "bench").glob("*.py")} - {"common", "grid_baselines", "profile_render"}
    assert set(bench_targets()) == scripts


@pytest.mark.parametrize("name", bench_targets() + ["profile_render"])
def test_benchmark_answers_help(name):
    res = subprocess.run([sys.executable, str(ROOT / "bench" / f"{name}.py"), "--help"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert "usage:" in res.stdout
