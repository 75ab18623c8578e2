"""render.py --shard K/N and --join: a course spread over machines comes back as the one-process render, byte for byte.

Each shard here is its own --out folder, as on separate machines; they share the test cache, as machines
given the same timeline cache do (one test gives a shard a different timeline, as another CPU might).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from engine.timeline import Timeline
from pipeline import catalogue, shards
from pipeline.options import settings_for
from pipeline.settings import RenderSettings
from pipeline.shards import Task, deal, parse_shard, tasks_for
from pipeline.split import pieces_per_scene
from tests.cli.test_render_cli import render_py, tree
from tests.scenes import fixtures

SMALL = ["--set", "steps=300", "--resolution", "320x180", "--fps", "5", "--duration", "6", "--sections", "--subtitles"]
ONE = ["--scene", "toy_wtw", *SMALL]
TWO = ["--scene", "toy_wtw", "--scene", "toy_phase", *SMALL]


def outputs(out: Path, scenes: tuple[str, ...]) -> dict[str, bytes]:
    """Every published file of ``scenes`` (videos, section clips, subtitles), not timelines, manifest or pieces."""
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and p.relative_to(out).parts[0] not in ("timelines", "shards", "manifest.json")
            and any(p.name.startswith(s) or p.parent.name == s for s in scenes)}


def entries(out: Path) -> dict[str, dict]:
    return {e["name"]: e for e in json.loads((out / "manifest.json").read_text())["scenes"]}


def snapshot(out: Path) -> dict[str, tuple[int, int]]:
    """Every path with its inode and modification time: equal snapshots mean nothing was written."""
    return {str(p.relative_to(out)): (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.rglob("*")}


def shard_runs(base: Path, args: list[str], n: int, *extra: str) -> list[Path]:
    folders = []
    for k in range(1, n + 1):
        out = base / f"shard{k}"
        res = render_py(*args, *extra, "--jobs", "1", "--shard", f"{k}/{n}", "--out", str(out))
        assert res.returncode == 0, res.stderr
        assert f"shard {k}/{n}:" in res.stderr, res.stderr
        folders.append(out)
    return folders


def receipts(folders: list[Path]) -> list[dict]:
    return [json.loads(p.read_text()) for d in folders for p in sorted((d / "shards").glob("shard-*.json"))]


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("whole")
    res = render_py(*TWO, "--jobs", "1", "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    return out


@pytest.fixture(scope="module")
def three(tmp_path_factory) -> list[Path]:
    """One scene over three shards: fewer scenes than shards, so it is cut into three pieces."""
    return shard_runs(tmp_path_factory.mktemp("three"), ONE, 3)


@pytest.fixture(scope="module")
def two(tmp_path_factory) -> list[Path]:
    """Two scenes over two shards: a whole scene each."""
    return shard_runs(tmp_path_factory.mktemp("two"), TWO, 2)


@pytest.mark.parametrize("config, kinds", [("three", ["piece"] * 3), ("two", ["whole"] * 2)])
def test_the_shards_together_do_every_task_exactly_once(request, config, kinds):
    folders = request.getfixturevalue(config)
    docs = receipts(folders)
    assert [d["shard"] for d in docs] == list(range(1, len(folders) + 1))
    plan = docs[0]["tasks"]
    assert all(d["tasks"] == plan and d["plan"] == docs[0]["plan"] for d in docs)  # every machine dealt the same
    assert ["piece" if t["phases"] else "whole" for t in plan] == kinds
    done = [(d["shard"], x["scene"], x["piece"]) for d in docs for x in d["done"]]
    assert sorted(done) == sorted((t["shard"], t["scene"], t["piece"]) for t in plan)  # each once, by its shard
    for d, folder in zip(docs, folders):  # and nothing else: a shard's folder holds only its own tasks
        mine = {t["scene"] for t in plan if t["shard"] == d["shard"] and not t["phases"]}
        assert {p.stem for p in folder.glob("*.mp4")} == mine
        pieces = sum(t["shard"] == d["shard"] and bool(t["phases"]) for t in plan)
        assert len(list(folder.glob("shards/*/[0-9][0-9][0-9].json"))) == pieces


def test_one_scene_in_pieces_joins_to_the_one_process_render(whole, three, tmp_path):
    out = tmp_path / "joined"
    res = render_py("--join", *map(str, three), "--out", str(out))
    assert res.returncode == 0 and "toy_wtw: joined from 3 pieces" in res.stderr, res.stderr
    assert outputs(out, ("toy_wtw",)) == outputs(whole, ("toy_wtw",))  # video, section clips, subtitles
    assert {"toy_wtw.mp4", "toy_wtw.srt", "toy_wtw.vtt"} <= set(outputs(out, ("toy_wtw",)))
    assert entries(out) == {"toy_wtw": entries(whole)["toy_wtw"]}  # render_key, sha256, frames, all of it
    assert not [p for p in out.rglob(".*")]  # nothing temporary left
    before = snapshot(out)
    res = render_py("--join", *map(str, three), "--out", str(out))
    assert res.returncode == 0 and "toy_wtw: unchanged" in res.stderr, res.stderr
    assert snapshot(out) == before  # an unchanged re-join writes nothing


def test_whole_scenes_join_into_one_of_the_shard_folders(whole, two):
    res = render_py("--join", *map(str, two), "--out", str(two[-1]))  # the last shard joins the others
    assert res.returncode == 0, res.stderr
    assert outputs(two[-1], ("toy_wtw", "toy_phase")) == outputs(whole, ("toy_wtw", "toy_phase"))
    assert entries(two[-1]) == entries(whole)
    for name in ("toy_wtw.json", "toy_wtw.npz", "toy_phase.json", "toy_phase.npz"):  # each timeline beside its video
        assert (two[-1] / "timelines" / name).read_bytes() == (whole / "timelines" / name).read_bytes()
    before = snapshot(two[-1])
    res = render_py("--join", *map(str, two), "--out", str(two[-1]), "--quiet")
    assert res.returncode == 0 and res.stderr == "" and snapshot(two[-1]) == before


def test_rerunning_a_shard_renders_nothing(three, two):
    for folder, args, k, n in [(three[0], ONE, 1, 3), (two[0], TWO, 1, 2)]:
        before = snapshot(folder)
        res = render_py(*args, "--jobs", "1", "--shard", f"{k}/{n}", "--out", str(folder))
        assert res.returncode == 0 and "reused" in res.stderr and "rendered" not in res.stderr, res.stderr
        assert snapshot(folder) == before


def test_a_missing_shard_is_named_in_one_line_and_nothing_is_written(three, tmp_path):
    out = tmp_path / "joined"
    missing = next(t for t in receipts(three)[0]["tasks"] if t["shard"] == 2)
    a, b = missing["phases"]
    span = f"phase {b}" if b == a + 1 else f"phases {a + 1}-{b}"
    res = render_py("--join", str(three[0]), str(three[2]), "--out", str(out))
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert f"toy_wtw piece {missing['piece']}/3 ({span}) is in none of the folders; run --shard 2/3 again" in res.stderr
    assert not out.exists()


def test_pieces_from_different_timelines_are_refused(three, tmp_path, isolated_cache, monkeypatch):
    """As if shard 2 ran on a CPU whose trained numbers differ in the last digits."""
    other = tmp_path / "cache"
    shutil.copytree(isolated_cache, other)
    monkeypatch.setenv("NEUROREEL_CACHE", str(other))
    from pipeline.timelines import timeline_path
    entry = catalogue.CATALOGUE["toy_wtw"]
    path = timeline_path(entry, settings_for(entry, {"steps": "300"}, strict=True))
    timeline = Timeline.load(path)
    track = next(t for t in timeline.tracks.values() if t.values.dtype.kind == "f" and np.any(t.values))
    track.values = track.values * np.float32(1 + 1e-5)
    timeline.save(path)
    res = render_py(*ONE, "--jobs", "1", "--shard", "2/3", "--out", str(tmp_path / "shard2"),
                    env={"NEUROREEL_CACHE": str(other)})
    assert res.returncode == 0, res.stderr
    res = render_py("--join", str(three[0]), str(tmp_path / "shard2"), str(three[2]), "--out", str(tmp_path / "joined"))
    assert res.returncode == 1 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert "made from different timelines" in res.stderr and "same timeline cache" in res.stderr
    assert not (tmp_path / "joined").exists()


def test_shards_of_several_pieces_each_on_workers_or_in_one_process(whole, tmp_path):
    """Two scenes in two pieces each over two shards: one shard renders its pieces in its own process (toy_phase's
    last piece among them), the other on two workers; either way the joined scenes are the one-process render."""
    folders = []
    for k, jobs in [(1, "1"), (2, "2")]:
        out = tmp_path / f"shard{k}"
        res = render_py(*TWO, "--split", "2", "--jobs", jobs, "--shard", f"{k}/2", "--out", str(out))
        assert res.returncode == 0, res.stderr
        assert len(list(out.glob("shards/*/[0-9][0-9][0-9].mp4"))) == 2 and not list(out.glob("*.mp4"))
        folders.append(out)
    res = render_py("--join", *map(str, folders), "--out", str(tmp_path / "joined"))
    assert res.returncode == 0 and res.stderr.count("joined from 2 pieces") == 2, res.stderr
    assert outputs(tmp_path / "joined", ("toy_wtw", "toy_phase")) == outputs(whole, ("toy_wtw", "toy_phase"))
    assert entries(tmp_path / "joined") == entries(whole)


@pytest.mark.parametrize("args, needle", [
    (["--shard", "0/2"], "--shard takes K/N"),
    (["--shard", "3/2"], "--shard takes K/N"),
    (["--shard", "a/b"], "--shard takes K/N"),
    (["--shard", "1/0"], "--shard takes K/N"),
    (["--shard", "1/1025"], "--shard takes K/N"),
    (["--shard", "1/2", "--join", "{tmp}"], "separate steps"),
    (["--shard", "1/2", "--slides"], "--slides cannot be sharded"),
    (["--join", "{tmp}/nowhere"], "does not exist"),
    (["--join", "{tmp}"], "holds no shard outputs"),
])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, args, needle):
    out = tmp_path / "out"
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    res = render_py(*(ONE if "--join" not in args else []), *args, "--out", str(out))
    assert res.returncode == 2 and needle in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert tree(tmp_path) == []


def test_join_takes_no_scenes_or_settings_of_its_own(three, tmp_path):
    res = render_py("--join", str(three[0]), "--scene", "toy_wtw", "--out", str(tmp_path / "out"))
    assert res.returncode == 2 and "not --scene" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert tree(tmp_path) == []


def test_parse_shard():
    assert parse_shard("2/3") == shards.Shard(2, 3) and str(parse_shard("1024/1024")) == "1024/1024"
    for bad in ["0/2", "3/2", "a/b", "1/0", "1/1025", "1", "1/2/3", "-1/2", ""]:
        with pytest.raises(ValueError, match="--shard takes K/N"):
            parse_shard(bad)


SCENES = ["toy_wtw", "grid_minilm", "digits", "hunt", "grid_toy"]


def dealt(n: int, scenes: list[str] = SCENES, settings: RenderSettings = RenderSettings(854, 480, 15)) -> list[Task]:
    timelines = [(s, fixtures.load(s)) for s in scenes]
    return deal(tasks_for(timelines, pieces_per_scene(n, len(scenes), None), settings), n)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 16])
def test_the_deal_covers_every_phase_once_and_balances_the_load(n):
    tasks = dealt(n)
    assert tasks == dealt(n)  # deterministic
    for scene in SCENES:  # a scene's tasks are it whole, or pieces covering its phases in order
        runs = [t.phases for t in tasks if t.scene == scene]
        count = len(fixtures.load(scene).segments)
        assert runs == [None] or (runs[0][0] == 0 and runs[-1][1] == count and
                                  all(b == c for (_, b), (c, _) in zip(runs, runs[1:])))
    assert all(1 <= t.shard <= n for t in tasks)
    loads = [sum(t.cost for t in tasks if t.shard == k) for k in range(1, n + 1)]
    assert max(loads) - min(loads) <= max(t.cost for t in tasks)  # greedy longest-first's guarantee
    if n >= 2 * len(SCENES):
        assert any(t.phases for t in tasks)  # shards at least twice the scenes: scenes are split


def test_the_deal_reads_no_track_values_so_other_cpus_deal_the_same():
    timeline = fixtures.load("grid_minilm")
    drifted = fixtures.load("grid_minilm")
    for track in drifted.tracks.values():
        if track.values.dtype.kind == "f":
            track.values = track.values + np.float32(1e-3)
    settings = RenderSettings(854, 480, 15)
    assert tasks_for([("grid_minilm", timeline)], 3, settings) == tasks_for([("grid_minilm", drifted)], 3, settings)
    assert [t.describe() for t in tasks_for([("grid_minilm", timeline)], 1, settings)] == ["grid_minilm"]
