"""Timeline for the polysemanticity bar chart: each neuron's mean activation on each object's text.

Real neurons (MiniLM block 5 by default, or a user's activation file) are classified by the
detector on the objects' probe texts against a permutation null (labels shuffled across snippets
of the objects and their matched background: dog, tree, boat), and about ten are chosen by the rule of
:data:`engine.timelines.hunt_common.CHOICE_RULE`: a few that respond to one object each, then
some that respond to several. The video grows one object's bars at a time, then shows them all,
then outlines the polysemantic neurons.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.timeline import Segment, Timeline, Track
from engine.timelines.errors import SettingsError
from engine.timelines.hunt_common import (CHOICE_RULE, chance_meta, chance_text, check_objects, check_source_choice,
                                          choose_neurons, concept_label, detect_concepts, join_words, jsonable,
                                          layer_words, open_activations, short_name)

KIND = "real.poly_bars"
DIM = 0.3  # opacity of bars that are not the focus


@dataclass(frozen=True)
class BarsSettings:
    objects: tuple[str, ...] = ("cat", "car", "house")
    source: str = "minilm"
    layer: int | None = None  # None: the source's default (MiniLM block 5)
    activations: str | None = None  # a user's activation file; overrides ``source``
    n_neurons: int = 10
    per_object: int = 2  # neurons chosen for responding to one object only, per object
    object_seconds: float = 3.5
    intro_seconds: float = 3.0
    together_seconds: float = 3.5
    shared_seconds: float = 5.5

    def validate(self) -> None:
        check_source_choice(self.source, self.activations, self.layer)
        check_objects(self.objects, self.source, self.activations, least=2, most=4)
        if not 2 <= self.n_neurons <= 12:
            raise SettingsError(f"n_neurons = {self.n_neurons}: the bar chart shows 2 to 12 neurons; "
                                f"try --set n_neurons=10")
        if not 0 <= self.per_object * len(self.objects) <= self.n_neurons:
            raise SettingsError(f"per_object = {self.per_object} single-object neurons for each of "
                                f"{len(self.objects)} objects do not fit in n_neurons = {self.n_neurons}; "
                                f"lower per_object or raise n_neurons")


def build(settings: BarsSettings, progress: bool = False) -> Timeline:
    from engine.polysemantic import concept_means

    settings.validate()
    objects = tuple(settings.objects)
    acts, description = open_activations(settings.source, settings.activations, settings.layer, objects)
    report = detect_concepts(acts, objects)
    means = concept_means(acts, objects)  # [objects, neurons]
    choice = choose_neurons(report, means, objects, settings.per_object, settings.n_neurons)
    if len(choice.indices) == 0:
        raise SettingsError(f"no neuron of {description} responds to these objects by the detector's rule; "
                            f"try other --objects")
    values = means[:, choice.indices].astype(np.float32)  # [objects, chosen]
    n_obj, n = values.shape
    labels = [concept_label(o) for o in objects]
    names = [str(acts.neuron[i]) for i in choice.indices]
    shorts = [short_name(x) for x in names]
    poly = np.array([len(g) > 1 for g in choice.groups])
    tokens = {o: int(acts.mask(o).sum()) for o in objects}
    counts = report.counts()
    chance = report.chance()
    where = layer_words(acts)
    from_file = settings.activations is not None or settings.source.endswith(".npz")
    about = (lambda o: f"Tokens labelled {o}") if from_file else (lambda o: f"Texts about {o}")  # noqa: E731

    segments = [Segment("intro", settings.intro_seconds,
                        f"{n} real neurons from {where}. Next: how strongly each one fires, on average, "
                        f"on {'the tokens labelled' if from_file else 'texts about'} {join_words(objects)}.", "smooth")]
    for k, o in enumerate(objects):
        if k == 0:
            cap = (f"{about(o)}: each bar is one neuron's mean activation over all "
                   f"{tokens[o]:,} {'of them' if from_file else f'tokens of the {o} texts'}.")
        else:
            again = [shorts[j] for j in range(n) if k in choice.groups[j] and min(choice.groups[j]) < k]
            own = [shorts[j] for j in range(n) if choice.groups[j] == (k,)]
            if again:
                cap = (f"{about(o)}: {join_words(again)} fire{'s' if len(again) == 1 else ''} again, so "
                       f"{'it answers' if len(again) == 1 else 'each answers'} more than one object. "
                       f"{join_words(own) if own else 'No other neuron here'} fire{'s' if len(own) == 1 else ''} "
                       f"for {o} alone.")
            else:
                cap = f"{about(o)}: {join_words(own) if own else 'some neurons'} fire for {o}."
        segments.append(Segment(f"object_{k}", settings.object_seconds, cap, "smooth"))
    n_poly = int(poly.sum())
    segments.append(Segment("together", settings.together_seconds,
                            f"All together: {n - n_poly} of these neurons answer one object, "
                            f"{n_poly} answer more than one.", "smooth"))
    outlined = ("Outlined: polysemantic neurons, each response beating shuffled labels. " if n_poly
                 else "No neuron here responds to two or more objects beyond chance. ")
    segments.append(Segment("polysemantic", settings.shared_seconds,
                            f"{outlined}In all of {where} ({report_size(report):,} neurons): "
                            f"{chance_text(chance['polysemantic'])} polysemantic, "
                            f"{chance_text(chance['monosemantic'])} monosemantic, "
                            f"{counts['broad']:,} broad (no object beats chance on these texts), "
                            f"{counts['artifact']:,} artifacts.", "smooth"))

    tl = Timeline(kind=KIND, title="Which objects does each neuron respond to?",
                  source=f"{description} \u00b7 {'tokens' if from_file else 'probe texts'}: "
                         f"{', '.join(f'{o} {tokens[o]:,}' for o in objects)} tokens",
                  segments=segments)
    starts = {s.name: tl.segment_start(s.name) for s in segments}
    grow = 0.75  # of a segment's (eased) time, by which its bars are fully grown

    # Heights [keys, objects, neurons]: object k grows in its own segment and then stays.
    times, heights, opacity, neuron_op, highlight = [], [], [], [], []

    def key(t, shown, focus, poly_on):
        h = values * shown[:, None]
        times.append(t)
        heights.append(h)
        opacity.append(np.ones(n_obj) if focus is None else np.where(np.arange(n_obj) == focus, 1.0, DIM))
        neuron_op.append(np.where(poly, 1.0, DIM) if poly_on else np.ones(n))
        highlight.append(poly.astype(float) if poly_on else np.zeros(n))

    # Each segment starts from the state the previous one left and reaches its own by `grow`.
    state = {"shown": np.zeros(n_obj), "focus": None, "poly": False}
    key(0.0, state["shown"].copy(), None, False)

    def change(segment: str, duration: float, fraction: float = grow, **new) -> None:
        t0 = starts[segment]
        key(t0, state["shown"].copy(), state["focus"], state["poly"])
        state.update(new)
        key(t0 + fraction * duration, state["shown"].copy(), state["focus"], state["poly"])

    for k in range(n_obj):
        shown = state["shown"].copy()
        shown[k] = 1.0
        change(f"object_{k}", settings.object_seconds, shown=shown, focus=k if k else None)
    change("together", settings.together_seconds, 0.5, focus=None)
    change("polysemantic", settings.shared_seconds, 0.5, poly=True)
    t = np.array(times)
    tl.tracks["heights"] = Track(t, np.array(heights, dtype=np.float32))
    tl.tracks["object_opacity"] = Track(t, np.array(opacity, dtype=np.float32))
    tl.tracks["neuron_opacity"] = Track(t, np.array(neuron_op, dtype=np.float32))
    tl.tracks["highlight"] = Track(t, np.array(highlight, dtype=np.float32))

    lo, hi = float(min(0.0, values.min())), float(max(values.max(), 1e-6))
    tl.arrays.update(means=values, neuron_index=choice.indices, polysemantic=poly.astype(np.int64),
                     scores=choice.scores)
    tl.meta.update(
        objects=list(objects), object_labels=labels, neuron_names=names, neuron_labels=shorts,
        groups=[list(g) for g in choice.groups],
        highlight_labels=[f"responds to {join_words([objects[o] for o in g])}" if len(g) > 1 else ""
                          for g in choice.groups],
        detector_labels=[report.neurons[i].label for i in choice.indices],
        value_range=[lo, hi], y_label="mean activation per token", hook=acts.hook or "",
        counts=counts, chance=chance_meta(report), rule=CHOICE_RULE, settings=jsonable(settings),
    )
    return tl.validate()


def report_size(report) -> int:
    return len(report.neurons)
