"""The data behind the grid and shared-neuron scenes: which neurons, how strongly each responds to each object.

The data (:func:`grid_data`) comes from one of two places:


* a real layer (``source="minilm"`` by default, ``"digits"``, ``"hf:<model>"``, or a user's
  activation file via ``activations``): the grid's 49 neurons are chosen by the grid rule of
  :func:`engine.real.grid.select_grid` (docs/activations.md, "The grid's 49 neurons"); a neuron's
  response to an object is its mean activation on that object's tokens, and the objects it
  *serves* are those whose response beats the permutation null (labels shuffled across snippets
  of the objects and their matched background); ``layer_counts`` count the whole layer the same
  way, with their chance level in ``extra["layer_chance"]``;
* the toy model in superposition (``source="toy"``): the hidden layer of the ``neuron`` toy model
  ``h = ReLU(W x)``, ``x' = ReLU(W^T h + b)`` with more sparse features than neurons; the "objects"
  are features, a neuron's response to feature k is its activation when only feature k is on at
  1, ``h = ReLU(W[k, :])``, and it serves feature k if that response is at least
  ``serve_threshold`` of its strongest response to any feature.

Either way a neuron's brightness is its response rescaled per neuron from its weakest (0) to its
strongest (1) response over everything the source has: all probe concepts, or all toy features.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from engine.timelines.errors import SettingsError

TOY_SOURCE = "toy"
REAL_SOURCES = ("minilm", "digits")
MAX_OBJECTS = 6  # one wedge per object must stay readable
MIN_CELLS, MAX_CELLS = 4, 100


# --- settings -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GridDataSettings:
    """Where the grid's neurons and objects come from (shared by the grid and shared-neuron scenes)."""

    source: str = "minilm"  # "minilm" | "digits" | "hf:<model>" | "toy" | path of an activation .npz
    objects: tuple[str, ...] = ("cat", "car", "house")  # probe concepts; for source="toy", feature indices
    layer: int | None = None  # model sources: the block to read (None: the source's default)
    activations: str | None = None  # a user's activation file (docs/activations.md); overrides source
    n_neurons: int = 49  # grid cells; toy: the hidden layer's size (fewer if a real layer has fewer)
    # The toy model (source="toy"): more sparse features than neurons, so neurons are polysemantic.
    n_features: int = 80
    feature_probability: float = 0.03  # 1 - S
    importance_decay: float = 0.98  # feature i has importance decay**i: features 0, 1, 2 matter most
    steps: int = 2000  # with lr 5e-3 and batch 512: about 6 s on a busy 2-core CPU, loss within ~30% of 10k steps
    lr: float = 5e-3
    batch_size: int = 512
    seed: int = 0
    serve_threshold: float = 0.5  # toy: serves feature k if ReLU(W[k, j]) >= this x its strongest response

    min_objects = 2
    max_objects = MAX_OBJECTS

    def __post_init__(self) -> None:
        # Accept lists (JSON, argparse) and a comma-separated string; keep a hashable tuple.
        objects = self.objects
        if isinstance(objects, str):
            objects = [o for o in objects.split(",")]
        object.__setattr__(self, "objects", tuple(str(o).strip() for o in objects))

    # -- which data -------------------------------------------------------------------------------
    @property
    def spec(self) -> str:
        """The source spec that is read: the activation file if one is given, else ``source``."""
        return str(self.activations) if self.activations else self.source

    @property
    def is_toy(self) -> bool:
        return not self.activations and self.source == TOY_SOURCE

    def toy_config(self):
        from engine.toy import ToyConfig
        return ToyConfig(model="neuron", n_features=self.n_features, n_hidden=self.n_neurons,
                         importance_decay=self.importance_decay, feature_probability=(float(self.feature_probability),),
                         steps=self.steps, lr=self.lr, batch_size=self.batch_size, seed=self.seed, n_snapshots=2)

    # -- validation: one line, no capture, no training, nothing written -----------------------------
    def validate(self) -> None:
        objects = self.objects
        if not objects or any(not o for o in objects):
            raise SettingsError(f"objects must be non-empty names, got {list(objects)}; e.g. --objects cat,car,house")
        if len(set(objects)) != len(objects):
            raise SettingsError(f"objects repeat a name: {', '.join(objects)}; list each object once")
        if not self.min_objects <= len(objects) <= self.max_objects:
            raise SettingsError(f"this scene shows {self.min_objects} to {self.max_objects} objects, got {len(objects)} "
                                f"({', '.join(objects)}); pass {self.min_objects} to {self.max_objects} names with --objects")
        if not isinstance(self.n_neurons, int) or isinstance(self.n_neurons, bool) \
                or not MIN_CELLS <= self.n_neurons <= MAX_CELLS:
            raise SettingsError(f"n_neurons={self.n_neurons!r} is invalid: the grid shows {MIN_CELLS} to {MAX_CELLS} neurons "
                                f"(default 49, a 7x7 grid)")
        if self.layer is not None and (not isinstance(self.layer, int) or isinstance(self.layer, bool) or self.layer < 0):
            raise SettingsError(f"layer={self.layer!r} is invalid: give a block number >= 0, or leave it unset for the default")
        if self.is_toy:
            self._validate_toy()
        else:
            self._validate_real()

    def _validate_toy(self) -> None:
        from engine.toy import ToyConfigError
        try:
            self.toy_config().validate()
        except ToyConfigError as e:
            raise SettingsError(f"toy model: {e}") from None
        if not (math.isfinite(self.serve_threshold) and 0 < self.serve_threshold <= 1):
            raise SettingsError(f"serve_threshold={self.serve_threshold!r} is invalid: give a fraction in (0, 1]")
        for o in self.objects:
            if not (o.isdigit() and int(o) < self.n_features):
                raise SettingsError(f"the toy model's objects are feature indices 0..{self.n_features - 1}, "
                                    f"not '{o}'; e.g. --objects 0,1,2")

    def _validate_real(self) -> None:
        from engine.real.activations import ActivationFileError
        from engine.real.probes import ProbeError
        from engine.real.sources import SourceError, open_source

        spec = self.spec
        if not self.activations and spec not in REAL_SOURCES and not spec.startswith("hf:") \
                and not spec.endswith(".npz") and not Path(spec).is_file():
            raise SettingsError(f"unknown source '{spec}': use minilm, digits, toy, hf:<model-name-or-folder>, "
                                f"or give an activation file with --activations FILE.npz")
        try:
            source = open_source(spec, layer=self.layer)
            concepts = tuple(source.concepts)
        except (ActivationFileError, SourceError, ProbeError) as e:
            raise SettingsError(str(e)) from None
        missing = [o for o in self.objects if o not in concepts]
        if missing:
            raise SettingsError(_unknown_object_message(missing[0], concepts, source))
        if _is_file(source):
            acts = source.acts
            if acts.n_neurons < MIN_CELLS:
                raise SettingsError(f"{spec} has {acts.n_neurons} neurons; the grid needs at least {MIN_CELLS}")
            if acts.hook is None and any(n.endswith("]") for n in acts.neuron.tolist()):
                raise SettingsError(f"{spec}: the grid's neurons must come from one layer, but this file mixes "
                                    f"hook points; save one layer per file")


