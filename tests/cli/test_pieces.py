"""A scene split at phase boundaries, its pieces rendered apart and joined, is the whole render frame for frame.

Manim encodes each play into its own file (a key frame first) and joins them by remuxing; a piece
encodes the same plays, so decoded frames are compared exactly, not within a tolerance.
"""
from __future__ import annotations

import itertools
import random
from pathlib import Path

import av
import numpy as np
import pytest

from pipeline import pieces
from pipeline.pieces import join, phase_costs, phase_frames, plan, render_piece
from pipeline.settings import RenderSettings
from pipeline.worker import RenderJob, render
from tests.scenes import fixtures

FPS = 5
SETTINGS = RenderSettings(320, 180, FPS)
TOY = ("toy_wtw", "scenes.toy_wtw:WtWAcrossSparsity", 4.0)
GRID = ("grid_minilm", "scenes.grid:SuperpositionGrid", 8.0)  # fades, labels swapped per object, held stretches


def frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as video:
        return [f.to_ndarray(format="rgb24") for f in video.decode(video=0)]


def whole_render(folder: Path, name: str, scene: str, seconds: float) -> tuple[Path, list[np.ndarray]]:
    """The timeline saved under ``folder`` and the single-process render's frames (pipeline.worker)."""
    timeline_path = fixtures.load(name).retimed(seconds).save(folder / f"{name}.json")
    result = render(RenderJob(name, scene, str(timeline_path), str(folder), SETTINGS))
    assert result.ok, result.error
    return timeline_path, frames(folder / result.file)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return whole_render(tmp_path_factory.mktemp("toy"), *TOY[:2], TOY[2])


@pytest.fixture(scope="module")
def grid(tmp_path_factory):
    return whole_render(tmp_path_factory.mktemp("grid"), *GRID[:2], GRID[2])


def split_and_join(folder: Path, scene: str, timeline_path: Path, runs: list[tuple[int, int]]) -> list[np.ndarray]:
    files = [render_piece(scene, timeline_path, SETTINGS, run, folder / f"piece_{run[0]}_{run[1]}.mp4") for run in runs]
    joined = join(files, folder / "joined.mp4")
    assert sorted(p.name for p in folder.iterdir()) == sorted([*(f.name for f in files), "joined.mp4"])  # no leftovers
    got = frames(joined)
    assert len(got) == sum(len(frames(f)) for f in files)
    return got


def assert_same_frames(got: list[np.ndarray], want: list[np.ndarray]) -> None:
    assert len(got) == len(want)
    differ = [k for k, (a, b) in enumerate(zip(got, want)) if not np.array_equal(a, b)]
    assert not differ, f"frames {differ} differ from the whole render's"


@pytest.mark.parametrize("count", [2, 3])
def test_pieces_joined_are_the_whole_render_frame_for_frame(toy, tmp_path, count):
    timeline_path, want = toy
    timeline = fixtures.load(TOY[0]).retimed(TOY[2])
    runs = plan(phase_costs(timeline, FPS), count, skip_cost=0.0)  # (so short a scene is best in 2 pieces)
    assert len(runs) == count
    assert len(want) == round(TOY[2] * FPS) + 1
    assert_same_frames(split_and_join(tmp_path, TOY[1], timeline_path, runs), want)


def test_a_piece_starting_mid_scene_begins_on_the_whole_renders_frame(toy, tmp_path):
    timeline_path, want = toy
    timeline = fixtures.load(TOY[0]).retimed(TOY[2])
    n, k = len(timeline.segments), 3
    got = frames(render_piece(TOY[1], timeline_path, SETTINGS, (k, k + 1), tmp_path / "piece.mp4"))
    first = round(float(timeline.segment_starts()[k]) * FPS)
    assert len(got) == phase_frames(timeline, FPS)[k]  # no closing frame: only the last piece has it
    assert np.array_equal(got[0], want[first])
    assert_same_frames(got, want[first:first + len(got)])
    last = frames(render_piece(TOY[1], timeline_path, SETTINGS, (n - 1, n), tmp_path / "last.mp4"))
    assert len(last) == phase_frames(timeline, FPS)[-1] + 1
    assert_same_frames(last, want[-len(last):])


def test_a_real_neuron_scene_split_at_every_phase_is_the_whole_render(grid, tmp_path):
    timeline_path, want = grid
    n = len(fixtures.load(GRID[0]).segments)
    assert_same_frames(split_and_join(tmp_path, GRID[1], timeline_path, [(i, i + 1) for i in range(n)]), want)


def test_phase_costs_count_the_frames_and_discount_held_ones():
    timeline = fixtures.load(GRID[0])  # intro, object_0_hold, combined and count hold still; the rest move
    frames_per_phase = phase_frames(timeline, 15)
    assert sum(frames_per_phase) == round(timeline.duration * 15)
    costs = phase_costs(timeline, 15)
    ends = [*timeline.segment_starts(), timeline.duration]
    still = [timeline.holds_still(a, b) for a, b in zip(ends, ends[1:])]
    assert any(still) and not all(still)
    for cost, n, held in zip(costs, frames_per_phase, still):
        assert cost < n if held else cost == n
    from scenes.base import HEAD_S
    assert pieces.HEAD_S == HEAD_S


