"""Timeline for superposition on a 7x7 grid of neurons: objects light their neurons in turn, then all at once.

Phases: intro (what the grid is), each object in turn (its pattern rises, the previous one's residual
fades), all objects at once (one wedge per object), the shared neurons outlined, and the count. The
data (which neurons, their responses, the objects each serves) is :func:`engine.timelines.grid_data.grid_data`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.timeline import Segment, Timeline, Track
from engine.timelines.errors import SettingsError
from engine.timelines.grid_data import (GridData, GridDataSettings, grid_data, join_words, layer_sentence,
                                        settings_json, source_line, source_words)

KIND = "grid.superposition"


@dataclass(frozen=True)
class GridSettings(GridDataSettings):
    """The grid video: intro, each object in turn, all together, shared neurons, the count."""

    intro_seconds: float = 4.5
    rise_seconds: float = 1.4  # an object's pattern rising (smooth) ...
    hold_seconds: float = 2.6  # ... then held while the previous object's residual fades
    residual: float = 0.35  # the previous object's brightness left when the next one has risen
    combine_seconds: float = 1.6
    combined_seconds: float = 3.2
    shared_seconds: float = 5.2
    count_seconds: float = 6.0

    def validate(self) -> None:
        super().validate()
        for name in ("intro_seconds", "rise_seconds", "hold_seconds", "combine_seconds", "combined_seconds",
                     "shared_seconds", "count_seconds"):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise SettingsError(f"{name}={value!r} is invalid: give a positive number of seconds")
        if not 0 <= self.residual < 1:
            raise SettingsError(f"residual={self.residual!r} is invalid: give a fraction in [0, 1)")


# --- words ----------------------------------------------------------------------------------------

def count_phrases(counts: np.ndarray, n_objects: int, noun: str = "object") -> list[str]:
    """Plain words for 'cells serving exactly k objects', k = 1..n (skipping empty groups)."""
    words = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}
    out = []
    for k in range(1, n_objects + 1):
        if counts[k] == 0:
            continue
        if k == 1:
            out.append(f"specific to one {noun}")
        elif k == n_objects:
            out.append("shared by all " + words.get(k, str(k)) if n_objects > 2 else "shared by both")
        else:
            out.append(f"shared by {words.get(k, str(k))}")
    return out


def count_rows(data: GridData) -> list[dict[str, Any]]:
    """The final count, one row per group size (k = 1.. objects, then 'none' if any)."""
    noun = "feature" if data.toy else "object"
    counts = data.counts
    rows, phrases = [], iter(count_phrases(counts, len(data.objects), noun))
    for k in range(1, len(data.objects) + 1):
        if counts[k]:
            rows.append({"size": k, "n": int(counts[k]), "label": next(phrases)})
    if counts[0]:
        rows.append({"size": 0, "n": int(counts[0]),
                     "label": "serving none of these (other features)" if data.toy else "serving none of them"})
    return rows


def count_sentence(data: GridData) -> str:
    rows = count_rows(data)
    parts = [f"{r['n']} neuron{'s' if r['n'] != 1 else ''} {r['label']}" if i == 0 else f"{r['n']} {r['label']}"
             for i, r in enumerate(rows)]
    return join_words(parts)


def _inputs(data: GridData, labels: list[str] | tuple[str, ...]) -> str:
    """What the model is shown for these objects, e.g. 'short texts about cat, car and house'."""
    if data.medium == "images":
        return f"images of the digits {join_words(list(data.objects))}"
    if data.medium == "file":
        return f"the tokens labelled {join_words(labels)}"
    return f"short texts about {join_words(labels)}"


def _one_input(data: GridData, label: str) -> str:
    return {"images": f"images of {label}", "file": f"the tokens labelled {label}"}.get(data.medium, f"the {label} texts")


def _all_inputs(data: GridData) -> str:
    return {"images": f"all {data.n_concepts} digit classes", "file": f"all {data.n_concepts} concepts in the file"
            }.get(data.medium, f"all {data.n_concepts} probe texts")


# --- the timeline ---------------------------------------------------------------------------------

def _captions(data: GridData) -> dict[str, str]:
    labels, n = data.labels, data.cells
    caps: dict[str, str] = {}
    if data.toy:
        top = [str(i) for i in range(len(labels))] == list(data.objects)
        caps["intro"] = (f"Each circle is one of the {n} hidden neurons of a toy model that must store "
                         f"{data.n_concepts} sparse features. We switch on one feature at a time: "
                         f"{join_words(labels)}" + (f", the {len(labels)} most important." if top else "."))
    else:
        how = ("The file gives their activations on " if data.medium == "file" else "We show the model ")
        caps["intro"] = (f"Each circle is one of {n} real neurons of {source_words(data)}. {how}"
                         f"{_inputs(data, labels)}, and each neuron lights up by how strongly it fires.")
    seen = np.zeros(n, dtype=bool)
    for i, label in enumerate(labels):
        served = data.serves[i]
        k = int(served.sum())
        if i == 0:
            if data.toy:
                how = (f"its activation with only {label} switched on, from 0 (grey) to its strongest response to any "
                       f"of the {data.n_concepts} features (full colour).")
                caps[f"object_{i}"] = f"{label.capitalize()}: {k} neurons serve it. A neuron's colour is {how}"
            else:
                how = (f"its mean activation on {_one_input(data, label)}, from its weakest (grey) to its "
                       f"strongest response over {_all_inputs(data)} (full colour)")
                caps[f"object_{i}"] = (f"{label.capitalize()}: {_neurons(k)} here serve{'s' if k == 1 else ''} it (their response beats "
                                       f"shuffled labels; {_in_layer(data, i)}). Its colour is {how}.")
        else:
            again = int((served & seen).sum())
            earlier = join_words(list(labels[:i]))
            layer = "" if data.toy else f" ({_in_layer(data, i)})"
            caps[f"object_{i}"] = (f"{label.capitalize()}: {_neurons(k)} {'' if data.toy else 'here '}serve{'s' if k == 1 else ''} "
                                   f"it{layer}; {again} of them already served {earlier}. The previous pattern fades away.")
        seen |= served
    caps["combined"] = (f"All at once: each circle splits into one wedge per {'feature' if data.toy else 'object'}. "
                        "The stronger the neuron's response to it, the longer and fuller in colour the wedge.")
    shared = int((data.group_size >= 2).sum())
    n_obj = len(labels)
    noun = "features" if data.toy else "objects"
    if data.toy:
        caps["shared"] = (f"The {shared} outlined neurons serve two or more {noun}: the {n_obj} {noun} do not get "
                          f"{n_obj} separate sets of neurons. Reusing neurons for several concepts is how a layer fits "
                          f"more concepts than it has neurons: superposition.")
        fpn = data.extra["features_per_neuron"]
        caps["count"] = (f"{count_sentence(data)}. Across all {data.n_concepts} features, each neuron serves "
                         f"{fpn:.1f} of them on average.")
    else:
        outlined = (f"The {shared} outlined neuron{'s' if shared != 1 else ''} serve{'s' if shared == 1 else ''} "
                    f"two or more {noun}, each response beating shuffled labels" if shared
                    else f"No neuron here serves two or more {noun} beyond chance")
        caps["shared"] = f"{outlined}. {layer_sentence(data)}"
        if data.cells < data.layer_size:
            shown, passing = int((data.group_size >= 2).sum()), int(data.layer_counts[2:].sum())
            which = ("Every shared neuron that passes the null is shown" if shown == passing else
                     f"The {shown} most significant of the layer's {passing:,} shared neurons are shown")
            rest = (f"the other cells serve one {noun[:-1]}" if not data.counts[0]
                    else f"the other cells serve one {noun[:-1]} or, where too few pass, none")
            caps["count"] = f"{count_sentence(data)}. {which}; {rest}."
        else:
            caps["count"] = f"{count_sentence(data)}: the whole layer of {data.layer_size} neurons."
    return caps


def _neurons(k: int) -> str:
    return f"{k} neuron" if k == 1 else f"{k} neurons"


def _in_layer(data: GridData, i: int) -> str:
    """``whole layer: 210 (chance 22.4)``: how many of the layer's neurons serve object i, beside chance."""
    c = data.extra["object_counts"][i]
    return f"whole layer: {c['real']:,} (chance {c['mean']:.1f})"


