"""Write files so that readers never see half of one: temp file in the same folder, fsync, rename.

Temporary names carry the writer's PID (``.NAME.PID.XXXXXXXX.tmp``), so a later run can tell a
leftover of a killed writer (its process is gone) from the work of one still running.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterable, Iterator

STALE_AFTER_S = 24 * 3600  # a leftover this old is stale even if its PID now names another process
# tempfile's random part is 8 characters of [a-z0-9_]; leftovers of older versions lack the PID.
_LEFTOVER = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.)?(?:[a-z0-9_]{8}|old)(?P<suffix>\.tmp|\.partial)$")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish_mode(path: str | os.PathLike) -> None:
    """Give a file made through a temporary name the usual permissions (temp files are 0600)."""
    os.chmod(path, 0o666 & ~_umask())


def temp_prefix(name: str) -> str:
    """Prefix for a temporary sibling of ``name`` made by this process (``tempfile`` adds the rest)."""
    return f".{name}.{os.getpid()}."


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def leftover_owner(path: Path, names: Iterable[str] | None = None) -> tuple[str, int | None] | None:
    """(name, PID) if ``path`` is named like a temporary made by :func:`temp_prefix`, else None.

    With ``names``, only temporaries of those names count (so a user's ``.notes.partial`` never does).
    """
    m = _LEFTOVER.match(path.name)
    if not m or (names is not None and m["name"] not in set(names)):
        return None
    return m["name"], (int(m["pid"]) if m["pid"] else None)


def is_stale(path: Path, names: Iterable[str] | None = None, now: float | None = None) -> bool:
    """A temporary whose writer is gone: its PID is dead, or (no PID, or a recycled one) it is old."""
    owner = leftover_owner(path, names)
    if owner is None:
        return False
    try:
        age = (now or time.time()) - path.lstat().st_mtime
    except OSError:
        return False
    _, pid = owner
    if pid is not None and pid != os.getpid() and not pid_alive(pid):
        return True
    return age > STALE_AFTER_S


def publish_dir_mode(path: str | os.PathLike) -> None:
    """Give a folder made by ``mkdtemp`` (0700) the usual permissions before it is published."""
    os.chmod(path, 0o777 & ~_umask())


def publish_dir(staged: Path, final: Path) -> None:
    """Replace folder ``final`` by ``staged`` in two renames, so a reader sees the old or the new, never
    half; the old one is moved to a temporary name of this process first and removed after."""
    final.parent.mkdir(parents=True, exist_ok=True)
    old = final.with_name(f"{temp_prefix(final.name)}old.partial")
    remove(old)
    if final.exists() or final.is_symlink():
        final.rename(old)
    staged.rename(final)
    remove(old)


def remove(path: Path) -> None:
    """Remove a file or folder (not following a symlink); already gone is fine."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def remove_stale(folder: Path, suffix: str, names: Iterable[str] | None = None) -> list[Path]:
    """Remove the stale temporaries (``.tmp`` or ``.partial``) directly in ``folder``; returns them."""
    names = None if names is None else set(names)
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(suffix)]
    except OSError:
        return []
    stale = [p for p in candidates if is_stale(p, names)]
    for p in stale:
        remove(p)
    return stale


@contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Yield a file to write; on success it replaces ``path`` in one step, on failure nothing changes."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp makes 0600; published files get the usual mode
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_write(path) as f:
        f.write(data)
