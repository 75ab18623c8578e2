"""Catalogue entries: superposition grid and shared neurons (real and toy neurons)."""
from pipeline.catalogue import Entry

ENTRIES: list[Entry] = [
    Entry("grid_minilm",
          "Superposition on a 7x7 grid of real MiniLM neurons: cat, car, house light their neurons, then all at once",
          builder="engine.timelines.grid:build", settings="engine.timelines.grid:GridSettings",
          scene="scenes.grid:SuperpositionGrid"),
    Entry("grid_toy",
          "Superposition on a 7x7 grid of toy-model neurons (80 sparse features in 49 ReLU neurons)",
          builder="engine.timelines.grid:build", settings="engine.timelines.grid:GridSettings",
          scene="scenes.grid:SuperpositionGrid", overrides={"source": "toy", "objects": ("0", "1", "2")}),
]
ENTRIES.append(
    Entry("shared_neurons",
          "Shared neurons: MiniLM's grid neurons sorted by the objects they serve, shared ones linked to each",
          builder="engine.timelines.grid_shared:build", settings="engine.timelines.grid_shared:SharedSettings",
          scene="scenes.grid_shared:SharedNeurons"))
