"""Build or load a scene's timeline, cached under data/cache/timelines by what determines it."""
from __future__ import annotations

import hashlib
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


def get_timeline(entry: Entry, settings, progress: bool = False) -> tuple[Timeline, Path]:
    """The cached timeline if it is intact, else a freshly built one (saved atomically)."""
    path = timeline_path(entry, settings)
    if path.exists():
        try:
            return Timeline.load(path), path
        except TimelineError as e:
            print(f"neuroreel: cached timeline unusable, rebuilding: {e}", file=sys.stderr)
            path.unlink(missing_ok=True)
            path.with_suffix(".npz").unlink(missing_ok=True)
    timeline = entry.build_fn()(settings, progress=progress)
    timeline.save(path)
    return timeline, path
