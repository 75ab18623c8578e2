"""Shared by the real-neuron timelines (bars, heatmap, hunt, digits): opening activations, naming
neurons on screen, choosing neurons by a documented rule, and turning engine errors into one-line
:class:`SettingsError` messages.

Neuron names follow TransformerLens: the full name ``blocks.5.mlp.hook_post[432]`` goes in the
source line; on screen a neuron is ``L5 N432`` (layer 5, neuron 432).
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np
from jaxtyping import Float

from engine.timelines.errors import SettingsError

_TL_NAME = re.compile(r"^blocks\.(\d+)\.[A-Za-z_.]+\[(\d+)\]$")
MAX_LABEL_CHARS = 14


def short_name(name: str) -> str:
    """``blocks.5.mlp.hook_post[432]`` -> ``L5 N432``; other names are kept (shortened if long)."""
    m = _TL_NAME.match(name)
    if m:
        return f"L{m.group(1)} N{m.group(2)}"
    return name if len(name) <= MAX_LABEL_CHARS else name[: MAX_LABEL_CHARS - 1] + "\u2026"


#: Words of shipped probe names that are proper nouns, capitalised wherever they appear.
PROPER_WORDS = {"fortran": "Fortran", "spanish": "Spanish", "english": "English", "python": "Python"}


def concept_words(concept: str) -> str:
    """How a concept reads inside a sentence: ``spanish_poetry`` -> ``Spanish poetry``, ``cat`` -> ``cat``."""
    words = concept.replace("_", " ").split()
    return " ".join(PROPER_WORDS.get(w.lower(), w) for w in words) or concept


def concept_label(concept: str) -> str:
    """How a concept reads as a label: ``spanish_poetry`` -> ``Spanish poetry``, ``cat`` -> ``Cat``; ``3`` stays."""
    words = concept_words(concept)
    return words[:1].upper() + words[1:]


def join_words(words: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    words = list(words)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def jsonable(settings) -> dict:
    """Settings as JSON-able values (tuples become lists) for the timeline's meta."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(settings).items()}


# --- sources and validation ----------------------------------------------------------------------

def check_source_choice(source: str, activations: str | None, layer: int | None) -> None:
    """Cheap checks of where activations come from; a user's file is read (and validated) here."""
    if activations is not None:
        from engine.real.activations import ActivationFileError, load_activations
        try:
            load_activations(activations)
        except ActivationFileError as e:
            raise SettingsError(str(e)) from None
        return
    if source not in ("minilm", "digits") and not source.startswith("hf:") and not source.endswith(".npz"):
        raise SettingsError(f"unknown source '{source}': use minilm, digits, hf:<model-or-folder>, "
                            f"or --activations FILE.npz")
    if layer is not None and layer < 0:
        raise SettingsError(f"layer {layer} does not exist; layers are numbered from 0")


def known_concepts(source: str, activations: str | None) -> tuple[str, ...] | None:
    """Concepts a source offers, without loading a model (None if that needs a model)."""
    if activations is not None:
        from engine.real.activations import load_activations
        return load_activations(activations).concepts
    if source == "digits":
        from engine.real.digits import DIGIT_CONCEPTS
        return DIGIT_CONCEPTS
    if source == "minilm" or source.startswith("hf:"):
        from engine.real.probes import available_concepts
        return available_concepts()
    return None


def check_objects(objects: Sequence[str], source: str, activations: str | None,
                  least: int, most: int, what: str = "objects") -> None:
    """Objects are distinct, between ``least`` and ``most`` of them, and known to the source."""
    objects = tuple(objects)
    if len(set(objects)) != len(objects):
        raise SettingsError(f"{what} listed more than once: {', '.join(objects)}; list each once")
    if not least <= len(objects) <= most:
        raise SettingsError(f"this scene shows {least} to {most} {what}, got {len(objects)} "
                            f"({', '.join(objects) or 'none'}); pass e.g. --objects cat,car,house")
    known = known_concepts(source, activations)
    if known is None:
        return
    for o in objects:
        if o not in known:
            where = (f"activation file {activations}" if activations is not None
                     else "the probe texts (data/probes)" if source != "digits" else "the digits source")
            hint = (f" (add data/probes/{o}.txt)" if activations is None and source != "digits" else "")
            raise SettingsError(f"no {what[:-1] if what.endswith('s') else what} '{o}' in {where}; "
                                f"available: {', '.join(known)}{hint}")


def open_activations(source: str, activations: str | None, layer: int | None, concepts: Sequence[str]):
    """(ActivationSet of these concepts followed by their matched background, description of where it came from).

    The background (``engine.polysemantic.background_of``) joins the detector's null pool only."""
    from engine.polysemantic import USER_ERRORS, capture_with_background, open_source
    spec = str(activations) if activations is not None else source
    try:
        return capture_with_background(spec, layer, tuple(concepts)), open_source(spec, layer=layer).description
    except USER_ERRORS as e:
        raise SettingsError(str(e)) from None


