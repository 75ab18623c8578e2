"""Batched capture of text-model activations into an :class:`ActivationSet`.

Snippets are tokenised one per row, sorted by length so batches carry little padding, run
through the model under a :class:`HookRecorder`, and only real content tokens are kept:
padding and special tokens ([CLS], [SEP], <s>, ...) are masked out, because a neuron firing on
[CLS] in every text says nothing about any concept. Results come back in input order, so the
batch size changes nothing but speed.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from torch import nn

from engine.real.activations import ActivationSet, neuron_name
from engine.real.hooks import HookPoint, HookRecorder


@dataclass(frozen=True)
class CaptureConfig:
    """How to run a capture. ``neurons=None`` keeps every neuron of each hook point."""

    batch_size: int = 32
    max_length: int = 256  # tokens per snippet; longer snippets are truncated
    neurons: tuple[int, ...] | None = None
    quiet: bool = True  # no progress bar (library default); the CLI and bench turn it on


def token_strings(tokenizer, ids: Sequence[int]) -> list[str]:
    """Readable token strings: word pieces stay marked (``##ing``), byte-level BPE shows its spaces."""
    pieces = tokenizer.convert_ids_to_tokens(list(ids))
    return [tokenizer.convert_tokens_to_string([p]) for p in pieces]


def _progress(quiet: bool) -> Progress:
    """A bar on stderr, shown only on a terminal (logs and pipes stay clean)."""
    console = Console(stderr=True)
    return Progress(TextColumn("[bold]capturing[/] {task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("snippets"), TimeRemainingColumn(), console=console, transient=True,
                    disable=quiet or not console.is_terminal)


def capture_texts(model: nn.Module, tokenizer, texts: Sequence[str], concepts: Sequence[str],
                  points: Mapping[str, HookPoint], config: CaptureConfig = CaptureConfig(),
                  source: str = "") -> ActivationSet:
    """Activations at ``points`` (hook name -> where) for every content token of every text.

    ``concepts[i]`` labels ``texts[i]``. Neurons of several hook points are concatenated, each
    named ``<hook>[<index>]``. Tokens keep their snippet index (``sequence``) and position.
    """
    if len(texts) != len(concepts):
        raise ValueError(f"{len(texts)} texts but {len(concepts)} concept labels")
    if not texts:
        raise ValueError("no texts to capture")
    model.eval()
    encodings = tokenizer(list(texts), truncation=True, max_length=config.max_length,
                          return_special_tokens_mask=True)
    lengths = np.array([len(ids) for ids in encodings["input_ids"]])
    order = np.argsort(-lengths, kind="stable")  # longest first: similar lengths share a batch
    per_text: list[dict[str, np.ndarray]] = [None] * len(texts)  # type: ignore[list-item]
    keep_masks: list[np.ndarray] = [None] * len(texts)  # type: ignore[list-item]
    with HookRecorder(model, points, neurons=config.neurons) as recorder, _progress(config.quiet) as bar:
        task = bar.add_task(source or type(model).__name__, total=len(texts))
        for start in range(0, len(texts), config.batch_size):
            rows = order[start:start + config.batch_size]
            features = [{k: encodings[k][i] for k in encodings.keys() if k != "special_tokens_mask"} for i in rows]
            batch = tokenizer.pad(features, padding=True, return_tensors="pt")
            recorder.run(lambda: model(**batch))
            batch_shape = batch["input_ids"].shape
            # some architectures (OPT) flatten batch and position inside their MLP: undo that
            acts = {name: a.reshape(*batch_shape, -1).numpy() for name, a in recorder.pop().items()}
            for j, i in enumerate(rows):
                n = lengths[i]
                keep_masks[i] = np.asarray(encodings["special_tokens_mask"][i], dtype=bool) == 0
                per_text[i] = {name: a[j, :n] for name, a in acts.items()}
            bar.advance(task, len(rows))
    names = list(points)
    blocks, token_list, concept_list, seq_list, pos_list = [], [], [], [], []
    for i, keep in enumerate(keep_masks):
        blocks.append(np.concatenate([per_text[i][name][keep] for name in names], axis=1))
        ids = np.asarray(encodings["input_ids"][i])[keep]
        token_list.extend(token_strings(tokenizer, ids.tolist()))
        concept_list.extend([concepts[i]] * int(keep.sum()))
        seq_list.append(np.full(int(keep.sum()), i, dtype=np.int32))
        pos_list.append(np.flatnonzero(keep).astype(np.int32))
    widths = {name: per_text[0][name].shape[-1] for name in names}
    indices = list(config.neurons) if config.neurons is not None else None
    neuron = [neuron_name(name, indices[k] if indices else k) for name in names for k in range(widths[name])]
    return ActivationSet(activations=np.concatenate(blocks).astype(np.float32), concept=np.array(concept_list),
                         token=np.array(token_list), neuron=np.array(neuron), source=source,
                         sequence=np.concatenate(seq_list), position=np.concatenate(pos_list))