def best_by_brute_force(costs: list[float], count: int, skip: float) -> float:
    n, best = len(costs), float("inf")
    for m in range(1, min(count, n) + 1):
        for cuts in itertools.combinations(range(1, n), m - 1):
            bounds = (0, *cuts, n)
            best = min(best, max(skip * a + sum(costs[a:b]) for a, b in zip(bounds, bounds[1:])))
    return best


def test_plan_minimises_the_largest_piece_and_is_deterministic():
    rng = random.Random(0)
    for _ in range(200):
        costs = [rng.choice([0.0, 1.0, 3.0, rng.uniform(0, 50)]) for _ in range(rng.randint(1, 9))]
        count, skip = rng.randint(1, 5), rng.choice([0.0, 2.0, 10.0])
        runs = plan(costs, count, skip)
        assert runs == plan(list(costs), count, skip)
        assert 1 <= len(runs) <= min(count, len(costs))
        assert runs[0][0] == 0 and runs[-1][1] == len(costs)
        assert all(a < b for a, b in runs) and all(b == c for (_, b), (c, _) in zip(runs, runs[1:]))
        assert len(runs) == 1 or all(sum(costs[a:b]) > 0 for a, b in runs)  # no piece that draws nothing
        largest = max(skip * a + sum(costs[a:b]) for a, b in runs)
        assert largest == pytest.approx(best_by_brute_force(costs, count, skip))


def test_plan_balances_cost_not_phase_counts():
    assert plan([10, 1, 1, 1, 1, 10], 2, 0.0) == [(0, 3), (3, 6)]
    assert plan([12, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], 2, 0.0) == [(0, 1), (1, 13)]
    assert plan([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 12], 2, 0.0) == [(0, 12), (12, 13)]
    assert plan([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 12], 2, 2.0) == [(0, 13)]  # skipping 12 phases costs too much
    assert plan([4, 4, 4], 10, 0.0) == [(0, 1), (1, 2), (2, 3)]  # never more pieces than phases
    assert plan([4, 4, 4, 4], 3, 0.0) == [(0, 2), (2, 4)]  # a third piece would not finish sooner
    with pytest.raises(ValueError):
        plan([], 2, 0.0)


@pytest.mark.parametrize("fmt, transparent", [("webm", True), ("mov", True)])
def test_other_formats_join_to_the_whole_render_alpha_included(tmp_path, fmt, transparent):
    settings = RenderSettings(320, 180, FPS, format=fmt, transparent=transparent)
    timeline_path = fixtures.load(TOY[0]).retimed(TOY[2]).save(tmp_path / "t.json")
    whole = render(RenderJob("whole", TOY[1], str(timeline_path), str(tmp_path), settings))
    assert whole.ok, whole.error
    files = [render_piece(TOY[1], timeline_path, settings, run, tmp_path / f"it's {run[0]}{settings.extension}")
             for run in [(0, 3), (3, 6)]]  # a quote and a space in the name: the concat manifest quotes them
    joined = join(files, tmp_path / f"joined{settings.extension}")
    with av.open(str(tmp_path / whole.file)) as a, av.open(str(joined)) as b:
        assert a.streams.video[0].metadata.get("alpha_mode") == b.streams.video[0].metadata.get("alpha_mode")
        assert a.streams.video[0].codec_context.pix_fmt == b.streams.video[0].codec_context.pix_fmt
    rgba = lambda path: [f.to_ndarray(format="rgba") for f in av.open(str(path)).decode(video=0)]
    assert_same_frames(rgba(joined), rgba(tmp_path / whole.file))  # WebM's alpha is a side track: tag checked above


def test_bad_requests_fail_before_rendering(toy, tmp_path):
    timeline_path, _ = toy
    from scenes.toy_wtw import WtWAcrossSparsity
    timeline = fixtures.load(TOY[0])
    for phases in [(0, 0), (2, 1), (-1, 2), (0, len(timeline.segments) + 1)]:
        with pytest.raises(ValueError, match="phases"):
            WtWAcrossSparsity(timeline=timeline, phases=phases)
    with pytest.raises(ValueError, match="png"):
        render_piece(TOY[1], timeline_path, RenderSettings(320, 180, FPS, format="png"), (0, 1), tmp_path / "x.png")
    with pytest.raises(ValueError, match="mp4"):
        render_piece(TOY[1], timeline_path, RenderSettings(320, 180, FPS, format="gif"), (0, 1), tmp_path / "x.gif")
    with pytest.raises(ValueError, match="phases"):
        render_piece(TOY[1], timeline_path, SETTINGS, (0, 99), tmp_path / "x.mp4")
    assert not list(tmp_path.iterdir())


def test_join_writes_nothing_when_it_fails(toy, tmp_path):
    timeline_path, _ = toy
    piece = render_piece(TOY[1], timeline_path, SETTINGS, (0, 1), tmp_path / "a.mp4")
    with pytest.raises(Exception):
        join([piece, tmp_path / "missing.mp4"], tmp_path / "joined.mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]
