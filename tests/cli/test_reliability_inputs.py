"""Bad input and hostile content (issue 13, section 2): one clear line, the right exit status, nothing
written, nothing run. Every case here was a defect: a traceback, a late failure, a crash in the
summary, code run from the cache, or gigabytes allocated. Replayed by hand: docs/reliability-inputs.md.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import re
import resource
import subprocess
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from engine.timeline import Segment, Timeline, TimelineError

ROOT = Path(__file__).resolve().parents[2]
MEMORY_CAP = 6 * 1024**3  # address space for the commands below: a regression fails here, not in the machine


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                          preexec_fn=_capped)


def one_line(res: subprocess.CompletedProcess, status: int = 2) -> str:
    lines = res.stderr.strip().splitlines()
    assert res.returncode == status and len(lines) == 1 and "Traceback" not in res.stderr, res.stderr[-2000:]
    return lines[0]


def activation_file(path: Path, concepts=("cat", "dog", "boat"), source: str = "test model") -> Path:
    rng = np.random.default_rng(0)
    acts = rng.random((6 * len(concepts), 8)).astype(np.float32)
    np.savez(path, activations=acts, concept=np.repeat(np.array(concepts), 6),
             token=np.array([f"t{i}" for i in range(len(acts))]), source=np.array(source))
    return path


# --- 2: nothing read from disk is unpickled ------------------------------------------------------------

def test_no_module_unpickles_what_it_reads():
    unsafe = re.compile(r"pickle\.loads?\(|allow_pickle\s*=\s*True|torch\.load\((?![^)]*weights_only\s*=\s*True)")
    files = [ROOT / "render.py", *(p for d in ("engine", "pipeline", "scenes") for p in (ROOT / d).rglob("*.py"))]
    found = [f"{p.relative_to(ROOT)}:{m.group()}" for p in files for m in unsafe.finditer(p.read_text())]
    assert found == []
    # The one audited use: a Dask task is pickle.loads applied to bytes the run pickled itself in the same
    # call (pipeline/cluster.py), so that the scheduler needs no copy of the project.
    uses = [line.strip() for p in files for line in p.read_text().splitlines() if re.search(r"\bpickle\.loads\b", line)
            and not line.lstrip().startswith(("#", "(the task", '"""', "``"))]
    assert all("submit(pickle.loads, pickle.dumps(" in u for u in uses), uses


class _RunsCode:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (str(self.marker),)


