"""Catalogue entries for scenes whose data comes from real networks (MiniLM, the digits MLP, files)."""
from pipeline.catalogue import Entry

ENTRIES: list[Entry] = []
