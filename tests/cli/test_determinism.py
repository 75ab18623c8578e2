"""The same inputs give the same bytes: a render repeated in fresh processes is byte-identical.

Manim encodes plays in background threads; with several plays in flight the same render gave other
bytes, and in a few frames other pixels, from run to run (pipeline/settings.py), which a golden-frame
test on the last frame cannot see.
"""
from __future__ import annotations

import hashlib

from tests.cli.test_render_cli import render_py

ARGS = ["--scene", "toy_wtw", "--set", "steps=300", "--resolution", "320x180", "--fps", "15", "--duration", "12",
        "--jobs", "1", "--quiet", "--force"]


def test_a_render_repeated_in_fresh_processes_is_byte_identical(tmp_path):
    digests = set()
    for i in range(4):  # with 4 encoders in flight, 4 runs gave 3 different files here
        assert render_py(*ARGS, "--out", str(tmp_path / f"run{i}")).returncode == 0
        digests.add(hashlib.sha256((tmp_path / f"run{i}" / "toy_wtw.mp4").read_bytes()).hexdigest())
    assert len(digests) == 1