def build(settings: GridSettings, progress: bool = False) -> Timeline:
    data = grid_data(settings)
    n_obj, cells = len(data.objects), data.cells
    caps = _captions(data)

    segments = [Segment("intro", settings.intro_seconds, caps["intro"], "smooth")]
    for i in range(n_obj):
        segments.append(Segment(f"object_{i}", settings.rise_seconds, caps[f"object_{i}"], "smooth"))
        segments.append(Segment(f"object_{i}_hold", settings.hold_seconds, caps[f"object_{i}"], "linear"))
    segments += [
        Segment("combine", settings.combine_seconds, caps["combined"], "smooth"),
        Segment("combined", settings.combined_seconds, caps["combined"], "linear"),
        Segment("shared", settings.shared_seconds, caps["shared"], "smooth"),
        Segment("count", settings.count_seconds, caps["count"], "smooth"),
    ]
    title = ("Superposition on a grid of toy-model neurons" if data.toy
             else "Which objects does each real neuron serve?")
    tl = Timeline(kind=KIND, title=title, source=source_line(data), segments=segments)

    # weights[o]: how strongly object o's pattern is shown. The newest object rises to 1 while the
    # previous one drops to the residual, then the residual fades during the hold.
    times, rows = [0.0], [np.zeros(n_obj)]
    for i in range(n_obj):
        s = tl.segment_start(f"object_{i}")
        h = tl.segment_start(f"object_{i}_hold")
        start = rows[-1].copy()
        times.append(s)
        rows.append(start)
        risen = np.zeros(n_obj)
        risen[i] = 1.0
        if i > 0:
            risen[i - 1] = settings.residual
        times.append(h)
        rows.append(risen)
        held = np.zeros(n_obj)
        held[i] = 1.0
        times.append(h + settings.hold_seconds)
        rows.append(held)
    # split: 0 = one disc per neuron in the current object's colour, 1 = one wedge per object; the
    # discs go dark under the wedges as they appear.
    c0, c1 = tl.segment_start("combine"), tl.segment_start("combined")
    times += [c0, c1]
    rows += [rows[-1], np.zeros(n_obj)]
    tl.tracks["weights"] = Track(np.array(times), np.stack(rows))
    tl.tracks["split"] = Track(np.array([0.0, c0, c1]), np.array([0.0, 0.0, 1.0]))
    sh = tl.segment_start("shared")
    tl.tracks["ring"] = Track(np.array([0.0, sh, sh + 0.3 * settings.shared_seconds]), np.array([0.0, 0.0, 1.0]))

    tl.arrays.update(levels=data.levels.astype(np.float32), responses=data.responses.astype(np.float32),
                     serves=data.serves.astype(np.int8), group_size=data.group_size,
                     indices=data.indices, low=data.low.astype(np.float32), high=data.high.astype(np.float32))
    rows_, cols_ = grid_shape(cells)
    tl.meta.update(objects=list(data.objects), labels=list(data.labels), toy=data.toy, names=list(data.names),
                   grid=[rows_, cols_], count_rows=count_rows(data), rule=data.rule, n_concepts=data.n_concepts,
                   layer_size=data.layer_size, layer_counts=[int(c) for c in data.layer_counts],
                   layer_chance=data.extra.get("layer_chance"), object_counts=data.extra.get("object_counts"),
                   brightness_key=["weakest", "strongest"] if not data.toy else ["0", "strongest"],
                   settings=settings_json(settings))
    return tl.validate()


def grid_shape(cells: int) -> tuple[int, int]:
    """Rows and columns of the most square grid holding ``cells`` (7 x 7 for 49)."""
    cols = math.ceil(math.sqrt(cells))
    return math.ceil(cells / cols), cols


