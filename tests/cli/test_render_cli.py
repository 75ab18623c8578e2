"""render.py as a user meets it: listing, rendering with a manifest, and refusing bad input cleanly."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.timeline import Timeline
from pipeline import catalogue

ROOT = Path(__file__).resolve().parents[2]


def render_py(*args: str, timeout: float = 600, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "render.py"), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env=os.environ | (env or {}))


def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_frames", "-show_entries",
                          "stream=codec_name,pix_fmt,width,height,avg_frame_rate,nb_read_frames", "-of", "json",
                          str(path)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)["streams"][0]


def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


def test_list_names_every_scene_with_a_description():
    res = render_py("--list")
    assert res.returncode == 0
    lines = res.stdout.strip().splitlines()
    assert [line.split()[0] for line in lines] == catalogue.names()
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)


def test_checking_every_scenes_settings_and_cache_key_imports_neither_torch_nor_manim():
    # What an unchanged `render.py --all` does for each scene before it finds the video up to date.
    code = ("import sys\nfrom pipeline.catalogue import CATALOGUE\nfrom pipeline.timelines import timeline_path\n"
            "for e in CATALOGUE.values():\n    s = e.settings_obj()\n    getattr(s, 'validate', lambda: None)()\n"
            "    timeline_path(e, s)\n"
            "print(sorted({'torch', 'manim'} & set(sys.modules)))")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "[]"


@pytest.mark.parametrize("args, needle", [
    (["--scene", "no_such_scene"], "toy_wtw"),  # names the valid choices
    (["--all", "--quality", "ultra"], "'low', 'medium', 'high', '4k'"),
    (["--all", "--out", "{file}/sub"], "is a file"),
    ([], "--all"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, isolated_cache, args, needle):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    out = tmp_path / "never"
    args = [a.replace("{file}", str(blocker)) for a in args]
    if "--out" not in args:
        args += ["--out", str(out)]
    before = tree(isolated_cache), tree(tmp_path)
    res = render_py(*args, timeout=60)
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert needle in res.stderr
    assert (tree(isolated_cache), tree(tmp_path)) == before


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    earlier = {"name": "earlier_scene", "file": "earlier_scene.mp4", "width": 1, "height": 1, "fps": 1, "frames": 1,
               "duration_s": 1, "source": "an earlier run", "timeline": "timelines/earlier_scene.json"}
    (out / "manifest.json").write_text(json.dumps({"format": "neuroreel.manifest", "version": 1, "scenes": [earlier]}))
    res = render_py("--scene", "toy_wtw", "--quality", "low", "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    return out, json.loads((out / "manifest.json").read_text())


def test_render_writes_the_scene_to_dir_name_mp4(rendered):
    out, doc = rendered
    assert (out / "toy_wtw.mp4").is_file()
    assert not [p for p in tree(out) if ".partial" in p or p.endswith(".tmp")], tree(out)


def test_video_metadata_matches_the_manifest(rendered):
    out, doc = rendered
    entry = next(s for s in doc["scenes"] if s["name"] == "toy_wtw")
    meta = ffprobe(out / entry["file"])
    num, den = map(int, meta["avg_frame_rate"].split("/"))
    assert meta["codec_name"] == "h264" and meta["pix_fmt"] == "yuv420p"  # plays in browsers
    # avg_frame_rate is frames / the container's duration, which MP4 time bases round (466 frames
    # can read as 15.000157 fps): equal to the nominal rate within 1e-4.
    assert (meta["width"], meta["height"]) == (entry["width"], entry["height"]) == (854, 480)
    assert num / den == pytest.approx(entry["fps"], rel=1e-4) and entry["fps"] == 15
    assert int(meta["nb_read_frames"]) == entry["frames"]
    assert entry["duration_s"] == pytest.approx(entry["frames"] / entry["fps"], abs=0.1)


def test_manifest_keeps_earlier_entries_and_points_at_the_timeline(rendered):
    out, doc = rendered
    assert {s["name"] for s in doc["scenes"]} == {"earlier_scene", "toy_wtw"}
    entry = next(s for s in doc["scenes"] if s["name"] == "toy_wtw")
    timeline = Timeline.load(out / entry["timeline"])
    assert entry["source"] == timeline.source and "20 features" in entry["source"]
    # Frame-exact: frames at t = 0, 1/fps, ..., duration (so narration stays in sync).
    assert entry["frames"] == round(timeline.duration * entry["fps"]) + 1
