"""A real network trained on the spot: a 64-32-10 ReLU MLP on scikit-learn's bundled 8x8 digits.

Small enough to train full-batch in about a second, seeded and cached, and big enough to be
honest: it reaches ~96% on held-out images while most of its 32 hidden neurons respond to
two or more digit classes, i.e. it stores ten classes in superposition. Concepts are the digit
classes "0".."9"; each "token" is one held-out image (``img#<index into load_digits()>``),
and the images travel with the activations (``ActivationSet.image``) so a scene can show which
digits drive a neuron.
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
from jaxtyping import Float
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

from engine import cache
from engine.real.activations import ActivationSet, neuron_name
from engine.real.hooks import HookPoint, HookRecorder
from engine.real.source_base import check_concepts, check_layer, mlp_hook

DIGIT_CONCEPTS = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class DigitsConfig:
    hidden: int = 32
    steps: int = 400
    lr: float = 1e-2
    weight_decay: float = 1e-4
    test_fraction: float = 0.25
    seed: int = 0


@dataclass(frozen=True)
class DigitsData:
    images: Float[np.ndarray, "n 8 8"]  # pixel intensities scaled to [0, 1]
    labels: np.ndarray  # int [n]
    train: np.ndarray  # indices into images
    test: np.ndarray


def digits_data(config: DigitsConfig = DigitsConfig()) -> DigitsData:
    """The bundled data set and a stratified, seeded train/test split."""
    bunch = load_digits()
    idx = np.arange(len(bunch.target))
    train, test = train_test_split(idx, test_size=config.test_fraction, random_state=config.seed,
                                   stratify=bunch.target)
    return DigitsData(images=(bunch.images / 16.0).astype(np.float32), labels=bunch.target.astype(np.int64),
                      train=np.sort(train), test=np.sort(test))


def build_mlp(config: DigitsConfig) -> nn.Sequential:
    """64 -> hidden (ReLU) -> 10; module "1" is the ReLU whose output is ``blocks.0.mlp.hook_post``."""
    return nn.Sequential(nn.Linear(64, config.hidden), nn.ReLU(), nn.Linear(config.hidden, 10))


@contextmanager
def _one_thread() -> Iterator[None]:
    """Matrices this small gain nothing from threads, and on a busy 2-core machine thread
    synchronisation made training 10-20x slower (measured: 0.9 s on one thread, up to 20 s on two)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _train(config: DigitsConfig, data: DigitsData) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    with _one_thread():
        return _train_steps(config, data)


def _train_steps(config: DigitsConfig, data: DigitsData) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    with torch.random.fork_rng():
        torch.manual_seed(config.seed)
        model = build_mlp(config)
    x = torch.from_numpy(data.images.reshape(len(data.images), 64))
    y = torch.from_numpy(data.labels)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    for _ in range(config.steps):  # full batch: no sampling, so nothing else to seed
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x[data.train]), y[data.train])
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = (model(x[data.test]).argmax(-1) == y[data.test]).float().mean().item()
    weights = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    return weights, {"test_accuracy": accuracy, "final_loss": loss.item()}


def trained_mlp(config: DigitsConfig = DigitsConfig(), use_cache: bool = True) -> tuple[nn.Sequential, dict]:
    """The trained MLP (eval mode) and its metrics, from the cache (namespace ``models``) when possible."""
    data = digits_data(config)
    if use_cache:
        key = cache.cache_key("digits-mlp", config, cache.source_fingerprint(__file__))
        weights, meta = cache.ArrayCache("models").get_or_build(key, lambda: _train(config, data))
    else:
        weights, meta = _train(config, data)
    model = build_mlp(config)
    model.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in weights.items()})
    return model.eval(), meta


class DigitsSource:
    """The digits MLP's hidden layer as a :class:`~engine.real.source_base.NeuronSource`."""

    name = "digits"
    n_layers = 1

    def __init__(self, layer: int = 0, config: DigitsConfig = DigitsConfig(), use_cache: bool = True):
        self.layer = check_layer(layer, self.n_layers, "the digits MLP")
        self.config = config
        self.use_cache = use_cache
        self._trained: tuple[nn.Sequential, dict] | None = None

    @property
    def description(self) -> str:
        c = self.config
        return f"digits MLP 64-{c.hidden}-10 (ReLU, scikit-learn digits, seed {c.seed}), {mlp_hook(self.layer)}"

    @property
    def concepts(self) -> tuple[str, ...]:
        return DIGIT_CONCEPTS

    def model(self) -> tuple[nn.Sequential, dict]:
        if self._trained is None:
            self._trained = trained_mlp(self.config, self.use_cache)
        return self._trained

    @property
    def test_accuracy(self) -> float:
        return float(self.model()[1]["test_accuracy"])

    def capture(self, concepts: Sequence[str] | None = None, *, layer: int | None = None,
                neurons: Sequence[int] | None = None, quiet: bool = True) -> ActivationSet:
        """Hidden activations on every held-out image of the asked classes, grouped by class."""
        wanted = check_concepts(concepts, self.concepts, self.name)
        if layer is not None:
            check_layer(layer, self.n_layers, "the digits MLP")
        model, _ = self.model()
        data = digits_data(self.config)
        rows = np.concatenate([data.test[data.labels[data.test] == int(c)] for c in wanted])
        hook = mlp_hook(self.layer)
        with HookRecorder(model, {hook: HookPoint("1")}, neurons=neurons) as recorder:
            recorder.run(lambda: model(torch.from_numpy(data.images[rows].reshape(len(rows), 64))))
            acts = recorder.pop()[hook].numpy()
        kept = range(self.config.hidden) if neurons is None else neurons
        return ActivationSet(activations=acts, concept=data.labels[rows].astype(str),
                             token=np.array([f"img#{i}" for i in rows]),
                             neuron=np.array([neuron_name(hook, int(k)) for k in kept]),
                             source=self.description, image=data.images[rows])
