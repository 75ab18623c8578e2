"""Catalogue entries: superposition grid and shared neurons (real and toy neurons)."""
from pipeline.catalogue import Entry

ENTRIES: list[Entry] = []
