"""Size budgets (pipeline/fit.py): units, the ladder, each format stepping down to fit, and no debris."""
from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest

from pipeline import gallery
from pipeline.fit import (Attempt, FitError, MIN_BYTES, describe, encode, fit, ladder, parse_size,
                          probe_source)
from pipeline.formats import mp4_to_gif
from pipeline.video import probe

SECONDS = 2
CODECS = {"gif": "gif", "webm": "vp9", "mp4": "h264"}


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True)


@pytest.fixture(scope="module")
def src(tmp_path_factory) -> Path:
    """A low-quality-sized render stand-in: testsrc2 is busy enough that a GIF of it must step down."""
    path = tmp_path_factory.mktemp("fit") / "scene.mp4"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=854x480:rate=15", "-t", str(SECONDS), "-c:v", "libx264",
            "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(path))
    return path


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize("text, expected", [
    ("2MB", 2_000_000), ("2 MB", 2_000_000), ("1.5MB", 1_500_000), ("500KB", 500_000), ("800kB", 800_000),
    ("2mb", 2_000_000), ("2M", 2_000_000), ("2MiB", 2 * 1024**2), ("1.5 mib", int(1.5 * 1024**2)),
    ("1000000", 1_000_000), ("3G", 3_000_000_000), ("0.5GB", 500_000_000), (" 64KiB ", 65_536),
    ("10KB", MIN_BYTES), (".5MB", 500_000), ("2e6", 2_000_000), ("1e6B", 1_000_000)])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("text, says", [
    ("abc", "'abc'"), ("", "''"), ("2 TB", "'2 TB'"), ("2MBs", "'2MBs'"), ("2,000,000", "'2,000,000'"),
    ("MB", "'MB'"), ("nan", "'nan'"), ("inf", "'inf'"), ("1e400", "'1e400'"), ("2 M B", "'2 M B'"),
    ("0", "positive"), ("-2MB", "positive"), ("0KB", "positive"), ("9999", "too small"), ("5KB", "too small")])
def test_parse_size_rejects(text, says):
    with pytest.raises(ValueError) as e:
        parse_size(text)
    message = str(e.value)
    assert says in message and "2MB" in message and "\n" not in message


def test_ladder():
    # The gallery's hand-made steps are the ladder's from 480 px at 10 fps, and the low preset's
    # ladder runs into them: a --max-size GIF is the gallery's whenever that much stepping is needed.
    assert ladder(480, 10, "gif") == gallery.ATTEMPTS
    low = ladder(854, 15)
    assert low == ((854, 15), (720, 15), (720, 12), (640, 12), (640, 10), *gallery.ATTEMPTS)
    assert ladder(1280, 30)[:3] == ((1280, 30), (1280, 24), (960, 24))
    # Every rung lowers exactly one of width and rate; widths stay even; nothing is scaled up.
    for rungs in (low, ladder(1920, 60), ladder(301, 12.5), ladder(1000, 29.97, "gif")):
        for (w0, f0), (w1, f1) in zip(rungs, rungs[1:]):
            assert (w1 < w0) != (f1 < f0) and w1 <= w0 and f1 <= f0 and w1 % 2 == 0
    odd = ladder(301, 12.5)
    assert odd[:3] == ((300, 12.5), (300, 12), (300, 10)) and all(w <= 300 and f <= 12.5 for w, f in odd)
    assert ladder(1920, 60, "gif")[0] == (1920, 30) and ladder(1920, 60, "webm")[0] == (1920, 60)
    assert ladder(200, 5) == ((200, 5),)  # already below both floors: only the source itself


@pytest.mark.parametrize("fmt", ["gif", "webm", "mp4"])
def test_fits_after_stepping_down(src, tmp_path, fmt):
    full = tmp_path / f"full.{fmt}"
    encode(src, full, fmt)
    budget = int(full.stat().st_size * 0.85)
    dst = tmp_path / f"out.{fmt}"
    choice = fit(src, dst, fmt, budget)

    assert choice.bytes == dst.stat().st_size <= budget and not choice.copied
    # The first rung is the source at full size (same bytes: encodes are deterministic), and the
    # rung kept is the first that fitted: every one tried before it was over budget.
    assert choice.tried[0] == Attempt(854, 15, full.stat().st_size)
    assert len(choice.tried) >= 2 and all(a.bytes > budget for a in choice.tried[:-1])
    assert choice.tried[-1] == Attempt(choice.width, choice.fps, choice.bytes)
    assert list(ladder(854, 15, fmt)).index((choice.width, choice.fps)) >= 1
    info = probe(dst)
    assert (info.codec, info.width, info.height % 2) == (CODECS[fmt], choice.width, 0)
    assert info.frames == round(choice.fps * SECONDS)  # GIF delays are whole centiseconds; count frames
    if fmt != "gif":
        assert info.fps == choice.fps and info.pix_fmt == "yuv420p"
    if fmt == "mp4":
        data = dst.read_bytes()
        assert data.index(b"moov") < data.index(b"mdat")  # faststart: playable while downloading
    assert _names(tmp_path) == {full.name, dst.name}
    assert describe(choice) == (f"out.{fmt}: {choice.width} px, {choice.fps:g} fps, "
                                f"{choice.bytes / 1e3:.1f} KB (budget {budget / 1e3:.1f} KB)")


