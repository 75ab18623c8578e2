"""Catalogue entries: toy-model geometry, dimensionality and the phase diagram."""
from pipeline.catalogue import Entry

ENTRIES: list[Entry] = []
