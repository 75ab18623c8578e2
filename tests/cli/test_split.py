"""One scene across several workers: split at phase boundaries, joined without re-encoding, and the outputs
are exactly those of a whole render (the pieces' own correctness is tests/cli/test_pieces.py)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.timeline import Timeline
from pipeline.split import Split, pieces_per_scene, split
from pipeline.settings import RenderSettings
from pipeline.video import probe
from pipeline.worker import RenderJob, RenderResult
from tests.cli.test_render_cli import render_py, tree

SMALL = ["--scene", "toy_wtw", "--set", "steps=300", "--resolution", "320x180", "--fps", "5", "--duration", "6"]


def outputs(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.parent.name != "timelines" and p.name != "manifest.json"}


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whole")
    res = render_py(*SMALL, "--jobs", "1", "--sections", "--subtitles", "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    return out


def test_more_workers_than_scenes_splits_the_scene_and_changes_no_byte(whole, tmp_path):
    res = render_py(*SMALL, "--jobs", "2", "--sections", "--subtitles", "--out", str(tmp_path))
    assert res.returncode == 0 and "rendered in 2 pieces" in res.stderr, res.stderr
    assert outputs(tmp_path) == outputs(whole)  # video, section clips, subtitles: byte for byte
    assert probe(tmp_path / "toy_wtw.mp4").frames == round(6 * 5) + 1
    manifest = [json.loads((d / "manifest.json").read_text())["scenes"][0] for d in (tmp_path, whole)]
    assert manifest[0]["render_key"] == manifest[1]["render_key"] and manifest[0]["sha256"] == manifest[1]["sha256"]
    assert not [p for p in tmp_path.rglob(".*") if p.name.endswith(".partial")]
    # The split render is the same output: a rerun on one worker reuses it.
    res = render_py(*SMALL, "--jobs", "1", "--sections", "--subtitles", "--out", str(tmp_path))
    assert res.returncode == 0 and "reused" in res.stderr, res.stderr


def test_an_explicit_split_into_more_pieces_than_workers_makes_the_same_gif(tmp_path):
    one, three = tmp_path / "one", tmp_path / "three"
    assert render_py(*SMALL, "--format", "gif", "--jobs", "1", "--out", str(one), "--quiet").returncode == 0
    res = render_py(*SMALL, "--format", "gif", "--jobs", "2", "--split", "3", "--out", str(three))
    assert res.returncode == 0 and "in 3 pieces" in res.stderr, res.stderr
    assert (three / "toy_wtw.gif").read_bytes() == (one / "toy_wtw.gif").read_bytes()


@pytest.mark.parametrize("value", ["0", "65", "-2"])
def test_a_bad_split_is_one_line_exit_2_and_writes_nothing(tmp_path, value):
    res = render_py(*SMALL, "--split", value, "--out", str(tmp_path / "out"))
    assert res.returncode == 2 and "--split takes" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert tree(tmp_path / "out") == []


def test_splitting_is_automatic_only_when_workers_would_idle():
    assert pieces_per_scene(workers=2, scenes=12, asked=None) == 1
    assert pieces_per_scene(workers=8, scenes=2, asked=None) == 4
    assert pieces_per_scene(workers=2, scenes=12, asked=3) == 3


def test_a_failed_piece_fails_its_scene_once_and_leaves_nothing(tmp_path, whole):
    timeline = Timeline.load(whole / "timelines" / "toy_wtw.json")
    job = RenderJob("toy_wtw", "scenes.toy_wtw:WtWAcrossSparsity", str(whole / "timelines" / "toy_wtw.json"),
                    str(tmp_path), RenderSettings(320, 180, 5))
    parts = split(job, timeline, 3)
    assert isinstance(parts, Split) and len(parts.jobs) == 3 and parts.stage.is_dir()
    assert [j.phases for j in parts.jobs][0][0] == 0 and parts.jobs[-1].phases[1] == len(timeline.segments)
    failed = parts.add(RenderResult(parts.jobs[1].task, False, 1.0, error="MemoryError: boom"))
    assert not failed.ok and failed.name == "toy_wtw" and "boom" in failed.error
    assert parts.add(RenderResult(parts.jobs[0].task, True, 1.0, file="x.mp4")) is None  # later pieces ignored
    assert tree(tmp_path) == []  # the staging folder is gone
