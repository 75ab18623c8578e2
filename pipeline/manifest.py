"""DIR/manifest.json: what was rendered into DIR, merged across runs, written atomically.

Two renders into one folder each read, change and rewrite the manifest; an exclusive lock on the
folder around that read-modify-write keeps one from overwriting the other's entries with an older copy.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from engine.atomic import atomic_write

FORMAT = "neuroreel.manifest"
VERSION = 1
NAME = "manifest.json"
REQUIRED = ("name", "file", "width", "height", "fps", "frames", "duration_s", "source", "timeline")


class ManifestError(ValueError):
    pass


def read(out_dir: Path) -> dict[str, Any]:
    """The manifest, or an empty one if there is none; ManifestError (one line) if it is damaged."""
    path = out_dir / NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {"format": FORMAT, "version": VERSION, "scenes": []}
    except (OSError, UnicodeDecodeError) as e:
        raise ManifestError(f"{path} cannot be read ({getattr(e, 'strerror', None) or e}); "
                            "fix its permissions or delete it to start a fresh manifest") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ManifestError(f"{path} is not valid JSON ({e}); delete it to start a fresh manifest") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("scenes"), list):
        raise ManifestError(f"{path} is not a neuroreel manifest (no 'scenes' list); delete it to start afresh")
    if not all(isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("file"), str)
               for s in doc["scenes"]):
        raise ManifestError(f"{path} has a scene entry without a 'name' and 'file'; delete it to start afresh")
    return doc


@contextmanager
def locked(out_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``out_dir`` (flock on the folder itself: no lock file is left behind)."""
    fd = os.open(out_dir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def upsert(out_dir: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Replace the entry with the same name and file, keep every other, write atomically."""
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise ManifestError(f"manifest entry for {entry.get('name')!r} lacks {missing}")
    with locked(out_dir):
        doc = read(out_dir)
        scenes = [s for s in doc["scenes"] if not (s["name"] == entry["name"] and s["file"] == entry["file"])]
        scenes.append(entry)
        doc["scenes"] = sorted(scenes, key=lambda s: (s["name"], s["file"]))
        doc["format"], doc["version"] = FORMAT, VERSION
        with atomic_write(out_dir / NAME, "w") as f:
            json.dump(doc, f, indent=2, sort_keys=True)
            f.write("\n")
    return doc


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes: recorded per output, so a damaged output is never reused."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
