"""Regenerate the README gallery: a small GIF of every scene in docs/gallery/, each under 2 MB.

    python -m pipeline.gallery          (or: make gallery)

Scenes are rendered (or reused) as MP4 at low quality into media/, then each is turned into a
palette-optimised GIF, stepping frame rate and width down until it fits the size budget
(pipeline.fit, the same steps as ``render.py --max-size``).
"""
from __future__ import annotations

import sys
from pathlib import Path

from engine.cache import REPO_ROOT
from pipeline import catalogue, cli
from pipeline.fit import fit

GALLERY = REPO_ROOT / "docs" / "gallery"
MAX_BYTES = 2_000_000
# (width, fps), best first: fit.ladder(480, 10), fixed here so the gallery never changes with the ladder.
ATTEMPTS = ((480, 10), (480, 8), (400, 8), (400, 6), (320, 6))


def make_gif(mp4: Path, dst: Path) -> tuple[int, int, int]:
    """Write the best-looking GIF of ``mp4`` under the budget; returns (width, fps, bytes)."""
    choice = fit(mp4, dst, "gif", MAX_BYTES, attempts=ATTEMPTS)
    return choice.width, int(choice.fps), choice.bytes


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
