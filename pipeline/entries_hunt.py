"""Catalogue entries: polysemanticity bars, heatmap, the neuron hunt, digits."""
from pipeline.catalogue import Entry

ENTRIES: list[Entry] = []