def _is_file(source) -> bool:
    from engine.real.sources import FileSource
    return isinstance(source, FileSource)


def _unknown_object_message(obj: str, concepts: tuple[str, ...], source) -> str:
    known = ", ".join(concepts)
    if _is_file(source):
        return f"{source.path} labels no tokens with concept '{obj}'; its concepts are: {known}"
    if source.name == "digits":
        return f"the digits model knows the concepts 0..9, not '{obj}'; e.g. --objects 3,5,8"
    return f"no probe text for object '{obj}'; available: {known} (add data/probes/{obj}.txt)"


# --- data -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GridData:
    """What the grid shows, whatever its source: one column per cell, one row per object."""

    objects: tuple[str, ...]  # as asked (probe concepts, digit classes, toy feature indices)
    labels: tuple[str, ...]  # as shown on screen
    toy: bool
    source: str  # the model and hook point, human-readable
    names: tuple[str, ...]  # neuron names, e.g. blocks.5.mlp.hook_post[27]
    indices: np.ndarray  # int [cells]: the neurons' indices in their layer
    responses: np.ndarray  # float [objects, cells]: mean activation (real) or ReLU(W[k, j]) (toy)
    low: np.ndarray  # float [cells]: the neuron's weakest response over all concepts / features
    high: np.ndarray  # float [cells]: its strongest
    levels: np.ndarray  # float [objects, cells] in [0, 1]: (response - low) / (high - low)
    serves: np.ndarray  # bool [objects, cells]
    n_concepts: int  # concepts (or toy features) the scaling ran over
    layer_size: int  # neurons in the layer the cells come from
    layer_counts: np.ndarray  # int [objects + 1]: neurons of the whole layer serving exactly k objects
    # (real sources: beside their chance level in extra["layer_chance"], the same count on label shuffles)
    rule: str  # how the cells and their objects were chosen
    medium: str = "text"  # what the objects are made of: "text" (probe texts), "images" (digits), "file", "toy"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def cells(self) -> int:
        return len(self.indices)

    @property
    def group_size(self) -> np.ndarray:
        return self.serves.sum(axis=0).astype(np.int64)

    @property
    def counts(self) -> np.ndarray:
        """int [objects + 1]: cells serving exactly k objects."""
        return np.bincount(self.group_size, minlength=len(self.objects) + 1)


