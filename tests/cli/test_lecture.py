"""render.py --lecture: scenes and cards from a TOML file joined into one MP4 with chapters, one subtitle pair and
one deck; an unchanged re-run writes nothing; a bad file is one line, exit 2, nothing written."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import srt

from pipeline import catalogue, cli
from pipeline.lecture_file import load
from pipeline.subtitles import chapter_title
from pipeline.video import probe

ROOT = Path(__file__).resolve().parents[2]
SUBTITLE = "More features than neurons"
TINY = f"""
resolution = "320x180"
fps = 5

[[part]]
card = "Superposition"
subtitle = "{SUBTITLE}"
seconds = 2

[[part]]
scene = "toy_geometry"
set = {{ steps = 300 }}
duration = 5

[[part]]
scene = "toy_wtw"
set = {{ steps = 300 }}
duration = 5
"""


def render_py(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "render.py"), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def snapshot(folder: Path) -> dict[str, tuple[int, str]]:
    """Every file under ``folder`` with its modification time and contents' digest."""
    return {str(p.relative_to(folder)): (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def tree(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*")) if path.exists() else []


@pytest.fixture(scope="module")
def lecture(tmp_path_factory):
    root = tmp_path_factory.mktemp("lecture")
    toml = root / "tiny.toml"
    toml.write_text(TINY)
    out = root / "out"
    started = time.perf_counter()
    res = render_py("--lecture", str(toml), "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    print(f"tiny lecture rendered in {time.perf_counter() - started:.1f} s")
    return toml, out


def parts(toml: Path, out: Path) -> list[tuple[dict, int]]:
    """Each part's manifest entry and its frames as read back, in lecture order."""
    found = []
    for part in load(toml).parts:
        folder = out / ".lecture" / "tiny" / part.folder
        entry = next(e for e in json.loads((folder / "manifest.json").read_text())["scenes"])
        found.append((entry, probe(folder / entry["file"]).frames))
    return found


def test_one_mp4_whose_frames_are_the_parts_frames(lecture):
    toml, out = lecture
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == ["tiny.mp4", "tiny.srt", "tiny.vtt"]
    info = probe(out / "tiny.mp4")
    assert (info.codec, info.width, info.height, info.fps) == ("h264", 320, 180, 5.0)
    frames = [f for _, f in parts(toml, out)]
    assert frames == [2 * 5 + 1, 5 * 5 + 1, 5 * 5 + 1]  # each part: round(seconds * fps) + 1
    assert info.frames == sum(frames)


def test_a_chapter_per_phase_titled_scene_and_phase_and_one_per_card(lecture):
    toml, out = lecture
    (card, card_frames), (geometry, geometry_frames), (wtw, _) = parts(toml, out)
    info = ffprobe(out / "tiny.mp4")
    titles = [c["tags"]["title"] for c in info["chapters"]]
    assert titles == ["Superposition"] + [f"{e['title']}: {chapter_title(p['name'])}"
                                          for e in (geometry, wtw) for p in e["phases"]]
    starts = [float(c["start_time"]) for c in info["chapters"]]
    ends = [float(c["end_time"]) for c in info["chapters"]]
    assert starts[0] == 0 and starts[1:] == ends[:-1]  # back to back, no gap
    second_part = 1 + len(geometry["phases"])
    assert starts[1] == pytest.approx(card_frames / 5) and starts[second_part] == pytest.approx(
        (card_frames + geometry_frames) / 5)
    assert ends[-1] == pytest.approx(probe(out / "tiny.mp4").frames / 5)
    assert [s["codec_name"] for s in info["streams"] if s["codec_type"] == "subtitle"] == ["mov_text"]


def test_subtitles_parse_back_with_cues_offset_into_later_parts(lecture):
    toml, out = lecture
    (card, card_frames), (geometry, geometry_frames), (wtw, _) = parts(toml, out)
    cues = list(srt.parse((out / "tiny.srt").read_text(encoding="utf-8")))
    assert cues[0].content == SUBTITLE and cues[0].start.total_seconds() == 0
    second = next(c for c in cues if c.content == geometry["phases"][0]["caption"])
    assert second.start.total_seconds() == pytest.approx(card_frames / 5, abs=1e-3)
    third = next(c for c in cues if c.content == wtw["phases"][0]["caption"])
    assert third.start.total_seconds() == pytest.approx((card_frames + geometry_frames) / 5, abs=1e-3)
    assert (out / "tiny.vtt").read_text(encoding="utf-8").startswith("WEBVTT")


def test_one_deck_with_a_slide_per_phase_and_per_card(lecture):
    from manim_slides.config import PresentationConfig
    from pipeline.slides import escape_markdown

    toml, out = lecture
    (card, _), (geometry, _), (wtw, _) = parts(toml, out)
    deck = PresentationConfig.from_file(out / "slides" / "tiny.json")
    assert len(deck.slides) == 1 + len(geometry["phases"]) + len(wtw["phases"])
    assert deck.slides[0].notes == escape_markdown(SUBTITLE)
    assert deck.slides[1].notes == escape_markdown(geometry["phases"][0]["caption"])
    assert tuple(deck.resolution) == (320, 180) and all(s.file.is_file() for s in deck.slides)


def test_an_unchanged_rerun_renders_nothing_and_writes_nothing(lecture):
    toml, out = lecture
    before = snapshot(out)
    res = render_py("--lecture", str(toml), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "rendered" not in res.stderr and "up to date" in res.stderr
    assert snapshot(out) == before


def test_a_reordered_lecture_reuses_every_part(lecture, tmp_path):
    toml, out = lecture
    card, geometry, wtw = TINY.split("[[part]]")[1:]
    moved = tmp_path / "tiny.toml"  # same name: same outputs
    moved.write_text(TINY.split("[[part]]")[0] + "".join("[[part]]" + p for p in (wtw, card, geometry)))
    before = snapshot(out / ".lecture")
    res = render_py("--lecture", str(moved), "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    after = snapshot(out / ".lecture")
    assert {k: v for k, v in after.items() if "joined.json" not in k} == \
        {k: v for k, v in before.items() if "joined.json" not in k}
    titles = [c["tags"]["title"] for c in ffprobe(out / "tiny.mp4")["chapters"]]
    assert titles[0].endswith(": Setup") and "Superposition" in titles
    res = render_py("--lecture", str(toml), "--out", str(out), "--quiet")  # back as the other tests expect
    assert res.returncode == 0, res.stderr


BAD = [
    ("syntax", "part = [ {card = 'x'", "not valid TOML"),
    ("unknown scene", "[[part]]\ncard = 'A'\n[[part]]\nscene = 'no_such_scene'",
     "part 2 (no_such_scene): unknown scene 'no_such_scene'; choose from: grid_minilm"),
    ("unknown setting", "[[part]]\nscene = 'toy_wtw'\nset = { stepz = 3 }",
     "part 1 (toy_wtw): scene 'toy_wtw' has no setting 'stepz'; its settings are:"),
    ("wrong type", "[[part]]\ncard = 'A'\n[[part]]\ncard = 'B'\n[[part]]\nscene = 'toy_wtw'\nduration = 'long'",
     "part 3 (toy_wtw): duration takes a number of seconds"),
    ("wrong setting type", "[[part]]\nscene = 'toy_wtw'\nset = { steps = 'many' }", "part 1 (toy_wtw): set.steps takes"),
    ("missing activations", "[[part]]\nscene = 'poly_bars'\nactivations = 'acts.npz'",
     "part 1 (poly_bars): activation file"),
    ("unknown top-level key", "colour = 'red'\n[[part]]\ncard = 'A'", "unknown key 'colour'; a lecture file's"),
    ("unknown part key", "[[part]]\ncard = 'A'\nduration = 3", "part 1 (card \"A\"): unknown key 'duration'"),
    ("scene and card", "[[part]]\ncard = 'A'\nscene = 'toy_wtw'", "part 1 (toy_wtw): give either scene"),
    ("empty", "quality = 'low'\n", "the lecture has no parts"),
    ("not mp4", "format = 'gif'\n[[part]]\ncard = 'A'", "not one of: mp4"),
    ("blank card", "[[part]]\ncard = ' '", "part 1 (card \" \"): a card needs a title"),
]


@pytest.mark.parametrize("text, needle", [pytest.param(t, n, id=i) for i, t, n in BAD])
def test_a_bad_lecture_file_is_one_line_exit_2_and_writes_nothing(tmp_path, isolated_cache, capsys, text, needle):
    toml = tmp_path / "talk.toml"
    toml.write_text(text)
    out = tmp_path / "out"
    before = tree(isolated_cache)
    assert cli.main(["--lecture", str(toml), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith(f"render.py: error: {toml}: ")
    assert needle in err
    assert not out.exists() and tree(isolated_cache) == before


@pytest.mark.parametrize("args, needle", [
    (["--lecture", "{missing}"], "no such lecture file"),
    (["--lecture", "{tiny}", "--scene", "toy_wtw"], "--scene does not go with --lecture"),
    (["--lecture", "{tiny}", "--quality", "high"], "--quality does not go with --lecture"),
])
def test_the_front_door_refuses_a_missing_file_and_flags_the_file_sets(tmp_path, args, needle):
    (tmp_path / "tiny.toml").write_text(TINY)
    args = [a.format(missing=tmp_path / "nope.toml", tiny=tmp_path / "tiny.toml") for a in args]
    res = render_py(*args, "--out", str(tmp_path / "out"), timeout=60)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert needle in res.stderr and not (tmp_path / "out").exists()


def test_a_duration_too_short_for_a_scenes_phases_is_refused_before_anything_renders(tmp_path):
    toml = tmp_path / "short.toml"
    toml.write_text("fps = 5\n[[part]]\nscene = 'toy_geometry'\nset = { steps = 300 }\nduration = 1")
    res = render_py("--lecture", str(toml), "--out", str(tmp_path / "out"), "--quiet", timeout=120)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "part 1 (toy_geometry): duration 1 leaves some of this scene's 3 phases under 2 frames" in res.stderr
    assert not (tmp_path / "out").exists()


def test_the_shipped_lecture_validates_covers_the_catalogue_and_lasts_about_five_minutes():
    lecture = load(ROOT / "lectures" / "superposition.toml")
    assert 240 <= lecture.planned_seconds() <= 360
    scenes = [p.entry.name for p in lecture.parts if p.card_title is None]
    assert sorted(scenes) == sorted(catalogue.names())
    fps = lecture.render.fps
    for part in lecture.parts:  # each scene keeps at least two frames per phase (phase shares from its fixture)
        fixture = json.loads((ROOT / "tests" / "scenes" / "fixtures" / f"{part.entry.name}.json").read_text())
        durations = [s["duration"] for s in fixture["segments"]]
        assert part.duration * fps * min(durations) / sum(durations) >= 2, part.label


def test_the_title_card_is_in_the_catalogue_but_not_listed():
    assert "title_card" in catalogue.CATALOGUE and "title_card" not in catalogue.names()
    assert "title_card" in catalogue.names(unlisted=True)
