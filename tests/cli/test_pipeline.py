"""render.py as a pipeline people trust: formats, sections, reuse, repair, interruption, parallelism."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.timeline import Timeline
from tests.cli.test_render_cli import ROOT, ffprobe, render_py, tree

# Tiny renders: the pipeline's behaviour does not depend on size, and CI time does.
FAST = ["--scene", "toy_wtw", "--set", "steps=300", "--resolution", "320x180", "--fps", "5", "--duration", "5"]


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def entry(out: Path, file: str) -> dict:
    return next(s for s in manifest(out)["scenes"] if s["file"] == file)


@pytest.mark.parametrize("fmt, codec, extra", [
    ("gif", "gif", []), ("webm", "vp9", []), ("mov", "qtrle", ["--transparent"]), ("mp4", "h264", []),
])
def test_each_format_reads_back_as_the_manifest_says(tmp_path, fmt, codec, extra):
    res = render_py(*FAST, "--format", fmt, *extra, "--out", str(tmp_path), "--quiet")
    assert res.returncode == 0, res.stderr
    e = entry(tmp_path, f"toy_wtw.{fmt}")
    meta = ffprobe(tmp_path / e["file"])
    num, den = map(int, meta["avg_frame_rate"].split("/"))
    assert meta["codec_name"] == codec == e["codec"]
    assert (meta["width"], meta["height"], round(num / den, 3)) == (e["width"], e["height"], e["fps"]) == (320, 180, 5)
    assert int(meta["nb_read_frames"]) == e["frames"] == 5 * 5 + 1
    if fmt == "mov":
        assert "a" in meta["pix_fmt"]  # an alpha channel for video editors


def test_png_is_the_last_frame_with_transparency(tmp_path):
    from PIL import Image
    res = render_py(*FAST, "--format", "png", "--transparent", "--out", str(tmp_path), "--quiet")
    assert res.returncode == 0, res.stderr
    with Image.open(tmp_path / "toy_wtw.png") as im:
        assert im.size == (320, 180) and im.mode == "RGBA"
        alpha = im.getchannel("A")
        assert alpha.getextrema()[0] == 0  # the background is see-through
        assert alpha.getextrema()[1] == 255  # the drawing is not


def test_sections_write_one_clip_per_phase(tmp_path):
    res = render_py(*FAST, "--sections", "--out", str(tmp_path), "--quiet")
    assert res.returncode == 0, res.stderr
    e = entry(tmp_path, "toy_wtw.mp4")
    phases = [p["name"] for p in e["phases"]]
    assert e["sections"] == [f"sections/toy_wtw/{i:02d}_{p}.mp4" for i, p in enumerate(phases)]
    frames = [int(ffprobe(tmp_path / s)["nb_read_frames"]) for s in e["sections"]]
    assert all(f > 0 for f in frames) and abs(sum(frames) - e["frames"]) <= len(frames)


def test_unchanged_rerun_renders_nothing_and_changes_rerender(tmp_path):
    assert render_py(*FAST, "--out", str(tmp_path), "--quiet").returncode == 0
    video = tmp_path / "toy_wtw.mp4"
    stamp = video.stat().st_mtime_ns
    again = render_py(*FAST, "--out", str(tmp_path), env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert again.returncode == 0 and "reused" in again.stderr
    assert video.stat().st_mtime_ns == stamp
    imported = {line.rpartition("|")[2].strip() for line in again.stderr.splitlines() if line.startswith("import time:")}
    assert not imported & {"torch", "manim"}, "an unchanged re-run should not pay for importing torch or Manim"
    forced = render_py(*FAST, "--out", str(tmp_path), "--force", "--quiet")
    assert forced.returncode == 0 and video.stat().st_mtime_ns != stamp
    changed = render_py(*FAST, "--out", str(tmp_path), "--colours", "#000000,#FFFFFF")
    assert changed.returncode == 0 and "rendered" in changed.stderr


def test_damaged_output_is_rendered_again(tmp_path):
    assert render_py(*FAST, "--out", str(tmp_path), "--quiet").returncode == 0
    video = tmp_path / "toy_wtw.mp4"
    video.write_bytes(video.read_bytes()[: video.stat().st_size // 3])
    res = render_py(*FAST, "--out", str(tmp_path))
    assert res.returncode == 0 and "rendered" in res.stderr
    assert int(ffprobe(video)["nb_read_frames"]) == entry(tmp_path, "toy_wtw.mp4")["frames"]


def test_corrupt_cached_timeline_is_rebuilt(tmp_path, isolated_cache):
    assert render_py(*FAST, "--out", str(tmp_path), "--quiet").returncode == 0
    cached = sorted((isolated_cache / "timelines").glob("toy_wtw-*.npz"))
    assert cached
    for npz in cached:
        npz.write_bytes(npz.read_bytes()[:100])
    res = render_py(*FAST, "--out", str(tmp_path), "--force")
    assert res.returncode == 0, res.stderr
    assert "rebuilding" in res.stderr
    for npz in cached:
        Timeline.load(npz.with_suffix(".json"))  # intact again


def test_parallel_and_serial_renders_agree(tmp_path):
    # Two scenes, so --jobs 2 really renders in a process pool while --jobs 1 renders in-process.
    args = ["--scene", "toy_wtw", "--scene", "toy_phase", "--set", "steps=300", "--resolution", "320x180",
            "--fps", "5", "--duration", "4", "--format", "gif", "--quiet"]
    for jobs, sub in ((1, "serial"), (2, "parallel")):
        res = render_py(*args, "--jobs", str(jobs), "--out", str(tmp_path / sub))
        assert res.returncode == 0, res.stderr

    def stable(doc):
        return sorted(json.dumps(s, sort_keys=True) for s in doc["scenes"])
    assert stable(manifest(tmp_path / "serial")) == stable(manifest(tmp_path / "parallel"))
    assert len(manifest(tmp_path / "serial")["scenes"]) == 2
    for name in ("toy_wtw.gif", "toy_phase.gif"):  # deterministic frames, whichever process drew them
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "parallel" / name).read_bytes()


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores to compare with one")
def test_mp4_bytes_do_not_depend_on_the_machines_cores(tmp_path):
    # A video checked into a repo or hashed in CI must not change because the renderer had more cores.
    one_core = {min(os.sched_getaffinity(0))}
    cmd = [sys.executable, str(ROOT / "render.py"), *FAST, "--quiet", "--out"]
    subprocess.run([*cmd, str(tmp_path / "all")], cwd=ROOT, check=True, capture_output=True)
    subprocess.run([*cmd, str(tmp_path / "one")], cwd=ROOT, check=True, capture_output=True,
                   preexec_fn=lambda: os.sched_setaffinity(0, one_core))
    assert (tmp_path / "all" / "toy_wtw.mp4").read_bytes() == (tmp_path / "one" / "toy_wtw.mp4").read_bytes()


def test_interrupted_render_leaves_nothing_partial_and_a_rerun_completes(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    # Long enough to interrupt mid-render (200 frames), short enough to finish on the re-run.
    args = ["--scene", "toy_wtw", "--set", "steps=300", "--resolution", "320x180", "--fps", "10", "--duration", "20",
            "--out", str(out), "--quiet"]
    proc = subprocess.Popen([sys.executable, str(ROOT / "render.py"), *args], cwd=ROOT, env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while time.time() < deadline and not list(out.glob(".*.partial/**/media/**/*.mp4")):
        time.sleep(0.2)  # wait until Manim is writing partial movie files (of the scene, or of a piece of it)
    assert proc.poll() is None, proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert tree(out) == []  # no partial file, no final file, no manifest entry for what did not finish
    res = render_py(*args)
    assert res.returncode == 0, res.stderr
    assert [s["file"] for s in manifest(out)["scenes"]] == ["toy_wtw.mp4"]


@pytest.mark.parametrize("args, needle", [
    (["--scene", "toy_wtw", "--set", "bogus=1"], "has no setting 'bogus'"),
    (["--scene", "toy_wtw", "--set", "steps=many"], "takes a int"),
    (["--scene", "toy_wtw", "--set", "steps=-5"], "steps"),
    (["--scene", "toy_wtw", "--colours", "red"], "#RRGGBB"),
    (["--scene", "toy_wtw", "--resolution", "big"], "WIDTHxHEIGHT"),
    (["--scene", "toy_wtw", "--format", "gif", "--transparent"], "alpha"),
    (["--scene", "toy_wtw", "--activations", "/no/such/file.npz"], "does not exist"),
])
def test_bad_settings_are_one_line_exit_2_and_write_nothing(tmp_path, args, needle):
    out = tmp_path / "out"
    res = render_py(*args, "--out", str(out), timeout=120)
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and needle in res.stderr
    assert not out.exists()


def test_timeline_key_follows_a_user_files_contents(tmp_path):
    from pipeline.catalogue import CATALOGUE
    from pipeline.timelines import timeline_path
    entry = next(e for e in CATALOGUE.values() if hasattr(e.settings_obj(), "activations"))
    f = tmp_path / "acts.npz"
    f.write_bytes(b"one")
    first = timeline_path(entry, entry.settings_obj(activations=str(f)))
    f.write_bytes(b"two")
    assert timeline_path(entry, entry.settings_obj(activations=str(f))) != first
