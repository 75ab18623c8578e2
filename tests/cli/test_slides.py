"""manim-slides decks written by hand: every deck validates in manim-slides 5.x and converts offline."""
from __future__ import annotations

import errno
import json
import os
import re
import socket
import subprocess
from pathlib import Path

import pytest

from pipeline import slides
from pipeline.slides import SlideClip, clips_from_manifest, escape_markdown, sweep_leftovers, write_deck

BG = "#111418"
RES = (160, 90)
TRICKY = "S < 0.9 & *bold* _x_ `code` [a](b) <b>tag</b> | ~~s~~ \\ end\n# not a heading\n1. not a list"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", *args], check=True, timeout=30)


@pytest.fixture(scope="module")
def media(tmp_path_factory) -> Path:
    """A render folder as render.py --sections leaves it: two scenes of phase clips, plus a title card."""
    out = tmp_path_factory.mktemp("render")
    for scene, phases in (("grid", ("intro", "all")), ("bars", ("count", "null", "end"))):
        (out / "sections" / scene).mkdir(parents=True)
        for i, phase in enumerate(phases):
            ffmpeg("-f", "lavfi", "-i", f"testsrc=size={RES[0]}x{RES[1]}:rate=10", "-t", "1",
                   "-c:v", "libx264", "-pix_fmt", "yuv420p", str(out / "sections" / scene / f"{i:02d}_{phase}.mp4"))
    ffmpeg("-f", "lavfi", "-i", f"color=c=0x111418:size={RES[0]}x{RES[1]}", "-frames:v", "1", str(out / "title.png"))
    return out


def entry(media: Path, scene: str) -> dict:
    """A manifest entry of ``scene`` (only the keys slides read)."""
    clips = sorted((media / "sections" / scene).glob("*.mp4"))
    return {"name": scene, "sections": [str(p.relative_to(media)) for p in clips],
            "phases": [{"name": p.stem[3:], "duration_s": 1.0, "caption": f"{scene} {p.stem[3:]}: *n* < 3"}
                       for p in clips]}


def load(json_path: Path):
    from manim_slides.config import PresentationConfig
    return PresentationConfig.from_file(json_path)


def validate(json_path: Path, clips: list[SlideClip]):
    """The deck as manim-slides reads it matches what was asked for; returns it."""
    from pydantic_extra_types.color import Color
    cfg = load(json_path)
    assert len(cfg.slides) == len(clips)
    assert tuple(cfg.resolution) == RES and cfg.background_color == Color(BG)
    for slide, clip in zip(cfg.slides, clips):
        assert slide.file.is_file() and slide.rev_file == slide.file
        assert slide.file.parent == json_path.parent / "files" / json_path.stem
        assert slide.file.read_bytes() == Path(clip.source).read_bytes()
        assert slide.notes == escape_markdown(clip.notes) and slide.type.value == clip.kind
        assert slide.loop == clip.loop
    return cfg


def leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob(".*"))


@pytest.fixture
def offline(monkeypatch):
    """Fail loudly on any name lookup or connection (manim-slides' CLI would otherwise ask PyPI for updates)."""
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket.socket, "connect", lambda self, addr: refuse(addr))
    yield
    assert attempts == []


def convert(folder: Path, *args: str) -> None:
    """The real ``manim-slides`` command line, in-process (so the offline guard covers it)."""
    pytest.importorskip("manim_slides")
    from click.testing import CliRunner
    from manim_slides.__main__ import cli
    res = CliRunner().invoke(cli, ["--silent", "convert", "--folder", str(folder), *args], catch_exceptions=False)
    assert res.exit_code == 0, res.output


def test_one_scene_makes_one_slide_per_phase(media, tmp_path):
    pytest.importorskip("manim_slides")
    clips = clips_from_manifest(media, entry(media, "bars"))
    path = write_deck(tmp_path / "slides", "bars", clips, RES, BG)
    assert path == tmp_path / "slides" / "bars.json"
    cfg = validate(path, clips)
    assert [s.file.name for s in cfg.slides] == ["00_count.mp4", "01_null.mp4", "02_end.mp4"]
    assert json.loads(path.read_text())["slides"][0]["file"] == "slides/files/bars/00_count.mp4"
    assert os.stat(cfg.slides[0].file).st_ino == os.stat(clips[0].source).st_ino  # hard-linked, not copied
    assert (tmp_path / "slides" / "files" / "bars").stat().st_mode & 0o777 == 0o777 & ~_umask()
    assert leftovers(tmp_path) == []