def test_a_crafted_text_cache_entry_runs_nothing_and_is_rebuilt(tmp_path, monkeypatch, capfd):
    import manim
    from manim import tempconfig

    from engine.cache import ArrayCache, cache_key
    from scenes import style, text_cache

    monkeypatch.setenv("NEUROREEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(text_cache, "_memory", {})
    marker = tmp_path / "code-ran"
    key = cache_key("text", text_cache.FORMAT, manim.__version__, "hostile", style.FONT, 24.0, style.TEXT, False, [])
    blob = pickle.dumps(_RunsCode(marker))  # an entry with a valid checksum, as anyone who can write the cache can make
    ArrayCache("text").save(key, {"pickle": np.frombuffer(blob, np.uint8)}, {"text": "hostile", "size": 24})
    with tempconfig({"pixel_width": 160, "pixel_height": 90}):
        text = text_cache.cached_text("hostile", style.FONT, 24, style.TEXT)
    assert not marker.exists()
    assert text.width > 0 and len(text.submobjects) == 1
    assert "damaged" in capfd.readouterr().err


# --- 7, 8, 13: user text in the summary and the error line ----------------------------------------------

def _summary(out: str, error: str) -> str:
    from rich.console import Console

    from pipeline.settings import RenderSettings
    from pipeline.summary import summary_table
    from pipeline.worker import RenderResult

    req = SimpleNamespace(render=RenderSettings(854, 480, 15), out=out,
                          entries=[SimpleNamespace(name="poly_bars"), SimpleNamespace(name="toy_wtw")])
    results = {"poly_bars": RenderResult("poly_bars", False, 0.1, error=error),
               "toy_wtw": RenderResult("toy_wtw", True, 1.0, file="toy_wtw.mp4")}
    buf = io.StringIO()
    Console(file=buf, width=200, force_terminal=False).print(summary_table(req, results, 1.0))
    return buf.getvalue()


def test_markup_and_escape_codes_in_user_text_are_shown_not_obeyed():
    text = _summary("talk[/b]", "no neuron of model [/red] \x1b[31mx\x1b]0;title\x07 responds")
    assert "talk[/b]/" in text and "model [/red]" in text
    assert "\x1b" not in text and "\x07" not in text and "\\x1b[31mx" in text


def test_an_error_the_table_cuts_is_printed_in_full():
    fix = "download it once with `hf download gpt2` or pass a local folder"
    text = _summary("media", "timeline: SourceError: model 'gpt2' is not in the local cache; " + "x" * 100 + fix)
    assert fix in text.replace("\n", "")


def test_the_error_line_shows_escape_codes_instead_of_sending_them(tmp_path):
    res = run("render.py", "--scene", "poly_bars", "--objects", "cat,\x1b[31mred", "--out", str(tmp_path / "o"))
    line = one_line(res)
    assert "\x1b" not in line and "\\x1b[31mred" in line


# --- 9, 12, 19: checked before anything is made ----------------------------------------------------------

@pytest.mark.parametrize("args, needle", [
    (["--scene", "poly_bars", "--set", "layer=99"], "layer 99 does not exist"),
    (["--scene", "poly_bars", "--source", "digits", "--objects", "1,2,3", "--set", "layer=7"], "layer 7 does not exist"),
    (["--scene", "poly_bars", "--source", "hf:does-not-exist"], "hf download does-not-exist"),
    (["--scene", "poly_bars", "--source", "hf:"], "no model given after 'hf:'"),
    (["--scene", "poly_bars", "--source", "hf:{empty}"], "has no config.json"),
    (["--scene", "poly_bars", "--source", "hf:{config_only}"], "no weights"),
    (["--scene", "poly_bars", "--source", "hf:[/red]"], "'[/red]'"),
    (["--scene", "toy_phase", "--set", "fill_seconds=inf"], "finite number"),
    (["--scene", "toy_wtw", "--set", "training_seconds=1e9"], "up to 3600"),
    (["--scene", "toy_wtw", "--duration", "inf"], "up to 3600"),
    (["--scene", "toy_wtw", "--duration", "1e9"], "up to 3600"),
    (["--scene", "toy_wtw", "--duration", "0.001"], "shorter than one frame"),
    (["--scene", "toy_wtw", "--resolution", "100000x100000"], "from 16 to 7680"),
    (["--scene", "toy_wtw", "--resolution", "7680x7680"], "at most 8K"),
])
def test_bad_choices_are_one_line_exit_2_and_nothing_is_written(tmp_path, args, needle):
    (tmp_path / "empty").mkdir()
    (tmp_path / "config_only").mkdir()
    (tmp_path / "config_only" / "config.json").write_text('{"model_type": "bert"}')
    args = [a.format(empty=tmp_path / "empty", config_only=tmp_path / "config_only") for a in args]
    out = tmp_path / "out"
    res = run("render.py", *args, "--out", str(out))
    assert needle in one_line(res)
    assert not out.exists()


def test_a_duration_that_leaves_a_phase_without_its_frames_names_the_least():
    from pipeline.timelines import retimed

    tl = Timeline("k", "t", "s", [Segment("a", 1.0), Segment("b", 3.0)])
    with pytest.raises(TimelineError, match=r"give --duration 0\.54 or more"):
        retimed(tl, 0.5, 15)  # phase a would get 0.125 s: under two frames at 15 fps
    assert retimed(tl, 0.54, 15).duration == pytest.approx(0.54)


def test_the_shortest_duration_allowed_has_the_promised_frame_count(tmp_path):
    from pipeline.formats import read_back
    from pipeline.settings import RenderSettings
    from pipeline.timelines import MIN_FRAMES_PER_PHASE, retimed
    from pipeline.worker import RenderJob, render
    from tests.scenes import fixtures

    fps = 15
    tl = fixtures.load("toy_geometry")
    least = MIN_FRAMES_PER_PHASE * tl.duration / (fps * min(s.duration for s in tl.segments))
    duration = np.ceil(least * 100) / 100
    path = retimed(tl, duration, fps).save(tmp_path / "tl.json")
    result = render(RenderJob("short", "scenes.toy_geometry:FeatureGeometry", str(path), str(tmp_path),
                              RenderSettings(320, 180, fps)))
    assert result.ok, result.error
    assert read_back(tmp_path / "short.mp4").frames == round(duration * fps) + 1


# --- 9, 14: the toy command line -------------------------------------------------------------------------

@pytest.mark.parametrize("flags, needle", [
    (["--steps", "99999999999999999999999"], "--steps=99999999999999999999999 is invalid: must be an integer from 1"),
    (["--features", "1000000000"], "--features=1000000000 is invalid"),
    (["--features", "100000", "--hidden", "1000"], "GiB"),
])
def test_toy_cli_refuses_sizes_it_cannot_train_in_one_line(tmp_path, flags, needle):
    out = tmp_path / "run.npz"
    res = run("-m", "engine.toy", *flags, "--out", str(out))
    assert needle in one_line(res)
    assert not out.exists()


# --- 9, 17: activation files ---------------------------------------------------------------------------

def _bomb(path: Path, rows: int) -> Path:
    """A small .npz whose activations unpack to rows x 1000 float32 zeros."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (rows, 1000)})
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("activations.npy", header.getvalue() + bytes(rows * 4000))
        for name in ("concept", "token"):
            member = io.BytesIO()
            np.save(member, np.array(["a"] * rows))
            zf.writestr(f"{name}.npy", member.getvalue())
    return path


def test_an_activation_file_that_unpacks_past_the_limit_is_refused_unloaded(tmp_path, monkeypatch):
    from engine.real import activations

    monkeypatch.setattr(activations, "MAX_FILE_BYTES", 1_000_000)
    bomb = _bomb(tmp_path / "bomb.npz", 2_000)  # 8 MB of zeros in a few kB
    assert bomb.stat().st_size < 100_000
    loads = []
    monkeypatch.setattr(activations.np, "load", lambda *a, **k: loads.append(a))
    with pytest.raises(activations.ActivationFileError, match=r"unpacks to 8\.\d MB, over the 1\.0 MB limit"):
        activations.load_activations(bomb)
    assert loads == []


def test_an_npy_header_that_promises_more_than_the_archive_holds_is_refused(tmp_path):
    from engine.real.activations import ActivationFileError, load_activations

    path = activation_file(tmp_path / "a.npz")
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (10**6, 10**5)})
    members["activations.npy"] = header.getvalue() + bytes(64)
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ActivationFileError, match="header promises 400.0 GB"):
        load_activations(path)


def test_a_file_that_is_not_a_zip_is_named_as_such(tmp_path):
    bad = tmp_path / "acts.npz"
    bad.write_text("concept,token,activation\ncat,the,0.5\n")
    line = one_line(run("render.py", "--scene", "poly_bars", "--activations", str(bad), "--out", str(tmp_path / "o")))
    assert "not an .npz archive" in line and "pickle" not in line


# --- 15: edited timelines ------------------------------------------------------------------------------------

def _timeline() -> Timeline:
    return Timeline("k", "title", "source", [Segment("a", 1.0, "the caption the numbers support")],
                    arrays={"x": np.arange(3.0)})


def test_an_edited_caption_is_caught_by_the_structure_checksum(tmp_path):
    path = _timeline().save(tmp_path / "t.json")
    doc = json.loads(path.read_text())
    doc["segments"][0]["caption"] = "a conclusion nobody measured"
    path.write_text(json.dumps(doc))
    with pytest.raises(TimelineError, match="does not match its checksum"):
        Timeline.load(path)
    doc.pop("structure_sha256")
    path.write_text(json.dumps(doc))
    assert Timeline.load(path).segments[0].caption == "a conclusion nobody measured"  # hand-made: no checksum
    with pytest.raises(TimelineError, match="does not match its checksum"):
        Timeline.load(path, require_checksum=True)  # the cache writes one, so a cache entry without it was edited


def test_copies_of_one_timeline_under_two_names_have_one_structure_checksum(tmp_path):
    a = json.loads(_timeline().save(tmp_path / "a.json").read_text())
    b = json.loads(_timeline().save(tmp_path / "b.json").read_text())
    assert a["npz"].pop("file") != b["npz"].pop("file") and a == b  # what run.py's "already published" compares


def test_every_committed_fixture_still_loads():
    from tests.scenes import fixtures

    for path in sorted(fixtures.FIXTURES.glob("*.json")):
        assert Timeline.load(path).segments


BUILDS = []


def build_counted(settings, progress=False) -> Timeline:
    BUILDS.append(settings)
    return _timeline()


def test_an_edited_cached_timeline_is_reported_and_rebuilt(tmp_path, monkeypatch, capfd):
    from pipeline.catalogue import Entry
    from pipeline.timelines import get_timeline

    monkeypatch.setenv("NEUROREEL_CACHE", str(tmp_path))
    entry = Entry("edited", "d", builder=f"{__name__}:build_counted", settings="engine.toy:ToyConfig", scene="x:Y")
    _, path = get_timeline(entry, "settings")
    doc = json.loads(path.read_text())
    doc["segments"][0]["caption"] = "a conclusion nobody measured"
    path.write_text(json.dumps(doc))
    again, _ = get_timeline(entry, "settings")
    assert again.segments[0].caption == "the caption the numbers support" and len(BUILDS) == 2
    assert "cached timeline unusable, rebuilding" in capfd.readouterr().err


def test_a_timeline_whose_arrays_unpack_past_the_limit_is_refused_unloaded(tmp_path, monkeypatch):
    import hashlib

    from engine import timeline as timeline_module

    monkeypatch.setattr(timeline_module, "MAX_ARRAY_BYTES", 1_000_000)
    path = _timeline().save(tmp_path / "t.json")
    bomb = _bomb(tmp_path / "t.npz", 2_000).read_bytes()
    doc = json.loads(path.read_text())
    doc["npz"]["sha256"] = hashlib.sha256(bomb).hexdigest()  # a consistent forgery: both checksums match
    doc["structure_sha256"] = timeline_module._structure_digest(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(TimelineError, match="over the 1.0 MB limit"):
        Timeline.load(path)
