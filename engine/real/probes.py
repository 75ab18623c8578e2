"""Concept probe texts: ``data/probes/<concept>.txt``.

Each file starts with one provenance line (``# source: ...``) so nobody has to wonder where a
text came from; further lines starting with ``#`` are comments, blank lines are skipped, and
every other line is one snippet fed to the model on its own.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from engine.cache import REPO_ROOT

PROBES_DIR = REPO_ROOT / "data" / "probes"
SOURCE_PREFIX = "# source:"
GENRES_FILE = "genres.json"


class ProbeError(ValueError):
    """A probe concept is missing or its file breaks the probe format; the message is one line."""


@dataclass(frozen=True)
class Probe:
    """One concept's snippets and where they came from."""

    concept: str
    source: str
    snippets: tuple[str, ...]
    path: Path

    @property
    def digest(self) -> str:
        """Content hash of the snippets: captures are cached by what was read, not by file name."""
        return hashlib.sha256("\n".join((self.concept, *self.snippets)).encode()).hexdigest()[:16]


def available_concepts(directory: Path = PROBES_DIR) -> tuple[str, ...]:
    """Concept names with a probe file, sorted."""
    return tuple(sorted(p.stem for p in Path(directory).glob("*.txt")))


def parse_probe(concept: str, text: str, path: Path) -> Probe:
    lines = text.splitlines()
    if not lines or not lines[0].startswith(SOURCE_PREFIX):
        raise ProbeError(f"{path}: the first line must say where the text came from ('{SOURCE_PREFIX} ...')")
    snippets = tuple(s for line in lines[1:] if (s := line.strip()) and not s.startswith("#"))
    if not snippets:
        raise ProbeError(f"{path}: no snippets after the source line")
    return Probe(concept=concept, source=lines[0][len(SOURCE_PREFIX):].strip(), snippets=snippets, path=path)


def load_probe(concept: str, directory: Path = PROBES_DIR) -> Probe:
    path = Path(directory) / f"{concept}.txt"
    if not path.is_file():
        known = ", ".join(available_concepts(directory)) or "none"
        raise ProbeError(f"no probe text for concept '{concept}' ({path} does not exist; known concepts: {known})")
    return parse_probe(concept, path.read_text(encoding="utf-8"), path)


def load_probes(concepts: Sequence[str] | None = None, directory: Path = PROBES_DIR) -> list[Probe]:
    """Probes for these concepts (all available ones if None), in the order given."""
    names = available_concepts(directory) if concepts is None else tuple(concepts)
    if len(set(names)) != len(names):
        raise ProbeError(f"concepts listed more than once: {', '.join(names)}")
    return [load_probe(c, directory) for c in names]


def load_genres(directory: Path = PROBES_DIR) -> dict[str, str]:
    """Concept -> genre, from ``genres.json`` beside the probes (concepts not listed are their own genre)."""
    path = Path(directory) / GENRES_FILE
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(c): str(genre) for genre, members in data.items() if not genre.startswith("_") for c in members}
    except (ValueError, AttributeError, TypeError) as e:
        raise ProbeError(f"{path}: not a genre map ({e}); expected {{\"genre\": [\"concept\", ...]}}") from None


def matched_background(concepts: Sequence[str], available: Sequence[str], directory: Path = PROBES_DIR) -> tuple[str, ...]:
    """The available concepts, other than ``concepts``, written in the same genre as one of them."""
    genre = load_genres(directory)
    wanted = {genre.get(c, c) for c in concepts}
    return tuple(c for c in available if c not in concepts and genre.get(c, c) in wanted)
