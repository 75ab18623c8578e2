"""A text model on disk as a :class:`NeuronSource`: probe texts in, one layer's MLP neurons out.

The model is loaded only when something must be captured; captures are cached per concept
(namespace ``activations``), keyed by the model's identity, the layer, the neurons kept, the
probe text's content and the source code that produced them, so editing a probe file or this
code re-captures exactly what changed and nothing else.
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from engine.cache import ArrayCache, cache_key, source_fingerprint
from engine.real import activations as activations_module
from engine.real import hf as hf_module
from engine.real.activations import ActivationSet
from engine.real.probes import PROBES_DIR, Probe, available_concepts, load_probes
from engine.real.source_base import SourceError, check_concepts, check_layer, mlp_hook

CACHE_NAMESPACE = "activations"


class TextModelSource:
    """Probe-text activations of one Hugging Face text model's MLP layer."""

    def __init__(self, name: str, label: str, folder: Path, n_layers: int, layer: int,
                 probes_dir: Path = PROBES_DIR, batch_size: int = 32, use_cache: bool = True):
        self.name = name
        self.label = label
        self.folder = Path(folder)
        self.n_layers = n_layers
        self.layer = check_layer(layer, n_layers, label)
        self.probes_dir = Path(probes_dir)
        self.batch_size = batch_size
        self.use_cache = use_cache
        self._loaded: tuple | None = None

    @property
    def description(self) -> str:
        return f"{self.label}, {mlp_hook(self.layer)}"

    @property
    def concepts(self) -> tuple[str, ...]:
        return available_concepts(self.probes_dir)

    def model(self):
        """(model, tokenizer, family, hook points per layer), loaded once."""
        if self._loaded is None:
            model, tokenizer = hf_module.load_model(self.folder)
            family, points = hf_module.find_mlp_points(model)
            if len(points) != self.n_layers:
                raise SourceError(f"{self.label}: found MLPs in {len(points)} layers but the config says {self.n_layers}")
            self._loaded = (model, tokenizer, family, points)
        return self._loaded

    def capture_probes(self, probes: Sequence[Probe], layer: int, neurons: Sequence[int] | None = None,
                       quiet: bool = True, batch_size: int | None = None) -> ActivationSet:
        """Capture these probes directly (no cache): all snippets in one batched pass."""
        from engine.real.capture import CaptureConfig, capture_texts  # torch: only when capturing

        model, tokenizer, _, points = self.model()
        config = CaptureConfig(batch_size=batch_size or self.batch_size, quiet=quiet,
                               neurons=None if neurons is None else tuple(int(n) for n in neurons))
        texts = [s for p in probes for s in p.snippets]
        labels = [p.concept for p in probes for _ in p.snippets]
        return capture_texts(model, tokenizer, texts, labels, {mlp_hook(layer): points[layer]}, config,
                             source=self.description if layer == self.layer else f"{self.label}, {mlp_hook(layer)}")

    def capture(self, concepts: Sequence[str] | None = None, *, layer: int | None = None,
                neurons: Sequence[int] | None = None, quiet: bool = True) -> ActivationSet:
        layer = self.layer if layer is None else check_layer(layer, self.n_layers, self.label)
        wanted = check_concepts(concepts, self.concepts, self.name)
        probes = load_probes(wanted, self.probes_dir)
        if not self.use_cache:
            return self.capture_probes(probes, layer, neurons, quiet)
        from engine.real import capture as capture_module, hooks as hooks_module
        from engine.real.capture import CaptureConfig

        cache = ArrayCache(CACHE_NAMESPACE)
        code = source_fingerprint(activations_module, capture_module, hooks_module, hf_module)
        identity = hf_module.model_identity(self.folder)
        neuron_key = None if neurons is None else [int(n) for n in neurons]
        parts = []
        for probe in probes:
            key = cache_key("text-capture", self.name, identity, layer, neuron_key, probe.concept,
                            probe.digest, CaptureConfig().max_length, code)
            build = lambda probe=probe: (self.capture_probes([probe], layer, neurons, quiet).to_arrays(),  # noqa: E731
                                         {"source": self.description, "concept": probe.concept})
            arrays, _ = cache.get_or_build(key, build)
            parts.append(ActivationSet.from_arrays(arrays))
        return _renumber_sequences(ActivationSet.concatenate(parts))


def _renumber_sequences(acts: ActivationSet) -> ActivationSet:
    """Per-concept captures each number their snippets from 0; make snippet ids unique across the set."""
    if acts.sequence is None:
        return acts
    change = (acts.sequence[1:] != acts.sequence[:-1]) | (acts.concept[1:] != acts.concept[:-1])
    sequence = np.concatenate([[0], np.cumsum(change)]).astype(np.int32)
    return ActivationSet(activations=acts.activations, concept=acts.concept, token=acts.token, neuron=acts.neuron,
                         source=acts.source, sequence=sequence, position=acts.position, image=acts.image)
