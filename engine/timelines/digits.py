"""Timeline for one hidden neuron of the digits MLP and the digit images that drive it.

The network is the digits source's 64-32-10 ReLU MLP (trained on the spot on scikit-learn's 8x8
digits, seeded and cached). The detector classifies its 32 hidden neurons on the held-out images
(one "token" per image, one concept per digit class); the neuron shown is chosen by
:data:`NEURON_RULE`. For each digit class the video shows the share of its images that make the
neuron fire strongly (at least the detector's active threshold, half the neuron's robust peak),
then the top-activating images of each class the neuron responds to, and, for contrast, those
of the class it ignores most.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.timeline import Segment, Timeline, Track
from engine.timelines.errors import SettingsError
from engine.timelines.hunt_common import (chance_meta, chance_text, check_source_choice, join_words, jsonable,
                                          layer_words, short_name)

KIND = "real.digits_neuron"

NEURON_RULE = (
    "Among hidden neurons the detector labels polysemantic: fewest digit classes responded to (at least "
    "two), then the largest rate of its second-strongest class (both responses strong), ties to the lower index.")


@dataclass(frozen=True)
class DigitsSettings:
    source: str = "digits"
    activations: str | None = None  # a user's activation file with images; overrides ``source``
    neuron: int | None = None  # force a hidden neuron instead of the rule
    max_classes: int = 3  # at most this many responding classes get a row of images
    images_per_class: int = 5
    contrast: bool = True  # add a row for the class the neuron ignores most
    intro_seconds: float = 4.0
    classes_seconds: float = 5.0
    row_seconds: float = 4.0
    summary_seconds: float = 5.0

    def validate(self) -> None:
        if self.activations is None and self.source != "digits":
            raise SettingsError(f"source '{self.source}': this scene needs images; use --source digits or "
                                f"--activations FILE.npz with an 'image' array (docs/activations.md)")
        check_source_choice(self.source, self.activations, None)
        if self.activations is not None:
            from engine.real.activations import load_activations
            if load_activations(self.activations).image is None:
                raise SettingsError(f"{self.activations} has no 'image' array; this scene shows the images "
                                    f"that drive a neuron (docs/activations.md)")
        if not 1 <= self.max_classes <= 3:
            raise SettingsError(f"max_classes = {self.max_classes}: show 1 to 3 classes; try --set max_classes=3")
        if not 2 <= self.images_per_class <= 6:
            raise SettingsError(f"images_per_class = {self.images_per_class}: show 2 to 6; try --set images_per_class=5")
        if self.neuron is not None and self.neuron < 0:
            raise SettingsError(f"neuron = {self.neuron}: neuron indices start at 0")


def choose_neuron(report):
    """:data:`NEURON_RULE`; None if no neuron responds to two or more classes."""
    poly = [n for n in report.with_label("polysemantic") if len(n.content_concepts) >= 2]
    if not poly:
        return None
    return min(poly, key=lambda n: (len(n.concepts), -sorted((r.rate for r in n.responses), reverse=True)[1], n.index))


def strong_share(acts, neuron: int, threshold: float) -> np.ndarray:
    """Per concept, the share of its images whose activation reaches ``threshold``."""
    a = acts.activations[:, neuron]
    return np.array([(a[acts.mask(c)] >= threshold).mean() for c in acts.concepts], dtype=np.float32)


def top_images(acts, neuron: int, concept: str, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the concept's ``n`` most activating images (strongest first; ties to the lower row) and their activations."""
    rows = np.flatnonzero(acts.mask(concept))
    a = acts.activations[rows, neuron]
    order = np.lexsort((rows, -a))[:n]
    return rows[order], a[order].astype(np.float32)