def test_a_lecture_deck_mixes_scenes_and_a_still_title_card(media, tmp_path, offline):
    title = SlideClip(media / "title.png", notes="Superposition: a lecture", name="title", kind="image", loop=True)
    clips = [title, *clips_from_manifest(media, entry(media, "grid")), *clips_from_manifest(media, entry(media, "bars"))]
    pytest.importorskip("manim_slides")
    path = write_deck(tmp_path / "slides", "lecture", clips, RES, BG)
    cfg = validate(path, clips)
    assert [s.type.value for s in cfg.slides] == ["image"] + ["video"] * 5

    convert(tmp_path / "slides", "lecture", str(tmp_path / "talk.html"))
    html = (tmp_path / "talk.html").read_text()
    assert re.findall(r'data-background-image="([^"]+)"', html) == ["talk_assets/00_title.png"]
    assert len(re.findall(r"data-background-video=", html)) == 5

    convert(tmp_path / "slides", "lecture", str(tmp_path / "talk.pptx"))
    import pptx
    deck = pptx.Presentation(str(tmp_path / "talk.pptx"))
    assert len(deck.slides) == len(clips)
    assert [s.notes_slide.notes_text_frame.text for s in deck.slides] == [escape_markdown(c.notes) for c in clips]

    convert(tmp_path / "slides", "lecture", str(tmp_path / "talk.pdf"))
    pages = re.findall(rb"/Type\s*/Page\b", (tmp_path / "talk.pdf").read_bytes())
    assert len(pages) == len(clips)


def test_several_decks_convert_to_one_offline_html_talk(media, tmp_path, offline):
    root = tmp_path / "slides"
    decks = {scene: clips_from_manifest(media, entry(media, scene)) for scene in ("grid", "bars")}
    for scene, clips in decks.items():
        write_deck(root, scene, clips, RES, BG)
    convert(root, "grid", "bars", str(tmp_path / "talk.html"))
    html = (tmp_path / "talk.html").read_text()
    # Clips are copied beside the page (not embedded), prefixed per deck; reveal.js itself comes from a CDN link.
    assets = sorted(p.name for p in (tmp_path / "talk_assets").iterdir())
    expected = [f"s{i}_{Path(c.source).name}" for i, clips in enumerate(decks.values()) for c in clips]
    assert assets == sorted(expected)
    assert re.findall(r'data-background-video="([^"]+)"', html) == [f"talk_assets/{n}" for n in expected]
    assert html.count('<aside class="notes" data-markdown>') == 5
    assert escape_markdown(decks["grid"][0].notes) in html


def test_notes_show_user_text_literally(media, tmp_path):
    markdown_it = pytest.importorskip("markdown_it")
    clip = SlideClip(media / "title.png", notes=TRICKY, name="t", kind="image")
    root = tmp_path / "slides"
    write_deck(root, "notes", [clip], RES, BG)
    notes = json.loads((root / "notes.json").read_text())["slides"][0]["notes"]
    md = markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])
    html = md.render(notes)
    assert re.findall(r"<(?!/?p>)[a-z/]", html) == []  # no emphasis, code, link, heading, list or raw tag
    text = re.sub(r"</?p>", "", html).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    assert text.replace("&amp;", "&").strip() == TRICKY
    assert "<" not in notes  # the HTML export pastes notes unescaped: no tag can open there
    if importable("manim_slides"):
        assert load(root / "notes.json").slides[0].notes == notes


def test_a_rerun_with_fewer_clips_leaves_no_stale_slide(media, tmp_path):
    root = tmp_path / "slides"
    clips = clips_from_manifest(media, entry(media, "bars"))
    write_deck(root, "talk", clips, RES, BG)
    write_deck(root, "talk", clips[1:2], RES, BG)
    assert sorted(p.name for p in (root / "files" / "talk").iterdir()) == ["00_null.mp4"]
    assert len(json.loads((root / "talk.json").read_text())["slides"]) == 1
    assert leftovers(tmp_path) == []
    if importable("manim_slides"):
        validate(root / "talk.json", clips[1:2])


