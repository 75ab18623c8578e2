"""Content-addressed cache of arrays under ``data/cache/``.

Everything generated (trained weights, captured activations, timelines) is keyed by a
hash of what determines it, written atomically, and checked when read back: a truncated
or corrupt entry is reported in one line, removed and rebuilt, never used.
"""
from __future__ import annotations

import dataclasses
import hashlib
import inspect
import json
import os
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Mapping

import numpy as np

from engine.atomic import atomic_write, is_stale, remove

REPO_ROOT = Path(__file__).resolve().parent.parent
_META = "__meta__"
_DIGEST = "__digest__"


class CacheError(RuntimeError):
    """A cache entry exists but cannot be trusted."""


def default_cache_root() -> Path:
    """``$NEUROREEL_CACHE`` if set (tests point it at a temp dir), else ``data/cache``."""
    return Path(os.environ.get("NEUROREEL_CACHE", REPO_ROOT / "data" / "cache"))


def sweep_stale(root: Path | None = None) -> list[Path]:
    """Remove temporaries (``.*.tmp``) that killed writers left anywhere in the cache; returns them.

    The cache is neuroreel's own, so every temporary in it is ours; one whose writer is alive is kept.
    """
    root = root or default_cache_root()
    if not root.is_dir():
        return []
    stale = [p for p in root.rglob(".*.tmp") if is_stale(p)]
    for p in stale:
        remove(p)
    return stale


def _canonical(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {"__dataclass__": type(obj).__name__, **{k: _canonical(v) for k, v in dataclasses.asdict(obj).items()}}
    if isinstance(obj, np.ndarray):
        return {"__ndarray__": str(obj.dtype), "shape": list(obj.shape),
                "sha256": hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest()}
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [_canonical(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    raise TypeError(f"cannot hash a {type(obj).__name__} into a cache key")


def cache_key(*parts: Any) -> str:
    """Stable hex key of dataclasses, dicts, lists, arrays and scalars (order of dict keys ignored)."""
    text = json.dumps([_canonical(p) for p in parts], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def source_fingerprint(*modules: ModuleType | str) -> str:
    """Hash of the source text of modules, so a code change invalidates what that code produced."""
    h = hashlib.sha256()
    for m in modules:
        src = inspect.getsource(m) if isinstance(m, ModuleType) else Path(m).read_text()
        h.update(src.encode())
    return h.hexdigest()[:16]


def _digest(arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(name.encode()); h.update(str(a.dtype).encode()); h.update(str(a.shape).encode())
        h.update(a.tobytes())
    return h.hexdigest()


def write_npz_atomic(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write an .npz so that readers never see half a file."""
    with atomic_write(path) as f:
        np.savez(f, **arrays)


def read_npz_checked(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Read every array of an entry written by :class:`ArrayCache` and verify its digest."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as e:
        raise CacheError(f"{path} is unreadable ({type(e).__name__}: {e})") from None
    if _META not in arrays or _DIGEST not in arrays:
        raise CacheError(f"{path} has no integrity record")
    meta = json.loads(str(arrays.pop(_META)))
    digest = str(arrays.pop(_DIGEST))
    if _digest(arrays) != digest:
        raise CacheError(f"{path} does not match its checksum")
    return arrays, meta


class ArrayCache:
    """One namespace of the cache: ``<root>/<namespace>/<key>.npz``."""

    def __init__(self, namespace: str, root: Path | None = None):
        self.dir = (root or default_cache_root()) / namespace

    def path(self, key: str) -> Path:
        return self.dir / f"{key}.npz"

    def load(self, key: str) -> tuple[dict[str, np.ndarray], dict[str, Any]] | None:
        """Arrays and metadata, or None if absent. A corrupt entry is reported, deleted, and treated as absent."""
        p = self.path(key)
        if not p.exists():
            return None
        try:
            return read_npz_checked(p)
        except CacheError as e:
            print(f"neuroreel: cache entry corrupt, rebuilding: {e}", file=sys.stderr)
            p.unlink(missing_ok=True)
            return None

    def save(self, key: str, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any] | None = None) -> Path:
        arrays = {k: np.asarray(v) for k, v in arrays.items()}
        payload = dict(arrays)
        payload[_META] = np.array(json.dumps(dict(meta or {}), sort_keys=True))
        payload[_DIGEST] = np.array(_digest(arrays))
        write_npz_atomic(self.path(key), payload)
        return self.path(key)

    def get_or_build(self, key: str, build: Callable[[], tuple[Mapping[str, np.ndarray], Mapping[str, Any]]]
                     ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """Load the entry, or build, save and return it."""
        hit = self.load(key)
        if hit is not None:
            return hit
        arrays, meta = build()
        self.save(key, arrays, meta)
        return {k: np.asarray(v) for k, v in arrays.items()}, dict(meta)
