"""render.py for talks and READMEs: subtitles and chapters, slides, talk mode and size budgets, end to end."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import srt

from pipeline import slides, subtitles
from pipeline.video import probe
from tests.cli.test_render_cli import render_py, tree

SMALL = ["--scene", "toy_wtw", "--set", "steps=300", "--resolution", "320x180", "--fps", "5", "--duration", "6"]


def streams_and_chapters(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_chapters", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def talk(tmp_path_factory, isolated_cache) -> Path:
    """One small scene with every talk output: subtitles, slides, talk mode."""
    out = tmp_path_factory.mktemp("talk")
    res = render_py(*SMALL, "--subtitles", "--slides", "--captions", "none", "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    return out


def test_subtitles_are_the_phase_captions_timed_to_the_frames(talk):
    entry = json.loads((talk / "manifest.json").read_text())["scenes"][0]
    assert entry["extras"] == ["toy_wtw.srt", "toy_wtw.vtt"] and entry["captions"] == "none"
    cues = list(srt.parse((talk / "toy_wtw.srt").read_text()))
    captions = [p["caption"] for p in entry["phases"]]
    assert [c.content for c in cues] == [c for i, c in enumerate(captions) if c and (i == 0 or c != captions[i - 1])]
    # Each cue starts on the first frame of its phase: frame round(T * fps) of the 5 fps video.
    starts, t = [], 0.0
    for p in entry["phases"]:
        starts.append(round(t * 5) / 5)
        t += p["duration_s"]
    assert [c.start.total_seconds() for c in cues] == pytest.approx(starts[:len(cues)], abs=1e-3)
    assert cues[-1].end.total_seconds() == pytest.approx(entry["frames"] / 5, abs=1e-3)  # to the last frame
    assert (talk / "toy_wtw.vtt").read_text().startswith("WEBVTT")


def test_the_video_carries_a_subtitle_track_and_a_chapter_per_phase(talk):
    info = streams_and_chapters(talk / "toy_wtw.mp4")
    subs = [s for s in info["streams"] if s["codec_type"] == "subtitle"]
    assert [s["codec_name"] for s in subs] == ["mov_text"] and subs[0]["tags"]["language"] == "eng"
    entry = json.loads((talk / "manifest.json").read_text())["scenes"][0]
    assert [c["tags"]["title"] for c in info["chapters"]] == [subtitles.chapter_title(p["name"]) for p in entry["phases"]]
    assert probe(talk / "toy_wtw.mp4").frames == entry["frames"] == 31  # round(6 * 5) + 1: remuxing lost nothing


def test_slides_are_a_manim_slides_deck_with_captions_as_notes(talk):
    from manim_slides.config import PresentationConfig

    deck = PresentationConfig.from_file(talk / "slides" / "toy_wtw.json")
    entry = json.loads((talk / "manifest.json").read_text())["scenes"][0]
    assert [s.notes for s in deck.slides] == [slides.escape_markdown(p["caption"]) for p in entry["phases"]]
    assert all(s.file.exists() and s.file.is_relative_to(talk / "slides" / "files" / "toy_wtw") for s in deck.slides)
    assert deck.resolution == (320, 180) and str(deck.background_color).upper() == "#111418"
    frames = [probe(s.file).frames for s in deck.slides]
    assert sum(frames) == entry["frames"]  # the clips partition the video


def test_an_unchanged_rerun_reuses_everything_and_a_lost_subtitle_file_is_rendered_again(talk):
    before = {p: p.read_bytes() for p in talk.rglob("*") if p.is_file() and p.name != "manifest.json"}
    res = render_py(*SMALL, "--subtitles", "--slides", "--captions", "none", "--out", str(talk))
    assert res.returncode == 0 and "reused" in res.stderr, res.stderr
    assert {p: p.read_bytes() for p in before} == before
    (talk / "toy_wtw.vtt").unlink()
    res = render_py(*SMALL, "--subtitles", "--slides", "--captions", "none", "--out", str(talk))
    assert res.returncode == 0 and "rendered" in res.stderr, res.stderr
    assert (talk / "toy_wtw.vtt").read_bytes() == before[talk / "toy_wtw.vtt"]


def test_max_size_fits_a_gif_under_its_budget_and_says_what_it_chose(tmp_path, isolated_cache):
    res = render_py(*SMALL, "--resolution", "640x360", "--fps", "10", "--format", "gif", "--max-size", "700KB",
                    "--out", str(tmp_path))
    assert res.returncode == 0, res.stderr
    size = (tmp_path / "toy_wtw.gif").stat().st_size
    assert size <= 700_000  # 1.2 MB without a budget
    line = next(line for line in res.stderr.splitlines() if line.startswith("--max-size:"))
    width = int(line.split(": ")[2].split(" px")[0])
    assert probe(tmp_path / "toy_wtw.gif").width == width < 640  # it had to step down, and says to what


@pytest.mark.parametrize("args, needle", [
    (["--subtitles", "--format", "gif"], "--subtitles needs a video format"),
    (["--slides", "--format", "png"], "--slides needs video clips"),
    (["--max-size", "abc"], "--max-size takes a size like 2MB"),
    (["--max-size", "2MB", "--format", "png"], "--max-size applies to"),
    (["--captions", "subtitles"], "invalid choice"),
    (["--theme", "blue"], "invalid choice"),
])
def test_bad_talk_options_are_one_line_exit_2_and_write_nothing(tmp_path, args, needle):
    out = tmp_path / "out"
    res = render_py(*SMALL, *args, "--out", str(out))
    assert res.returncode == 2 and needle in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert tree(out) == []