def test_a_failed_write_keeps_the_old_deck_and_leaves_nothing(media, tmp_path, monkeypatch):
    root = tmp_path / "slides"
    clips = clips_from_manifest(media, entry(media, "bars"))
    write_deck(root, "talk", clips[:1], RES, BG)
    before = (root / "talk.json").read_text(), sorted(p.name for p in (root / "files" / "talk").iterdir())
    calls = []

    def fail_second(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        os.link(src, dst)

    monkeypatch.setattr(slides, "_link_or_copy", fail_second)
    with pytest.raises(OSError, match="No space"):
        write_deck(root, "talk", clips, RES, BG)
    assert ((root / "talk.json").read_text(), sorted(p.name for p in (root / "files" / "talk").iterdir())) == before
    assert leftovers(tmp_path) == []


def test_clips_are_copied_across_filesystems(media, tmp_path, monkeypatch):
    def cross_device(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    clips = clips_from_manifest(media, entry(media, "grid"))
    write_deck(tmp_path / "slides", "grid", clips, RES, BG)
    copy = tmp_path / "slides" / "files" / "grid" / "00_intro.mp4"
    assert copy.read_bytes() == clips[0].source.read_bytes()
    assert os.stat(copy).st_ino != os.stat(clips[0].source).st_ino


def test_leftovers_of_a_killed_writer_are_swept(tmp_path):
    root = tmp_path / "slides"
    dead = root / "files" / ".talk.999999999.abcd_123.partial"  # no such PID
    mine = root / "files" / f".talk.{os.getpid()}.abcd_123.partial"
    for d in (dead, mine):
        d.mkdir(parents=True)
    (root / ".talk.json.999999999.abcd_123.tmp").write_text("{}")
    assert sorted(p.name for p in sweep_leftovers(root)) == [".talk.999999999.abcd_123.partial",
                                                             ".talk.json.999999999.abcd_123.tmp"]
    assert mine.is_dir() and not dead.exists()


@pytest.mark.parametrize("name", ["", ".", "..", "../up", "a/b", "a\\b", ".hidden", "two\nlines", "x" * 101, None])
def test_a_bad_deck_name_is_one_clear_line(media, tmp_path, name):
    clip = SlideClip(media / "title.png", kind="image")
    with pytest.raises(ValueError, match="plain file name") as err:
        write_deck(tmp_path / "slides", name, [clip], RES, BG)
    assert "\n" not in str(err.value)
    assert not (tmp_path / "slides").exists()


@pytest.mark.parametrize("change, match", [
    ({"sections": []}, "without per-phase clips; render it again with --sections"),
    ({"phases": []}, "3 phase clips but 0 phases"),
    ({"sections": ["sections/bars/99_gone.mp4"] * 3}, "is missing"),
])
def test_a_manifest_entry_without_clips_is_one_clear_line(media, change, match):
    bad = entry(media, "bars") | change
    with pytest.raises(ValueError, match=match) as err:
        clips_from_manifest(media, bad)
    assert "'bars'" in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("kwargs, match", [
    ({"clips": []}, "at least one clip"),
    ({"resolution": (0, 90)}, "two positive integers"),
    ({"background": "#12345"}, "must be a colour"),
    ({"clips": [SlideClip(Path("/no/such.mp4"))]}, "does not exist"),
])
def test_bad_deck_arguments_are_refused_before_anything_is_written(media, tmp_path, kwargs, match):
    args = {"clips": [SlideClip(media / "title.png", kind="image")], "resolution": RES, "background": BG} | kwargs
    with pytest.raises(ValueError, match=match):
        write_deck(tmp_path / "slides", "talk", **args)
    assert not (tmp_path / "slides").exists()


def test_a_still_must_be_an_image_file(media):
    with pytest.raises(ValueError, match="a still must be one of"):
        SlideClip(media / "sections" / "grid" / "00_intro.mp4", kind="image")


def importable(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