def build(settings: DigitsSettings, progress: bool = False) -> Timeline:
    from engine.polysemantic import USER_ERRORS, detect, open_source

    settings.validate()
    try:
        src = open_source(settings.activations if settings.activations is not None else settings.source)
        acts = src.capture()
    except USER_ERRORS as e:
        raise SettingsError(str(e)) from None
    if settings.neuron is not None and settings.neuron >= acts.n_neurons:
        raise SettingsError(f"neuron = {settings.neuron}, but {src.description} has {acts.n_neurons} hidden neurons")
    from engine.polysemantic import SnippetError
    try:
        report = detect(acts)  # every class tested; each image is its own unit of the null
    except SnippetError as e:
        raise SettingsError(str(e)) from None
    if settings.neuron is not None:
        chosen = report.neurons[settings.neuron]
        if chosen.label == "dead":
            raise SettingsError(f"neuron {settings.neuron} is dead (never fires on these images); choose another")
    else:
        chosen = choose_neuron(report)
        if chosen is None:
            raise SettingsError(f"no hidden neuron of {src.description} responds to two or more classes")
    n = chosen.index
    classes = acts.concepts
    share = strong_share(acts, n, chosen.threshold)
    means = np.array([acts.activations[acts.mask(c), n].mean() for c in classes], dtype=np.float32)
    shown = [r.concept for r in chosen.responses][: settings.max_classes]
    rows = [{"class": c, "responds": True} for c in shown]
    if settings.contrast:
        quiet = [c for c in classes if c not in chosen.concepts]
        if quiet:
            rows.append({"class": min(quiet, key=lambda c: (means[classes.index(c)], classes.index(c))),
                         "responds": False})
    image_rows, image_acts, images = [], [], []
    for r in rows:
        idx, a = top_images(acts, n, r["class"], settings.images_per_class)
        image_rows.append(idx)
        image_acts.append(a)
        images.append(acts.image[idx])
        r["n_images"] = int(acts.mask(r["class"]).sum())
    counts = report.counts()
    chance = report.chance()
    label = short_name(chosen.name)
    n_multi = report.measure(lambda c: int((c.content.sum(axis=0) >= 2).sum()))
    n_one = chance["monosemantic"]
    per_class = int(round(np.mean([acts.mask(c).sum() for c in classes])))
    accuracy = getattr(src, "test_accuracy", None)
    what = (f"A small network learned to read 8\u00d78 handwritten digits ({accuracy:.1%} of held-out images right)"
            if accuracy is not None else f"{src.description}")
    strong = list(chosen.concepts)  # strongest first
    some = [c for c in classes if c not in strong and share[classes.index(c)] >= 0.05]
    also = f", and a few {join_words(some)}s" if some else ""
    segments = [
        Segment("network", settings.intro_seconds, f"{what}. Look at one of its {acts.n_neurons} hidden neurons: {label}.",
                "smooth"),
        Segment("classes", settings.classes_seconds,
                f"For each digit: the share of its held-out images (about {per_class} each) that make {label} fire "
                f"strongly, above half its peak: mostly {join_words(strong)}{also}.", "smooth"),
    ]
    for k, r in enumerate(rows):
        c = r["class"]
        if r["responds"]:
            cap = (f"The {settings.images_per_class} images of {c} that drive {label} hardest"
                   + (f"; its top image reaches {image_acts[k][0]:.1f}." if k == 0 else
                      f": a different shape, the same neuron."))
        else:
            cap = f"And the {c}s that drive it hardest: they barely move it ({image_acts[k][0]:.1f} at most)."
        segments.append(Segment(f"row_{k}", settings.row_seconds, cap, "smooth"))
    segments.append(Segment("summary", settings.summary_seconds,
                            f"One neuron, several digits. {chance_text(n_multi)} of the {acts.n_neurons} hidden neurons "
                            f"respond to two or more digits beyond shuffled labels, {chance_text(n_one)} to just one. "
                            f"Polysemantic, yet {acts.n_neurons} neurons for {len(classes)} classes need no superposition.",
                            "smooth"))
    tl = Timeline(kind=KIND, title="One neuron, several digits", source=f"{src.description} \u00b7 held-out images",
                  segments=segments)

    t0, dur = tl.segment_start("classes"), settings.classes_seconds
    tl.tracks["bars"] = Track(np.array([0.0, t0, t0 + 0.7 * dur]),
                              np.stack([0 * share, 0 * share, share]).astype(np.float32))
    ts = tl.segment_start("summary")
    tl.tracks["summary"] = Track(np.array([0.0, ts, ts + 0.1 * settings.summary_seconds]),
                                 np.array([0.0, 0.0, 1.0], dtype=np.float32))
    tl.arrays.update(strong_share=share, mean_activation=means,
                     images=np.stack(images).astype(np.float32),  # [rows, images, h, w]
                     image_activations=np.stack(image_acts), image_index=np.stack(image_rows).astype(np.int64))
    tl.meta.update(
        neuron={"index": int(n), "name": chosen.name, "label": label, "label_kind": chosen.label,
                "concepts": list(chosen.concepts), "peak": chosen.peak, "threshold": chosen.threshold},
        classes=list(classes), rows=rows, counts=counts, chance=chance_meta(report),
        multi_class={"real": int(n_multi.real), "mean": n_multi.mean, "max": n_multi.max}, n_hidden=int(acts.n_neurons), hook=acts.hook or "", layer=layer_words(acts),
        image_tokens=[[str(acts.token[i]) for i in idx] for idx in image_rows],
        bar_label="share of images above half its peak", rule=NEURON_RULE, settings=jsonable(settings),
    )
    return tl.validate()
