"""DIR/manifest.json: what was rendered into DIR, merged across runs, written atomically."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.atomic import atomic_write

FORMAT = "neuroreel.manifest"
VERSION = 1
REQUIRED = ("name", "file", "width", "height", "fps", "frames", "duration_s", "source", "timeline")


class ManifestError(ValueError):
    pass


def read(out_dir: Path) -> dict[str, Any]:
    path = out_dir / "manifest.json"
    if not path.exists():
        return {"format": FORMAT, "version": VERSION, "scenes": []}
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise ManifestError(f"{path} is not valid JSON ({e}); delete it to start a fresh manifest") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("scenes"), list):
        raise ManifestError(f"{path} is not a neuroreel manifest (no 'scenes' list); delete it to start afresh")
    return doc


def upsert(out_dir: Path, entry: dict[str, Any]) -> dict[str, Any]:
    """Replace the entry with the same name and file, keep every other, write atomically."""
    missing = [k for k in REQUIRED if k not in entry]
    if missing:
        raise ManifestError(f"manifest entry for {entry.get('name')!r} lacks {missing}")
    doc = read(out_dir)
    scenes = [s for s in doc["scenes"] if not (s.get("name") == entry["name"] and s.get("file") == entry["file"])]
    scenes.append(entry)
    doc["scenes"] = sorted(scenes, key=lambda s: (s["name"], s["file"]))
    doc["format"], doc["version"] = FORMAT, VERSION
    with atomic_write(out_dir / "manifest.json", "w") as f:
        json.dump(doc, f, indent=2, sort_keys=True)
        f.write("\n")
    return doc
