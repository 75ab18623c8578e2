"""The timeline contract: exact round trips, damaged files rejected, continuous sampling."""
from __future__ import annotations

import json

import numpy as np
import pytest

from engine.timeline import EASINGS, Segment, Timeline, TimelineError, Track


def make_timeline() -> Timeline:
    rng = np.random.default_rng(0)
    segs = [Segment("a", 1.5, "first", "linear"), Segment("b", 2.0, "second", "smooth"),
            Segment("c", 1.0, "third", "ease_in_out")]
    tl = Timeline(kind="test.kind", title="A test", source="synthetic arrays for the contract test", segments=segs)
    tl.tracks["matrix"] = Track(np.array([0.0, 1.0, 2.5, 4.5]), rng.normal(size=(4, 3, 3)).astype(np.float32))
    tl.tracks["step"] = Track(np.array([0.0, 2.0, 4.0]), np.array([0, 100, 1000]), "step")
    tl.arrays["labels"] = np.array(["cat", "car", "house"])
    tl.arrays["weights"] = rng.normal(size=(5, 2))
    tl.meta["note"] = {"k": [1, 2]}
    return tl.validate()


def test_round_trip_is_exact(tmp_path):
    tl = make_timeline()
    path = tl.save(tmp_path / "t.json")
    back = Timeline.load(path)
    assert (back.kind, back.title, back.source, back.segments, back.meta) == (tl.kind, tl.title, tl.source, tl.segments, tl.meta)
    for k in tl.tracks:
        np.testing.assert_array_equal(back.tracks[k].times, tl.tracks[k].times)
        np.testing.assert_array_equal(back.tracks[k].values, tl.tracks[k].values)
        assert back.tracks[k].values.dtype == tl.tracks[k].values.dtype
    for k in tl.arrays:
        np.testing.assert_array_equal(back.arrays[k], tl.arrays[k])
    for t in np.linspace(0, tl.duration, 17):
        np.testing.assert_array_equal(back.sample("matrix", t), tl.sample("matrix", t))


@pytest.mark.parametrize("which", ["json", "npz"])
def test_truncated_file_is_rejected(tmp_path, which):
    path = make_timeline().save(tmp_path / "t.json")
    victim = path if which == "json" else path.with_suffix(".npz")
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    with pytest.raises(TimelineError) as err:
        Timeline.load(path)
    assert "\n" not in str(err.value)


def test_modified_arrays_fail_the_checksum(tmp_path):
    path = make_timeline().save(tmp_path / "t.json")
    npz = path.with_suffix(".npz")
    data = bytearray(npz.read_bytes())
    data[200] ^= 0xFF
    npz.write_bytes(bytes(data))
    with pytest.raises(TimelineError, match="checksum"):
        Timeline.load(path)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("segments"), "segments"),
    (lambda d: d.update(version=99), "version"),
    (lambda d: d.update(format="something else"), "not a neuroreel timeline"),
    (lambda d: d["segments"][0].update(duration=-1), "positive"),
    (lambda d: d["segments"][0].update(easing="bouncy"), "unknown easing"),
])
def test_malformed_structure_is_rejected(tmp_path, mutate, message):
    path = make_timeline().save(tmp_path / "t.json")
    doc = json.loads(path.read_text())
    mutate(doc)
    doc.pop("structure_sha256")  # as in a hand-made file: the checks themselves are under test, not the checksum
    path.write_text(json.dumps(doc))
    with pytest.raises(TimelineError, match=message):
        Timeline.load(path)


def test_missing_array_file_is_rejected(tmp_path):
    path = make_timeline().save(tmp_path / "t.json")
    path.with_suffix(".npz").unlink()
    with pytest.raises(TimelineError, match="missing"):
        Timeline.load(path)


@pytest.mark.parametrize("easing", sorted(EASINGS))
def test_sampling_is_continuous_at_segment_boundaries(easing):
    tl = make_timeline()
    tl.segments = [Segment(s.name, s.duration, s.caption, easing) for s in tl.segments]
    for boundary in tl.segment_starts()[1:]:
        before = tl.sample("matrix", boundary - 1e-7)
        after = tl.sample("matrix", boundary + 1e-7)
        np.testing.assert_allclose(before, after, atol=1e-4)


def test_easing_endpoints_and_monotonicity():
    u = np.linspace(0, 1, 201)
    for name, f in EASINGS.items():
        y = f(u)
        assert abs(float(f(np.asarray(0.0)))) < 1e-9 and abs(float(f(np.asarray(1.0))) - 1) < 1e-9, name
        assert np.all(np.diff(y) >= -1e-12), name


def test_linear_track_interpolates_and_clamps():
    tl = Timeline("k", "t", "s", [Segment("only", 4.0)], tracks={"x": Track(np.array([1.0, 3.0]), np.array([0.0, 10.0]))})
    assert tl.sample("x", 0.0) == 0.0 and tl.sample("x", 4.0) == 10.0
    assert tl.sample("x", 2.0) == pytest.approx(5.0)


def test_step_track_holds_values():
    tl = make_timeline()
    assert tl.tracks["step"].at(1.999) == 0 and tl.tracks["step"].at(2.0) == 100


def test_invalid_timelines_are_refused_before_saving(tmp_path):
    tl = make_timeline()
    tl.tracks["bad"] = Track(np.array([0.0, 1.0]), np.array([0.0, np.nan]))
    with pytest.raises(TimelineError, match="NaN"):
        tl.save(tmp_path / "bad.json")
    assert not list(tmp_path.iterdir())


def test_saving_is_byte_for_byte_reproducible(tmp_path):
    # Same timeline, same bytes: caches and render keys that hash files stay stable across runs.
    a = make_timeline().save(tmp_path / "a" / "t.json")
    b = make_timeline().save(tmp_path / "b" / "t.json")
    assert a.read_bytes() == b.read_bytes()
    assert a.with_suffix(".npz").read_bytes() == b.with_suffix(".npz").read_bytes()


def test_holds_still_only_where_no_track_changes():
    segs = [Segment("rise", 1.0, "", "smooth"), Segment("hold", 2.0, "", "linear")]
    tl = Timeline(kind="test.kind", title="hold", source="synthetic", segments=segs)
    tl.tracks["level"] = Track(np.array([0.0, 1.0, 3.0]), np.array([0.0, 1.0, 1.0]))
    tl.tracks["label"] = Track(np.array([0.0, 2.0]), np.array([0, 1]), "step")
    assert not tl.holds_still(0.0, 1.0)  # level rises
    assert tl.holds_still(1.0, 1.9) and tl.holds_still(2.0, 3.0)
    assert not tl.holds_still(1.0, 3.0)  # the label steps at 2 s
    assert tl.holds_still(1.0, 3.0, names=("level",))