def detect_concepts(acts, concepts: Sequence[str]):
    """The detector's report on the tested ``concepts`` of ``acts`` (the rest of ``acts`` is the null's background)."""
    from engine.polysemantic import SnippetError, detect
    try:
        return detect(acts, concepts=tuple(concepts))
    except SnippetError as e:
        raise SettingsError(str(e)) from None


def chance_text(chance) -> str:
    """``8 (chance 0.1)``: a count on screen beside the same count on label-shuffled data."""
    return f"{chance.real:,.0f} (chance {chance.mean:.1f})"


def chance_meta(report) -> dict:
    """Every label's count with its chance level, and how chance was measured, for a timeline's meta."""
    null = report.null
    return {"labels": {k: {"real": v.real, "mean": v.mean, "max": v.max} for k, v in report.chance().items()},
            "units": null.units, "n_units": null.n_units, "n_shuffles": null.n_shuffles,
            "n_permutations": null.n_permutations, "alpha": null.alpha, "seed": null.seed,
            "background": list(null.background)}


def layer_words(acts) -> str:
    """``block 5`` for a TransformerLens hook, else the hook or nothing."""
    hook = acts.hook
    m = re.match(r"^blocks\.(\d+)\.", hook or "")
    return f"block {m.group(1)}" if m else (hook or "this layer")


# --- choosing neurons --------------------------------------------------------------------------------

CHOICE_RULE = (
    "Each neuron is classified by the detector (engine/real/detect.py) on the objects' probe texts, "
    "against a null with labels shuffled across snippets of the objects and their matched background; "
    "its group is the set of objects whose response beats that null, and only neurons whose every response is "
    "carried by content are eligible (artifacts are left out). No neuron is shown as shared unless it passes. A neuron's score for its group S is "
    "min over S of its mean activation minus max over the other objects of its mean activation "
    "(0 if S is every object); a neuron is chosen only if that score and its mean activation on every member "
    "of S are positive, so a chosen neuron's mean activations show its group. First the "
    "`per_object` best-scoring neurons responding to one object only, for each object; then the rest "
    "round-robin over the shared groups (pairs, then larger), best score first; if places remain, more "
    "single-object neurons round-robin over the objects. Ties go to the lower index."
)


@dataclass(frozen=True)
class NeuronChoice:
    """Chosen neurons (columns of the ActivationSet) in display order, with the group each shows."""

    indices: np.ndarray  # int [chosen]
    groups: tuple[tuple[int, ...], ...]  # object indices each neuron responds to
    scores: np.ndarray  # float [chosen]


def group_score(means: Float[np.ndarray, "objects neurons"], group: Sequence[int]) -> np.ndarray:
    """min over the group of the mean activation minus max over the other objects (0 if none)."""
    others = [o for o in range(means.shape[0]) if o not in group]
    rival = means[others].max(axis=0) if others else np.zeros(means.shape[1])
    return means[list(group)].min(axis=0) - rival


def choose_neurons(report, means: Float[np.ndarray, "objects neurons"], objects: Sequence[str],
                   per_object: int, total: int) -> NeuronChoice:
    """The rule of :data:`CHOICE_RULE`. ``report`` is the detector's report on the objects' tokens."""
    objects = tuple(objects)
    position = {o: i for i, o in enumerate(objects)}
    members: dict[tuple[int, ...], list[int]] = {}
    for n in report.neurons:
        if n.label not in ("monosemantic", "polysemantic") or n.artifact_concepts:
            continue
        group = tuple(sorted(position[c] for c in n.concepts))
        members.setdefault(group, []).append(n.index)
    ranked: dict[tuple[int, ...], list[int]] = {}
    score_of: dict[int, float] = {}
    for group, idx in members.items():
        idx = np.asarray(idx, dtype=np.int64)
        score = group_score(means, group)[idx]
        keep = (score > 0) & (means[list(group)][:, idx].min(axis=0) > 0)
        idx, score = idx[keep], score[keep]
        order = np.lexsort((idx, -score))
        ranked[group] = [int(i) for i in idx[order]]
        score_of.update({int(i): float(s) for i, s in zip(idx, score)})

    picked: list[tuple[tuple[int, ...], int]] = []
    for o in range(len(objects)):
        for n in ranked.get((o,), [])[:per_object]:
            picked.append(((o,), n))
    shared = sorted((g for g in ranked if len(g) > 1), key=lambda g: (len(g), g))
    queues = {g: list(ranked[g]) for g in shared}
    while len(picked) < total and any(queues.values()):
        for g in shared:
            if queues[g] and len(picked) < total:
                picked.append((g, queues[g].pop(0)))
    singles = [(o,) for o in range(len(objects))]
    rest = {g: ranked.get(g, [])[per_object:] for g in singles}
    while len(picked) < total and any(rest.values()):
        for g in singles:
            if rest[g] and len(picked) < total:
                picked.append((g, rest[g].pop(0)))
    order = sorted(range(len(picked)), key=lambda k: (len(picked[k][0]), picked[k][0], k))
    picked = [picked[k] for k in order]
    return NeuronChoice(indices=np.array([n for _, n in picked], dtype=np.int64),
                        groups=tuple(g for g, _ in picked),
                        scores=np.array([score_of[n] for _, n in picked], dtype=np.float32))

