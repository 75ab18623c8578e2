"""Catalogue entries: polysemanticity bars, heatmap, the neuron hunt, digits."""
from pipeline.catalogue import Entry

ENTRIES: list[Entry] = [
    Entry("poly_bars", "Polysemanticity bar chart: real MiniLM neurons' activation per object, polysemantic ones outlined",
          builder="engine.timelines.bars:build", settings="engine.timelines.bars:BarsSettings",
          scene="scenes.bars:PolysemanticityBars"),
    Entry("neuron_heatmap", "Neuron x object heatmap: which real MiniLM neurons respond to which objects, polysemantic ones marked",
          builder="engine.timelines.heatmap:build", settings="engine.timelines.heatmap:HeatmapSettings",
          scene="scenes.neuron_heatmap:NeuronObjectHeatmap"),
    Entry("hunt", "Hunting polysemantic neurons in MiniLM across Fortran, Spanish poetry, clinical notes and gibberish, with an artifact check",
          builder="engine.timelines.hunt:build", settings="engine.timelines.hunt:HuntSettings",
          scene="scenes.hunt:NeuronHunt"),
    Entry("digits", "One hidden neuron of a digits MLP trained on the spot, and the digit images of several classes that drive it",
          builder="engine.timelines.digits:build", settings="engine.timelines.digits:DigitsSettings",
          scene="scenes.digits:DigitsNeuron"),
]
