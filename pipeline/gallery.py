"""Regenerate the README gallery: a small GIF of every scene in docs/gallery/, each under 2 MB.

    python -m pipeline.gallery          (or: make gallery)

Scenes are rendered (or reused) as MP4 at low quality into media/, then each is turned into a
palette-optimised GIF, stepping frame rate and width down until it fits the size budget.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from engine.atomic import publish_mode
from engine.cache import REPO_ROOT
from pipeline import catalogue, cli
from pipeline.formats import mp4_to_gif

GALLERY = REPO_ROOT / "docs" / "gallery"
MAX_BYTES = 2_000_000
ATTEMPTS = ((480, 10), (480, 8), (400, 8), (400, 6), (320, 6))  # (width, fps), best first


def make_gif(mp4: Path, dst: Path) -> tuple[int, int, int]:
    """Write the best-looking GIF of ``mp4`` under the budget; returns (width, fps, bytes)."""
    for width, fps in ATTEMPTS:
        with tempfile.NamedTemporaryFile(suffix=".gif", dir=dst.parent, delete=False) as tmp:
            staged = Path(tmp.name)
        mp4_to_gif(mp4, staged, width=width, fps=fps)
        size = staged.stat().st_size
        if size <= MAX_BYTES:
            publish_mode(staged)
            staged.replace(dst)
            return width, fps, size
        staged.unlink()
    raise RuntimeError(f"{mp4.name}: no GIF under {MAX_BYTES:,} bytes even at {ATTEMPTS[-1]}")


def main(argv: list[str] | None = None) -> int:
    media = REPO_ROOT / "media"
    status = cli.main(["--all", "--quality", "low", "--out", str(media), *(argv or [])])
    if status == 2:
        return status
    GALLERY.mkdir(parents=True, exist_ok=True)
    made = 0
    for name in catalogue.names():
        mp4 = media / f"{name}.mp4"
        if not mp4.exists():
            print(f"gallery: {name}: no render, skipped", file=sys.stderr)
            continue
        width, fps, size = make_gif(mp4, GALLERY / f"{name}.gif")
        print(f"gallery: {name}.gif {width}px {fps} fps {size / 1e6:.2f} MB")
        made += 1
    return 0 if made == len(catalogue.names()) and status == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
