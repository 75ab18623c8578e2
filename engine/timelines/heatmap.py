"""Timeline for the neuron x object heatmap: how much each real neuron responds to each object.

The value shown is each neuron's mean activation on an object's text divided by its largest mean
over the objects (normalised per neuron, so every column has a 1; means below zero show as 0).
Neurons are chosen by :data:`engine.timelines.hunt_common.CHOICE_RULE` and sorted so structure is
visible: first the neurons responding to one object (grouped by object), then those responding
to several (pairs, then larger groups). Polysemantic columns are marked.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.timeline import Segment, Timeline, Track
from engine.timelines.errors import SettingsError
from engine.timelines.hunt_common import (CHOICE_RULE, chance_meta, chance_text, check_objects, check_source_choice,
                                          choose_neurons, concept_label, concept_words, detect_concepts, join_words,
                                          jsonable, layer_words, open_activations, short_name)

KIND = "real.neuron_heatmap"


@dataclass(frozen=True)
class HeatmapSettings:
    objects: tuple[str, ...] = ("cat", "car", "house")
    source: str = "minilm"
    layer: int | None = None  # None: the source's default (MiniLM block 5)
    activations: str | None = None  # a user's activation file; overrides ``source``
    n_neurons: int = 30
    per_object: int = 5  # neurons chosen for responding to one object only, per object
    layout_seconds: float = 3.5
    specific_seconds: float = 5.0
    shared_seconds: float = 5.0
    marked_seconds: float = 6.0

    def validate(self) -> None:
        check_source_choice(self.source, self.activations, self.layer)
        check_objects(self.objects, self.source, self.activations, least=2, most=6)
        if not 6 <= self.n_neurons <= 40:
            raise SettingsError(f"n_neurons = {self.n_neurons}: the heatmap shows 6 to 40 neurons; try --set n_neurons=30")
        if not 0 <= self.per_object * len(self.objects) <= self.n_neurons:
            raise SettingsError(f"per_object = {self.per_object} single-object neurons for each of "
                                f"{len(self.objects)} objects do not fit in n_neurons = {self.n_neurons}; "
                                f"lower per_object or raise n_neurons")


def normalise_per_neuron(means: np.ndarray) -> np.ndarray:
    """[objects, neurons] -> each column divided by its largest value, clipped to [0, 1]."""
    peak = np.maximum(means.max(axis=0, keepdims=True), 1e-9)
    return np.clip(means / peak, 0.0, 1.0).astype(np.float32)


def group_label(group: tuple[int, ...], objects: tuple[str, ...]) -> str:
    """``cat only``, ``cat + car``, ``all three`` / ``all 4``; groups of three of more objects: ``3 objects``."""
    words = [concept_words(o) for o in objects]
    if len(group) == 1:
        return f"{words[group[0]]} only"
    if len(group) == len(objects) and len(objects) > 2:
        return f"all {len(objects)}" if len(objects) > 3 else "all three"
    if len(group) > 2:
        return f"{len(group)} objects"
    return " + ".join(words[o] for o in group)


def build(settings: HeatmapSettings, progress: bool = False) -> Timeline:
    from engine.polysemantic import concept_means

    settings.validate()
    objects = tuple(settings.objects)
    acts, description = open_activations(settings.source, settings.activations, settings.layer, objects)
    report = detect_concepts(acts, objects)
    means = concept_means(acts, objects)
    choice = choose_neurons(report, means, objects, settings.per_object, settings.n_neurons)
    if len(choice.indices) == 0:
        raise SettingsError(f"no neuron of {description} responds to these objects by the detector's rule; "
                            f"try other --objects")
    chosen = means[:, choice.indices].astype(np.float32)
    values = normalise_per_neuron(chosen)
    n = len(choice.indices)
    poly = np.array([len(g) > 1 for g in choice.groups])

    blocks = []  # consecutive columns of one group
    for j, g in enumerate(choice.groups):
        if blocks and tuple(blocks[-1]["group"]) == g:
            blocks[-1]["stop"] = j + 1
        else:
            blocks.append({"start": j, "stop": j + 1, "group": list(g), "label": group_label(g, objects)})

    counts = report.counts()
    chance = report.chance()
    everything = report.measure(lambda c: int(((c.labels == "polysemantic") & c.content.all(axis=0)).sum()))
    where = layer_words(acts)
    from_file = settings.activations is not None or settings.source.endswith(".npz")
    n_mono, n_poly = int((~poly).sum()), int(poly.sum())
    segments = [
        Segment("layout", settings.layout_seconds,
                f"Rows: {'tokens labelled' if from_file else 'texts about'} {join_words(objects)}. Columns: {n} neurons "
                f"of {where}. A cell's colour (scale below): the neuron's mean activation on that "
                f"{'concept' if from_file else 'text'}, as a fraction of its strongest object.", "smooth"),
        Segment("specific", settings.specific_seconds,
                f"{n_mono} neurons the detector calls monosemantic, sorted by object: each answers one object beyond "
                f"chance (the test compares it with other texts, the cells show mean activation).", "smooth"),
        Segment("shared", settings.shared_seconds,
                (f"{n_poly} of the layer's {counts['polysemantic']:,} polysemantic neurons: each answers two or more "
                 f"objects, every response beating shuffled labels." if n_poly else
                 "No neuron responds to two or more of these objects beyond chance."), "smooth"),
        Segment("marked", settings.marked_seconds,
                f"In all of {where} ({len(report.neurons):,} neurons): {chance_text(chance['polysemantic'])} respond to "
                f"two or more of these objects, {everything.real:,.0f} to all; {chance_text(chance['monosemantic'])} to "
                f"one; {counts['broad']:,} to none beyond chance; {counts['artifact']:,} only through function words or "
                f"punctuation (artifacts).", "smooth"),
    ]
    tl = Timeline(kind=KIND, title="Neurons \u00d7 objects: who responds to what",
                  source=f"{description} \u00b7 {'tokens' if from_file else 'probe texts'}: "
                         f"{', '.join(f'{o} {int(acts.mask(o).sum()):,}' for o in objects)} tokens",
                  segments=segments)
    t_spec, t_shared, t_mark = (tl.segment_start(s) for s in ("specific", "shared", "marked"))

    # Columns appear block by block: single-object blocks in "specific", shared ones in "shared".
    reveal_times, reveal = [0.0], [np.zeros(n)]
    for seg_start, seg_len, wanted in ((t_spec, settings.specific_seconds, False),
                                       (t_shared, settings.shared_seconds, True)):
        these = [b for b in blocks if (len(b["group"]) > 1) == wanted]
        span = 0.8 * seg_len / max(len(these), 1)
        cur = reveal[-1].copy()
        for k, b in enumerate(these):
            reveal_times.append(seg_start + k * span)
            reveal.append(cur.copy())
            cur[b["start"]:b["stop"]] = 1.0
            reveal_times.append(seg_start + (k + 0.7) * span)
            reveal.append(cur.copy())
    tl.tracks["reveal"] = Track(np.array(reveal_times), np.array(reveal, dtype=np.float32))
    tl.tracks["marks"] = Track(np.array([0.0, t_mark, t_mark + 0.4 * settings.marked_seconds]),
                               np.array([0.0, 0.0, 1.0], dtype=np.float32))

    tl.arrays.update(values=values, means=chosen, neuron_index=choice.indices, polysemantic=poly.astype(np.int64),
                     scores=choice.scores)
    tl.meta.update(
        objects=list(objects), object_labels=[concept_label(o) for o in objects],
        neuron_names=[str(acts.neuron[i]) for i in choice.indices],
        neuron_labels=[short_name(str(acts.neuron[i])) for i in choice.indices],
        groups=[list(g) for g in choice.groups], blocks=blocks,
        detector_labels=[report.neurons[i].label for i in choice.indices],
        value_label="mean activation \u00f7 the neuron's largest", counts=counts, chance=chance_meta(report),
        responds_to_all=int(everything.real), responds_to_all_chance={"mean": everything.mean, "max": everything.max},
        hook=acts.hook or "", rule=CHOICE_RULE, settings=jsonable(settings),
    )
    return tl.validate()