def scaled_levels(responses: np.ndarray, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """(response - low) / (high - low), clipped to [0, 1]; 0 for a neuron whose responses are all equal."""
    span = high - low
    return np.where(span > 1e-9, np.clip((responses - low) / np.where(span > 1e-9, span, 1.0), 0.0, 1.0), 0.0)


def object_label(obj: str, medium: str) -> str:
    if medium == "toy":
        return f"feature {obj}"
    if medium == "images":
        return f"digit {obj}"
    return obj.replace("_", " ")


def _medium(source) -> str:
    kind = type(source).__name__
    return {"FileSource": "file", "DigitsSource": "images"}.get(kind, "text")


def grid_data(settings: GridDataSettings) -> GridData:
    """The grid's neurons, responses, brightness levels and the objects each serves."""
    settings.validate()
    return _toy_data(settings) if settings.is_toy else _real_data(settings)


def _real_data(settings: GridDataSettings) -> GridData:
    from engine.real.activations import ActivationFileError
    from engine.real.grid import concept_means, select_grid
    from engine.real.probes import ProbeError
    from engine.real.sources import SourceError, open_source

    from engine.polysemantic import background_of

    objects = settings.objects
    try:
        source = open_source(settings.spec, layer=settings.layer)
        background = background_of(source, objects)
        acts = source.capture([*objects, *background])  # as engine.polysemantic.grid_neurons does
    except (ActivationFileError, SourceError, ProbeError) as e:
        raise SettingsError(str(e)) from None
    cells = min(settings.n_neurons, acts.n_neurons)
    try:
        selection = select_grid(acts, objects, cells=cells)
    except ValueError as e:
        raise SettingsError(f"{settings.spec}: {e}") from None
    others = [c for c in source.concepts if c not in acts.concepts]
    scale = source.capture(others) if others else None  # brightness runs over every concept the source has
    all_means = concept_means(acts)[:, selection.indices].astype(np.float64)  # [concepts, cells]
    if scale is not None:
        all_means = np.concatenate([all_means, concept_means(scale)[:, selection.indices].astype(np.float64)])
    low, high = all_means.min(axis=0), all_means.max(axis=0)
    responses = selection.means.astype(np.float64)
    serves = np.array([[o in g for g in selection.groups] for o in objects], dtype=bool)
    medium = _medium(source)
    return GridData(
        objects=objects, labels=tuple(object_label(o, medium) for o in objects), toy=False, medium=medium,
        source=source.description, names=selection.names, indices=selection.indices.astype(np.int64),
        responses=responses, low=low, high=high, levels=scaled_levels(responses, low, high), serves=serves,
        n_concepts=len(source.concepts), layer_size=acts.n_neurons,
        layer_counts=np.array([c.real for c in selection.layer_counts], dtype=np.int64),
        rule=selection.rule,
        extra={"concepts": list(source.concepts), "hook": selection.hook, "background": list(background),
               "layer_chance": [{"mean": c.mean, "max": c.max} for c in selection.layer_counts],
               "object_counts": [{"real": int(c.real), "mean": c.mean, "max": c.max} for c in selection.object_counts],
               "null": {"units": selection.null.units, "n_units": selection.null.n_units,
                        "n_shuffles": selection.null.n_shuffles, "n_permutations": selection.null.n_permutations,
                        "alpha": selection.null.alpha, "seed": selection.null.seed}})


def toy_responses(W: np.ndarray) -> np.ndarray:
    """[features, neurons]: each hidden neuron's activation when only feature k is on at 1, ReLU(W[k, :])."""
    return np.maximum(np.asarray(W, dtype=np.float64), 0.0)


def _toy_data(settings: GridDataSettings) -> GridData:
    from engine.toy import train_cached

    config = settings.toy_config()
    run = train_cached(config)
    all_responses = toy_responses(run.W[0])  # [features, neurons]
    low, high = all_responses.min(axis=0), all_responses.max(axis=0)
    features = np.array([int(o) for o in settings.objects])
    responses = all_responses[features]
    levels = scaled_levels(responses, low, high)
    serves = (levels >= settings.serve_threshold) & (responses > 1e-6)
    all_levels = scaled_levels(all_responses, low, high)
    per_neuron = ((all_levels >= settings.serve_threshold) & (all_responses > 1e-6)).sum(axis=0)
    m = config.n_hidden
    rule = (f"Every one of the model's {m} hidden neurons is shown (the whole layer). A neuron serves feature k if "
            f"its activation with only feature k on, ReLU(W[k, j]), is at least {settings.serve_threshold:g} of its "
            f"strongest such activation over all {config.n_features} features.")
    serves_cells = np.bincount(serves.sum(axis=0), minlength=len(features) + 1)
    return GridData(
        objects=settings.objects, labels=tuple(object_label(o, "toy") for o in settings.objects), toy=True, medium="toy",
        source=(f"Toy model h = ReLU(Wx), x' = ReLU(W\u1d40h + b): {config.n_features} features \u2192 {m} neurons, "
                f"1\u2212S = {settings.feature_probability:g}, {config.steps:,} steps, seed {config.seed}"),
        names=tuple(f"h[{j}]" for j in range(m)), indices=np.arange(m, dtype=np.int64), responses=responses,
        low=low, high=high, levels=levels, serves=serves, n_concepts=config.n_features, layer_size=m,
        layer_counts=serves_cells, rule=rule,
        extra={"features_per_neuron": float(per_neuron.mean()), "final_loss": float(run.final_loss[0]),
               "n_features": config.n_features})


# --- words shared by the captions -----------------------------------------------------------------

def join_words(words: list[str] | tuple[str, ...]) -> str:
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def source_words(data: GridData) -> str:
    """Short model description for captions, e.g. 'the MLP of block 5 of all-MiniLM-L6-v2'."""
    text = data.source
    hook = data.extra.get("hook")
    if data.medium == "images":
        return "the hidden layer of a small digits MLP (64-32-10)" if "64-32-10" in text else text
    if data.medium == "text" and hook and hook.startswith("blocks.") and hook in text:
        block = hook.split(".")[1]
        text = text.replace(f", {hook}", "").replace(hook, "").strip(" ,")
        model = text.split(" (")[0] if text.endswith(")") else text  # drop "(6-layer BERT)"
        return f"the MLP of block {block} of {model}"
    return text


def chance_words(count: float, chance: dict) -> str:
    """``8 (chance 0.1)``: a count beside the same count on label-shuffled data."""
    return f"{int(count):,} (chance {chance['mean']:.1f})"


def _several_chance(data: GridData) -> dict:
    """Chance level of 'serves two or more objects': the per-size means summed; the per-size maxima summed
    (an upper bound on the largest shuffle's count, so a count above it beats every shuffle)."""
    ch = data.extra["layer_chance"][2:]
    return {"mean": sum(c["mean"] for c in ch), "max": sum(c["max"] for c in ch)}


def layer_counts_words(data: GridData) -> str:
    """Real sources, compact: ``whole layer: 518 (chance 73.8) serve one object, 8 (chance 0.2) two or more``."""
    lc, ch = data.layer_counts, data.extra["layer_chance"]
    noun = "digit class" if data.medium == "images" else "object"
    several_chance = _several_chance(data)
    return (f"whole layer: {chance_words(int(lc[1]), ch[1])} serve one {noun}, "
            f"{chance_words(int(lc[2:].sum()), several_chance)} two or more")


def layer_sentence(data: GridData) -> str:
    """Real sources: the whole layer's counts beside their chance levels, and what they show."""
    lc, ch = data.layer_counts, data.extra["layer_chance"]
    noun = "digit classes" if data.medium == "images" else "objects"
    one, several = int(lc[1]), int(lc[2:].sum())
    several_chance = _several_chance(data)
    text = (f"In the whole layer of {data.layer_size:,} neurons, {chance_words(one, ch[1])} serve one of these {noun} "
            f"and {chance_words(several, several_chance)} serve two or more")
    if several > several_chance["max"] and several > 0:
        return text + f": more shared neurons than any label shuffle gives (at most {several_chance['max']:.0f})."
    return text + ": no more shared neurons than shuffled labels give."


def source_line(data: GridData) -> str:
    if data.toy:
        return data.source
    return f"{data.source} \u00b7 {data.cells} of {data.layer_size:,} neurons, grid rule (docs/activations.md)"


def settings_json(settings) -> dict:
    d = asdict(settings)
    d["objects"] = list(d["objects"])
    return d