def test_source_that_fits_is_kept(src, tmp_path):
    gif = fit(src, tmp_path / "big.gif", "gif", 50_000_000)
    assert (gif.width, gif.fps, len(gif.tried)) == (854, 15, 1) and not gif.copied
    assert probe(tmp_path / "big.gif").frames == 15 * SECONDS
    # An MP4 already under budget is the source itself, byte for byte.
    mp4 = fit(src, tmp_path / "same.mp4", "mp4", 2_000_000)
    assert mp4.copied and (mp4.width, mp4.fps) == (854, 15)
    assert (tmp_path / "same.mp4").read_bytes() == src.read_bytes()
    assert describe(mp4) == f"same.mp4: 854 px, 15 fps, {mp4.bytes / 1e3:.1f} KB (budget 2.00 MB), source kept"
    assert _names(tmp_path) == {"big.gif", "same.mp4"}


def test_impossible_budget_leaves_nothing(src, tmp_path):
    dst = tmp_path / "scene.gif"
    with pytest.raises(FitError) as e:
        fit(src, dst, "gif", MIN_BYTES)
    message = str(e.value)
    assert message.startswith("scene.gif: even at 320 px and 6 fps") and "--duration" in message
    assert "\n" not in message and isinstance(e.value, ValueError)
    assert _names(tmp_path) == set()
    # A previous file of that name is left as it was, not truncated.
    dst.write_bytes(b"previous")
    with pytest.raises(FitError):
        fit(src, dst, "gif", MIN_BYTES, attempts=((320, 6),))
    assert dst.read_bytes() == b"previous" and _names(tmp_path) == {"scene.gif"}


def test_png_and_bad_budgets_are_refused(src, tmp_path):
    for fmt, budget in (("png", 2_000_000), ("mov", 2_000_000), ("gif", 0)):
        with pytest.raises(ValueError):
            fit(src, tmp_path / f"x.{fmt}", fmt, budget)
    assert _names(tmp_path) == set()


def test_gallery_make_gif_goes_through_fit(src, tmp_path, monkeypatch):
    first = tmp_path / "first.gif"
    mp4_to_gif(src, first, width=480, fps=10)
    monkeypatch.setattr(gallery, "MAX_BYTES", first.stat().st_size - 1)
    dst = tmp_path / "scene.gif"
    width, fps, size = gallery.make_gif(src, dst)
    assert (width, fps) == gallery.ATTEMPTS[1] and size == dst.stat().st_size < first.stat().st_size
    # The same bytes as the gallery's own conversion at that rung gave before the refactor.
    ref = tmp_path / "ref.gif"
    mp4_to_gif(src, ref, width=width, fps=fps)
    assert dst.read_bytes() == ref.read_bytes()
    assert _names(tmp_path) == {"first.gif", "scene.gif", "ref.gif"}


def test_transparent_webm_keeps_alpha(tmp_path):
    clear = tmp_path / "clear.webm"
    _ffmpeg("-f", "lavfi", "-i", "testsrc2=size=160x120:rate=10,format=yuva420p,geq=lum='p(X,Y)':a='X'",
            "-t", "1", "-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p", str(clear))
    assert probe_source(clear).alpha
    dst = tmp_path / "small.webm"
    choice = fit(clear, dst, "webm", clear.stat().st_size - 1, attempts=((80, 10),))  # so no copy
    with av.open(str(dst)) as container:
        stream = container.streams.video[0]
        assert stream.metadata.get("alpha_mode") == "1" and stream.codec_context.width == choice.width == 80


def test_skipped_rungs_could_not_have_fitted(src, tmp_path):
    full = tmp_path / "full.gif"
    encode(src, full, "gif")
    budget = int(full.stat().st_size * 0.3)
    choice = fit(src, tmp_path / "out.gif", "gif", budget)
    rungs = ladder(854, 15, "gif")
    measured = {(a.width, a.fps) for a in choice.tried}
    skipped = [r for r in rungs[:rungs.index((choice.width, choice.fps))] if r not in measured]
    assert skipped  # scaling from a far-too-large attempt spared these encodes...
    for width, fps in skipped:  # ...and rightly: each is over budget
        encode(src, tmp_path / "check.gif", "gif", width, fps)
        assert (tmp_path / "check.gif").stat().st_size > budget
