"""The timeline: the contract between data and pictures.

A timeline says what a video shows over time, as plain data: a list of segments (phases)
with durations, captions and easing, and named tracks (arrays keyframed in time) plus
static arrays. The engine builds it; a scene samples it; nothing here knows Manim or torch.

Sampling at time t: the segment containing t warps its local time with its easing, then
each track is interpolated between its keyframes at the warped time. Because every easing
maps 0 -> 0 and 1 -> 1, sampling is continuous at segment boundaries.

On disk a timeline is two files side by side: ``NAME.json`` (structure, plus the checksum,
shapes and dtypes of every array, and a checksum of the structure itself) and ``NAME.npz`` (the
arrays). Loading re-validates both, so an edited caption is caught like a damaged array.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from engine.atomic import write_bytes_atomic
from engine.npz_check import inspect_npz

FORMAT_VERSION = 1
STRUCTURE_DIGEST = "structure_sha256"  # digest of the JSON document itself (see _structure_digest)
MAX_ARRAY_BYTES = 1_000_000_000  # a timeline's arrays unpacked; real ones are a few MB


class TimelineError(ValueError):
    """A timeline that is malformed, truncated, or inconsistent; the message is one line."""


def _smooth(t: np.ndarray) -> np.ndarray:
    # Manim's default `smooth` (a sigmoid rescaled to [0, 1], inflection 10).
    s = 1.0 / (1.0 + np.exp(-10.0 * (t - 0.5)))
    s0, s1 = 1.0 / (1.0 + math.exp(5.0)), 1.0 / (1.0 + math.exp(-5.0))
    return np.clip((s - s0) / (s1 - s0), 0.0, 1.0)


EASINGS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda t: t,
    "smooth": _smooth,
    "ease_in": lambda t: t * t,
    "ease_out": lambda t: 1.0 - (1.0 - t) ** 2,
    "ease_in_out": lambda t: np.where(t < 0.5, 2 * t * t, 1 - 2 * (1 - t) ** 2),
}
INTERPOLATIONS = ("linear", "step")


@dataclass(frozen=True)
class Segment:
    """One phase of a video: how long it lasts, what the caption says, how time eases within it."""

    name: str
    duration: float
    caption: str = ""
    easing: str = "linear"

    def validate(self) -> None:
        if not self.name:
            raise TimelineError("a segment has an empty name")
        if not (isinstance(self.duration, (int, float)) and math.isfinite(self.duration) and self.duration > 0):
            raise TimelineError(f"segment '{self.name}' has duration {self.duration!r}; it must be a positive number of seconds")
        if self.easing not in EASINGS:
            raise TimelineError(f"segment '{self.name}' has unknown easing '{self.easing}'; choose from {', '.join(EASINGS)}")


@dataclass
class Track:
    """Values keyframed in time: ``values[k]`` holds at ``times[k]`` (seconds from the start)."""

    times: np.ndarray  # Float[ndarray, "keys"]
    values: np.ndarray  # Float[ndarray, "keys *shape"]
    interpolation: str = "linear"

    def validate(self, name: str) -> None:
        if self.interpolation not in INTERPOLATIONS:
            raise TimelineError(f"track '{name}' has unknown interpolation '{self.interpolation}'; choose from {', '.join(INTERPOLATIONS)}")
        if self.times.ndim != 1 or len(self.times) == 0:
            raise TimelineError(f"track '{name}' needs a non-empty 1-D array of keyframe times")
        if self.values.shape[:1] != self.times.shape:
            raise TimelineError(f"track '{name}' has {len(self.times)} keyframe times but {self.values.shape[0] if self.values.ndim else 0} values")
        if not np.all(np.isfinite(self.times)) or np.any(np.diff(self.times) < 0):
            raise TimelineError(f"track '{name}' keyframe times must be finite and non-decreasing")
        if self.values.dtype.kind == "f" and not np.all(np.isfinite(self.values)):
            raise TimelineError(f"track '{name}' contains NaN or infinity")

    def at(self, t: float) -> np.ndarray:
        """Value at (already eased) time t, clamped to the first and last keyframes."""
        times, values = self.times, self.values
        if t <= times[0]:
            return values[0]
        if t >= times[-1]:
            return values[-1]
        k = int(np.searchsorted(times, t, side="right")) - 1
        if self.interpolation == "step":
            return values[k]
        t0, t1 = times[k], times[k + 1]
        w = 0.0 if t1 == t0 else (t - t0) / (t1 - t0)
        return values[k] * (1.0 - w) + values[k + 1] * w if values.dtype.kind == "f" else values[k]


@dataclass
class Timeline:
    """What one video shows: segments in order, tracks sampled over time, static arrays, metadata."""

    kind: str  # which scene family draws it, e.g. "toy.wtw_sparsity"
    title: str
    source: str  # human-readable data source: model, layer or configuration
    segments: list[Segment]
    tracks: dict[str, Track] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)  # JSON-able labels, settings

    # --- time --------------------------------------------------------------------------
    @property
    def duration(self) -> float:
        return float(sum(s.duration for s in self.segments))

    def segment_starts(self) -> np.ndarray:
        return np.concatenate([[0.0], np.cumsum([s.duration for s in self.segments])[:-1]])

    def segment_start(self, name: str) -> float:
        return float(self.segment_starts()[self.segment_index(name)])

    def segment_index(self, name: str) -> int:
        for i, s in enumerate(self.segments):
            if s.name == name:
                return i
        raise KeyError(f"timeline '{self.title}' has no segment '{name}'")

    def segment_at(self, t: float) -> tuple[int, float]:
        """Index of the segment playing at t and the local progress in [0, 1] within it."""
        starts = self.segment_starts()
        t = float(np.clip(t, 0.0, self.duration))
        i = int(np.searchsorted(starts, t, side="right")) - 1
        i = min(max(i, 0), len(self.segments) - 1)
        return i, min(1.0, (t - starts[i]) / self.segments[i].duration)

    def eased_time(self, t: float) -> float:
        i, u = self.segment_at(t)
        seg = self.segments[i]
        return float(self.segment_starts()[i] + float(EASINGS[seg.easing](np.asarray(u))) * seg.duration)

    def sample(self, name: str, t: float) -> np.ndarray:
        """Track ``name`` at time t, after the playing segment's easing."""
        if name not in self.tracks:
            raise KeyError(f"timeline '{self.title}' has no track '{name}' (has: {', '.join(sorted(self.tracks))})")
        return self.tracks[name].at(self.eased_time(t))

    def sample_all(self, t: float) -> dict[str, np.ndarray]:
        te = self.eased_time(t)
        return {k: tr.at(te) for k, tr in self.tracks.items()}

    def holds_still(self, t0: float, t1: float, names: tuple[str, ...] | None = None) -> bool:
        """True if every track (or the ``names``d ones) keeps one value over [t0, t1].

        Easing maps a segment onto itself, so the keyframes inside [t0, t1] and its two ends decide.
        Scenes draw only what tracks say, so a still interval is a run of identical frames.
        """
        for name in self.tracks if names is None else names:
            track = self.tracks[name]
            inside = track.values[(track.times > t0) & (track.times < t1)]
            first = track.at(t0)
            if not all(np.allclose(v, first) for v in (track.at(t1), *inside)):
                return False
        return True

    def retimed(self, duration: float) -> "Timeline":
        """The same video stretched or squeezed to ``duration`` seconds (phases keep their proportions)."""
        if not (math.isfinite(duration) and duration > 0):
            raise TimelineError(f"duration must be a positive number of seconds, not {duration!r}")
        f = duration / self.duration
        return Timeline(kind=self.kind, title=self.title, source=self.source,
                        segments=[Segment(s.name, s.duration * f, s.caption, s.easing) for s in self.segments],
                        tracks={k: Track(tr.times * f, tr.values, tr.interpolation) for k, tr in self.tracks.items()},
                        arrays=dict(self.arrays), meta=dict(self.meta)).validate()

    # --- validation ------------------------------------------------------------------------
    def validate(self) -> "Timeline":
        if not self.kind or not self.title:
            raise TimelineError("a timeline needs a kind and a title")
        if not self.segments:
            raise TimelineError(f"timeline '{self.title}' has no segments")
        names = [s.name for s in self.segments]
        if len(set(names)) != len(names):
            raise TimelineError(f"timeline '{self.title}' repeats a segment name: {names}")
        for s in self.segments:
            s.validate()
        for k, tr in self.tracks.items():
            tr.validate(k)
        clash = set(self.tracks) & set(self.arrays)
        if clash:
            raise TimelineError(f"names used both as track and array: {sorted(clash)}")
        try:
            json.dumps(self.meta)
        except TypeError as e:
            raise TimelineError(f"timeline meta is not JSON-serialisable: {e}") from None
        return self

    # --- persistence ----------------------------------------------------------------------
    def _payload(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for k, tr in self.tracks.items():
            out[f"track.{k}.times"] = np.asarray(tr.times, dtype=np.float64)
            out[f"track.{k}.values"] = np.asarray(tr.values)
        for k, a in self.arrays.items():
            out[f"array.{k}"] = np.asarray(a)
        return out

    def save(self, path: str | os.PathLike) -> Path:
        """Write ``path`` (.json) and its .npz sibling atomically; returns the JSON path."""
        self.validate()
        json_path = Path(path).with_suffix(".json")
        npz_path = json_path.with_suffix(".npz")
        payload = self._payload()
        for k, a in payload.items():
            if a.dtype.kind == "O":
                raise TimelineError(f"array '{k}' has dtype object; use numeric or fixed-width string arrays")
        npz_bytes = _npz_bytes(payload)
        doc = {
            "format": "neuroreel.timeline", "version": FORMAT_VERSION,
            "kind": self.kind, "title": self.title, "source": self.source,
            "segments": [vars(s) for s in self.segments],
            "tracks": {k: {"interpolation": tr.interpolation} for k, tr in self.tracks.items()},
            "arrays": sorted(self.arrays),
            "meta": self.meta,
            "npz": {"file": npz_path.name, "sha256": hashlib.sha256(npz_bytes).hexdigest(),
                    "entries": {k: {"dtype": str(a.dtype), "shape": list(a.shape)} for k, a in payload.items()}},
        }
        doc = json.loads(json.dumps(doc))  # what a reader will parse (tuples as lists), so the digests agree
        doc[STRUCTURE_DIGEST] = _structure_digest(doc)
        write_bytes_atomic(npz_path, npz_bytes)
        write_bytes_atomic(json_path, (json.dumps(doc, indent=1, sort_keys=True) + "\n").encode())
        return json_path

    @classmethod
    def load(cls, path: str | os.PathLike, require_checksum: bool = False) -> "Timeline":
        """Read and validate a saved timeline; any defect raises :class:`TimelineError` in one line.

        The structure (captions, durations, metadata) is checked against its digest when the file has
        one; ``require_checksum`` also refuses a file without one (a cache entry is always written with
        it, so one without was edited; hand-made and older files may lack it).
        """
        json_path = Path(path).with_suffix(".json")
        try:
            doc = json.loads(json_path.read_text())
        except FileNotFoundError:
            raise TimelineError(f"{json_path}: no such timeline file") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise TimelineError(f"{json_path}: not valid JSON (truncated or corrupt?): {e}") from None
        if not isinstance(doc, dict) or doc.get("format") != "neuroreel.timeline":
            raise TimelineError(f"{json_path}: not a neuroreel timeline")
        if doc.get("version") != FORMAT_VERSION:
            raise TimelineError(f"{json_path}: timeline format version {doc.get('version')!r}; this neuroreel reads version {FORMAT_VERSION}")
        if STRUCTURE_DIGEST in doc or require_checksum:
            if doc.get(STRUCTURE_DIGEST) != _structure_digest(doc):
                raise TimelineError(f"{json_path}: its structure (captions, phases, metadata) does not match its "
                                    f"checksum (edited or damaged); rebuild the timeline")
        try:
            npz_info = doc["npz"]
            npz_path = json_path.with_name(npz_info["file"])
            raw = npz_path.read_bytes()
        except KeyError as e:
            raise TimelineError(f"{json_path}: missing field {e}") from None
        except FileNotFoundError:
            raise TimelineError(f"{json_path}: its array file {npz_path.name} is missing") from None
        if hashlib.sha256(raw).hexdigest() != npz_info.get("sha256"):
            raise TimelineError(f"{npz_path}: checksum mismatch (truncated or modified); rebuild the timeline")
        try:
            import io
            inspect_npz(io.BytesIO(raw), MAX_ARRAY_BYTES)  # before np.load allocates what the headers say
            with np.load(io.BytesIO(raw), allow_pickle=False) as z:
                payload = {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            raise TimelineError(f"{npz_path}: unreadable arrays: {e}") from None
        for k, spec in npz_info.get("entries", {}).items():
            a = payload.get(k)
            if a is None or str(a.dtype) != spec["dtype"] or list(a.shape) != spec["shape"]:
                raise TimelineError(f"{npz_path}: entry '{k}' missing or of the wrong shape/dtype")
        try:
            segments = [Segment(**s) for s in doc["segments"]]
            tracks = {k: Track(payload[f"track.{k}.times"], payload[f"track.{k}.values"], spec["interpolation"])
                      for k, spec in doc["tracks"].items()}
            arrays = {k: payload[f"array.{k}"] for k in doc["arrays"]}
            tl = cls(kind=doc["kind"], title=doc["title"], source=doc["source"], segments=segments,
                     tracks=tracks, arrays=arrays, meta=doc.get("meta", {}))
        except (KeyError, TypeError) as e:
            raise TimelineError(f"{json_path}: malformed timeline ({type(e).__name__}: {e})") from None
        return tl.validate()


def _structure_digest(doc: Mapping[str, Any]) -> str:
    """sha256 of the JSON document in canonical form, without its own digest and the array file's name
    (a published copy names its own .npz; the arrays are covered by their own checksum, held here)."""
    body = {k: v for k, v in doc.items() if k != STRUCTURE_DIGEST}
    if isinstance(body.get("npz"), dict):
        body["npz"] = {k: v for k, v in body["npz"].items() if k != "file"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _npz_bytes(arrays: Mapping[str, np.ndarray]) -> bytes:
    """An .npz that np.load reads, byte-identical for identical arrays (np.savez stamps the time)."""
    import io
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.asanyarray(arrays[name]), allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), member.getvalue())
    return buf.getvalue()


def keyframes_over(start: float, duration: float, n: int) -> np.ndarray:
    """n keyframe times spread evenly over [start, start + duration]."""
    return start + np.linspace(0.0, duration, n) if n > 1 else np.array([start], dtype=float)
