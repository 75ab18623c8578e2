"""Catalogue entries: toy-model geometry, dimensionality, the phase diagram, and tied against untied weights."""
from pipeline.catalogue import Entry

ENTRIES: list[Entry] = [
    Entry("toy_geometry",
          "Toy model (5 features -> 2 dims): feature vectors over training, orthogonal -> antipodal pairs -> pentagon",
          builder="engine.timelines.toy_geometry:build", settings="engine.timelines.toy_geometry:GeometrySettings",
          scene="scenes.toy_geometry:FeatureGeometry"),
    Entry("toy_tied_untied",
          "Toy model (20 features -> 5 dims): tied W^T W against untied W2 W^T across sparsity, over training",
          builder="engine.timelines.toy_tied_untied:build",
          settings="engine.timelines.toy_tied_untied:TiedUntiedSettings",
          scene="scenes.toy_tied_untied:TiedUntiedAcrossSparsity"),
    Entry("toy_dims",
          "Toy model (12 features -> 4 dims): dimensions per feature against sparsity, plateaus and sticky fractions",
          builder="engine.timelines.toy_dims:build", settings="engine.timelines.toy_dims:DimsSettings",
          scene="scenes.toy_dims:DimensionsPerFeature"),
    Entry("toy_phase",
          "Toy model (2 features -> 1 dim): phase diagram of density x importance, theory against trained models",
          builder="engine.timelines.toy_phase:build", settings="engine.timelines.toy_phase:PhaseSettings",
          scene="scenes.toy_phase:PhaseDiagram"),
]
