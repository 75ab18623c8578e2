"""Build or load a scene's timeline, cached under data/cache/timelines by what determines it."""
from __future__ import annotations

import hashlib
import math
import sys
from pathlib import Path

from engine.cache import cache_key, default_cache_root
from engine.fingerprint import code_fingerprint
from engine.timeline import Timeline, TimelineError
from pipeline.catalogue import Entry


def _input_files_digest(settings) -> str | None:
    """The contents of a user's activation file: editing the file must change the key, not just renaming it."""
    path = getattr(settings, "activations", None)
    if not path:
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def timeline_path(entry: Entry, settings) -> Path:
    """Keyed by the scene, its settings, any user file's contents, and the builder's code closure."""
    key = cache_key(entry.name, entry.builder, settings, _input_files_digest(settings),
                    code_fingerprint(entry.builder.partition(":")[0]))
    return default_cache_root() / "timelines" / f"{entry.name}-{key}.json"


MIN_FRAMES_PER_PHASE = 2


def retimed(timeline: Timeline, duration: float, fps: int) -> Timeline:
    """The timeline stretched or squeezed to ``duration`` seconds, if every phase still gets a frame.

    Phases keep their proportions, so the shortest one decides. A scene fades a phase's caption in
    over the first half of the phase, in whole frames; a phase under two frames would be rounded up
    and the video would no longer have ``round(duration * fps) + 1`` frames.
    """
    shortest = min(s.duration for s in timeline.segments) / timeline.duration
    least = MIN_FRAMES_PER_PHASE / (fps * shortest)
    if duration < least:
        raise TimelineError(f"--duration {duration:g} leaves some of this scene's {len(timeline.segments)} phases "
                            f"under {MIN_FRAMES_PER_PHASE} frames at {fps} fps; give --duration "
                            f"{math.ceil(least * 100) / 100:g} or more")
    return timeline.retimed(duration)


def get_timeline(entry: Entry, settings, progress: bool = False) -> tuple[Timeline, Path]:
    """The cached timeline if it is intact, else a freshly built one (saved atomically)."""
    path = timeline_path(entry, settings)
    if path.exists():
        try:
            return Timeline.load(path, require_checksum=True), path
        except TimelineError as e:
            print(f"neuroreel: cached timeline unusable, rebuilding: {e}", file=sys.stderr)
            path.unlink(missing_ok=True)
            path.with_suffix(".npz").unlink(missing_ok=True)
    timeline = entry.build_fn()(settings, progress=progress)
    timeline.save(path)
    return timeline, path
