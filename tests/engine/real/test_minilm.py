"""Capture from the real all-MiniLM-L6-v2 (shipped on PyPI): values, masking, batching, caching."""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from engine.real.capture import CaptureConfig, capture_texts
from engine.real.hooks import HookPoint, HookRecorder
from engine.real.minilm import minilm_dir
from engine.real.probes import load_probes
from engine.real.sources import NeuronSource, SourceError, mlp_hook, open_source

TEST_LAYER = 5  # the layer the session's `minilm` fixture opens

TEXTS = ["The cat sat on the mat.", "A red car drove past the old house and stopped.", "Hi"]


def _capture(minilm, texts, layer=TEST_LAYER, **config):
    model, tokenizer, _, points = minilm.model()
    return capture_texts(model, tokenizer, texts, ["x"] * len(texts), {mlp_hook(layer): points[layer]},
                         CaptureConfig(**config))


def test_description_and_concepts(minilm):
    assert minilm.layer == TEST_LAYER and isinstance(minilm, NeuronSource)
    assert minilm.description == f"all-MiniLM-L6-v2 (6-layer BERT), blocks.{TEST_LAYER}.mlp.hook_post"
    assert {"cat", "car", "house", "fortran", "spanish_poetry", "medical", "gibberish"} <= set(minilm.concepts)


def test_hook_equals_a_manual_forward_of_the_intermediate_layer(minilm):
    model, tokenizer, family, points = minilm.model()
    assert points[TEST_LAYER] == HookPoint(f"encoder.layer.{TEST_LAYER}.intermediate") and "BERT" in family
    acts = _capture(minilm, TEXTS[:1])
    enc = tokenizer(TEXTS[:1], return_tensors="pt")
    with torch.no_grad():
        hidden = model(**enc, output_hidden_states=True).hidden_states[TEST_LAYER]  # input of block TEST_LAYER
        block = model.encoder.layer[TEST_LAYER]
        attended = block.attention(hidden)[0]
        dense = block.intermediate.dense
        manual = torch.nn.functional.gelu(attended @ dense.weight.T + dense.bias)[0, 1:-1]  # drop [CLS], [SEP]
    assert acts.activations.shape == (enc["input_ids"].shape[1] - 2, 1536)
    np.testing.assert_allclose(acts.activations, manual.numpy(), rtol=1e-4, atol=1e-5)


def test_special_tokens_and_padding_are_masked(minilm):
    _, tokenizer, _, _ = minilm.model()
    acts = _capture(minilm, TEXTS, batch_size=3)
    lengths = [len(tokenizer(t)["input_ids"]) - 2 for t in TEXTS]
    assert acts.n_tokens == sum(lengths)
    assert not {"[CLS]", "[SEP]", "[PAD]"} & set(acts.token.tolist())
    assert acts.token[:7].tolist() == ["the", "cat", "sat", "on", "the", "mat", "."]
    assert np.bincount(acts.sequence).tolist() == lengths
    assert acts.position[:2].tolist() == [1, 2]  # positions count from [CLS] at 0
    # the short text padded inside a batch gives what it gives alone
    alone = _capture(minilm, TEXTS[2:])
    np.testing.assert_allclose(acts.activations[acts.sequence == 2], alone.activations, rtol=1e-4, atol=1e-5)


def test_cls_neuron_is_what_masking_removes(minilm):
    """In block 3, neuron 358 fires ~13.6 on [CLS] in every text; once masked, no content token comes close."""
    model, tokenizer, _, points = minilm.model()
    enc = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with HookRecorder(model, {"h": points[3]}) as rec:
        rec.run(lambda: model(**enc))
        raw = rec.pop()["h"]
    assert (raw[:, 0].argmax(-1) == 358).all() and raw[:, 0, 358].min() > 10
    assert _capture(minilm, TEXTS, layer=3).activations.max() < raw[:, 0, 358].min() / 2


def test_batch_size_does_not_change_the_result(minilm):
    probes = [replace(p, snippets=p.snippets[:6]) for p in load_probes(["cat", "fortran", "medical"])]
    one, four, all_at_once = (minilm.capture_probes(probes, TEST_LAYER, batch_size=b) for b in (1, 4, 64))
    for other in (four, all_at_once):
        assert one.token.tolist() == other.token.tolist() and one.concept.tolist() == other.concept.tolist()
        np.testing.assert_allclose(one.activations, other.activations, rtol=1e-4, atol=1e-4)


def test_capture_is_deterministic_and_neuron_subsets_agree(minilm):
    probes = load_probes(["house"])
    a = minilm.capture_probes(probes, TEST_LAYER)
    b = minilm.capture_probes(probes, TEST_LAYER)
    np.testing.assert_array_equal(a.activations, b.activations)
    sub = minilm.capture_probes(probes, TEST_LAYER, neurons=[7, 1000, 3])
    assert sub.neuron.tolist() == [f"blocks.{TEST_LAYER}.mlp.hook_post[{i}]" for i in (7, 1000, 3)]
    np.testing.assert_array_equal(sub.activations, a.activations[:, [7, 1000, 3]])


def test_stopping_early_changes_nothing(minilm):
    model, tokenizer, _, points = minilm.model()
    enc = tokenizer(TEXTS, padding=True, return_tensors="pt")
    outputs = []
    for stop_early in (True, False):
        with HookRecorder(model, {"h": points[1]}, stop_early=stop_early) as rec:
            rec.run(lambda: model(**enc))
            outputs.append(rec.pop()["h"])
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)


def test_all_probes_through_the_cache(minilm, minilm_acts):
    assert set(minilm_acts.concepts) == set(minilm.concepts)
    assert minilm_acts.n_neurons == 1536 and minilm_acts.n_tokens > 300 * len(minilm.concepts)
    assert minilm_acts.source == minilm.description and minilm_acts.hook == mlp_hook(TEST_LAYER)
    cached = list((Path(os.environ["NEUROREEL_CACHE"]) / "activations").glob("*.npz"))
    assert len(cached) >= len(minilm.concepts)
    fresh = open_source("minilm", layer=TEST_LAYER)  # a new source: served from the cache, model never loaded
    again = fresh.capture(["house", "cat"])
    assert fresh._loaded is None
    np.testing.assert_array_equal(again.activations, minilm_acts.select(["house", "cat"]).activations)
    assert np.unique(again.sequence).size == sum(len(p.snippets) for p in load_probes(["house", "cat"]))


def test_generic_hf_loader_on_the_shipped_folder(minilm):
    """The hf: path with a local folder is the same code any user model goes through."""
    source = open_source(f"hf:{minilm_dir()}", layer=TEST_LAYER, use_cache=False)
    assert source.n_layers == 6 and source.description.endswith(f"(6-layer bert), blocks.{TEST_LAYER}.mlp.hook_post")
    probes = load_probes(["medical"])
    np.testing.assert_allclose(source.capture(["medical"]).activations,
                               minilm.capture_probes(probes, TEST_LAYER).activations, rtol=1e-5, atol=1e-5)


def test_bad_layer_and_concept(minilm):
    with pytest.raises(SourceError, match="has layers 0..5; layer 6 does not exist"):
        open_source("minilm", layer=6)
    with pytest.raises(SourceError, match="knows no concept 'unicorn'"):
        minilm.capture(["cat", "unicorn"])
