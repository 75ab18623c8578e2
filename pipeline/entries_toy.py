"""Catalogue entries for scenes whose data comes from toy models trained on the spot."""
from pipeline.catalogue import Entry

ENTRIES = [
    Entry("toy_wtw",
          "Toy model (20 features -> 5 dims): W^T W and bias across sparsity, over training",
          builder="engine.timelines.toy_wtw:build", settings="engine.timelines.toy_wtw:WtWSettings",
          scene="scenes.toy_wtw:WtWAcrossSparsity"),
]
