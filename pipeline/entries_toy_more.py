"""Catalogue entries: toy-model geometry, dimensionality, the phase diagram, and tied against untied weights."""
from pipeline.catalogue import Entry

ENTRIES: list[Entry] = [
    Entry("toy_geometry",
          "Toy model (5 features -> 2 dims): feature vectors over training, orthogonal -> antipodal pairs -> pentagon",
          builder="engine.timelines.toy_geometry:build", settings="engine.timelines.toy_geometry:GeometrySettings",
          scene="scenes.toy_geometry:FeatureGeometry"),
]
