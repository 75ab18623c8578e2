"""Timeline for shared neurons: the grid's neurons sorted by the objects they serve, shared ones between them.

Same data as the grid (:func:`engine.timelines.grid.grid_data`): for a real layer, the grid rule's
49 neurons and the group of objects each is chosen for (``GridSelection.groups``); for the toy
model, the hidden neurons and the features each serves. Neurons move out of a holding block one
group size at a time: first those serving one object, then two, then all three; each gets a link
to every object it serves, as strong as its response.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.timeline import Segment, Timeline, Track
from engine.timelines.errors import SettingsError
from engine.timelines.grid_data import (GridData, GridDataSettings, grid_data, join_words, layer_counts_words, settings_json,
                                        source_line, source_words)

KIND = "grid.shared"
SIZE_WORDS = {1: "one", 2: "two", 3: "three"}


@dataclass(frozen=True)
class SharedSettings(GridDataSettings):
    intro_seconds: float = 4.5
    move_seconds: float = 1.8  # a group of neurons flying to its objects (smooth) ...
    hold_seconds: float = 3.4  # ... then held while the caption is read
    summary_seconds: float = 7.0

    max_objects = 3  # the layout places objects at the corners of a triangle

    def validate(self) -> None:
        super().validate()
        for name in ("intro_seconds", "move_seconds", "hold_seconds", "summary_seconds"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise SettingsError(f"{name}={value!r} is invalid: give a positive number of seconds")


def groups_of(data: GridData) -> list[dict]:
    """Every non-empty combination of objects, by size then object order: members, count, label."""
    sets: dict[tuple[int, ...], int] = {}
    for j in range(data.cells):
        members = tuple(int(o) for o in np.flatnonzero(data.serves[:, j]))
        sets[members] = sets.get(members, 0) + 1
    n_obj = len(data.objects)
    out = []
    for members in sorted(sets, key=lambda m: (len(m) if m else n_obj + 1, m)):
        names = [data.objects[o] if data.toy else data.labels[o] for o in members]
        if not members:
            label = "none of these"
        elif len(members) == 1:
            label = f"{data.labels[members[0]]} only"
        elif len(members) == n_obj and n_obj > 2:
            label = "all three" if n_obj == 3 else f"all {n_obj}"
        else:
            label = ("features " if data.toy else "") + " + ".join(names)
        out.append({"members": list(members), "n": sets[members], "label": label})
    return out


def _captions(data: GridData, groups: list[dict]) -> dict[str, str]:
    noun = "features" if data.toy else "objects"
    sizes = data.group_size
    n, n_obj = data.cells, len(data.objects)
    caps = {}
    what = (f"the {n} hidden neurons of the toy model" if data.toy
            else f"the {n} grid neurons of {source_words(data)}")
    caps["intro"] = (f"Which {noun} does each neuron serve? Here are {what}, each drawn as in the grid: one wedge "
                     f"per {noun[:-1]}, longer and fuller in colour for a stronger response.")
    for k in range(1, n_obj + 1):
        c = int((sizes == k).sum())
        if not c:
            continue
        if k == 1:
            caps["size_1"] = (f"{c} neurons serve a single {noun[:-1]}: each moves next to it, with one link. "
                              f"Link width shows how strongly the neuron responds.")
        else:
            parts = [f"{g['n']} {g['label']}" for g in groups if len(g["members"]) == k]
            where = "in the middle, linked to all of them" if k == n_obj and n_obj > 2 else "between them, linked to each"
            caps[f"size_{k}"] = (f"{c} neurons serve {'all ' if k == n_obj and n_obj > 2 else ''}"
                                 f"{SIZE_WORDS.get(k, str(k))} {noun}: they sit {where}"
                                 + (f" ({join_words(parts)})." if len(parts) > 1 else "."))
    c0 = int((sizes == 0).sum())
    if c0:
        caps["none"] = (f"{c0} neurons serve none of these {noun}: they stay aside"
                        + (f", busy with the model's other {data.n_concepts - n_obj} features." if data.toy else "."))
    shared = int((sizes >= 2).sum())
    served = int((sizes >= 1).sum())
    if data.toy:
        caps["summary"] = (f"{shared} of the {served} neurons serving these {n_obj} features serve several. Each neuron "
                           f"serves {data.extra['features_per_neuron']:.1f} of the {data.n_concepts} features on "
                           f"average: superposition.")
    else:
        caps["summary"] = (f"{shared} of these {n} neurons are shared, each response beating shuffled labels. "
                           f"{layer_counts_words(data).capitalize()}.")
    return caps


def build(settings: SharedSettings, progress: bool = False) -> Timeline:
    data = grid_data(settings)
    n_obj, cells = len(data.objects), data.cells
    groups = groups_of(data)
    caps = _captions(data, groups)
    sizes = data.group_size

    order = [k for k in range(1, n_obj + 1) if (sizes == k).any()] + ([0] if (sizes == 0).any() else [])
    names = {k: (f"size_{k}" if k else "none") for k in order}
    segments = [Segment("intro", settings.intro_seconds, caps["intro"], "smooth")]
    for k in order:
        segments.append(Segment(names[k], settings.move_seconds, caps[names[k]], "smooth"))
        segments.append(Segment(f"{names[k]}_hold", settings.hold_seconds, caps[names[k]], "linear"))
    segments.append(Segment("summary", settings.summary_seconds, caps["summary"], "smooth"))
    title = ("Shared neurons: one neuron, several concepts" if data.toy
             else "Which neurons serve several objects?")
    tl = Timeline(kind=KIND, title=title, source=source_line(data), segments=segments)

    # place[j]: 0 in the holding block, 1 at its objects; a neuron moves in its group size's segment.
    times, rows = [0.0], [np.zeros(cells)]
    for k in order:
        start = tl.segment_start(names[k])
        now = rows[-1].copy()
        times.append(start)
        rows.append(now.copy())
        now[sizes == k] = 1.0  # size 0: the neurons serving nothing close ranks in the holding block
        times.append(start + settings.move_seconds)
        rows.append(now)
    tl.tracks["place"] = Track(np.array(times), np.stack(rows))
    tl.arrays.update(levels=data.levels.astype(np.float32), responses=data.responses.astype(np.float32),
                     serves=data.serves.astype(np.int8), group_size=sizes, indices=data.indices)
    tl.meta.update(objects=list(data.objects), labels=list(data.labels), toy=data.toy, names=list(data.names),
                   groups=groups, rule=data.rule, n_concepts=data.n_concepts, layer_size=data.layer_size,
                   layer_counts=[int(c) for c in data.layer_counts], layer_chance=data.extra.get("layer_chance"),
                   settings=settings_json(settings))
    return tl.validate()
