"""Hugging Face loading without a network, and MLP neurons found across architectures.

The architectures are real transformers classes built from tiny configs with random weights
(nothing downloaded); each found hook point is checked against the MLP's own nonlinearity
applied to the MLP's input, captured separately.
"""
from __future__ import annotations

import pytest
import torch
import transformers
from torch import nn

from engine import polysemantic
from engine.real.hf import (MissingModelError, UnsupportedArchitectureError, find_mlp_points, open_hf,
                            resolve_model_dir)
from engine.real.hooks import HookPoint, HookRecorder
from engine.real.sources import SourceError, open_source

MISSING = "neuroreel-tests/no-such-model"


def test_missing_model_is_one_line_with_the_fix(tmp_path):
    with pytest.raises(MissingModelError) as info:
        open_source(f"hf:{MISSING}")
    text = str(info.value)
    assert "\n" not in text
    assert f"model '{MISSING}' is not in the local Hugging Face cache and neuroreel runs offline" in text
    assert f"`hf download {MISSING}`" in text and "local folder" in text
    with pytest.raises(MissingModelError, match="model 'gpt2' is not in the local Hugging Face cache"):
        resolve_model_dir("gpt2", cache_dir=tmp_path)  # an empty cache: even gpt2 is missing


def test_cli_reports_a_missing_model_in_one_line(capsys):
    assert polysemantic.main([f"hf:{MISSING}", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("neuroreel: error: model ") and "Traceback" not in err


def test_offline_switches_are_set():
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["TRANSFORMERS_OFFLINE"] == "1"


def test_folders_that_are_not_models(tmp_path):
    with pytest.raises(MissingModelError, match="has no config.json"):
        open_hf(str(tmp_path))
    with pytest.raises(MissingModelError, match="no model given"):
        open_source("hf:")
    with pytest.raises(SourceError, match="unknown source 'gpt3'"):
        open_source("gpt3")


def _tiny(config_cls, **kw) -> nn.Module:
    torch.manual_seed(0)
    return transformers.AutoModel.from_config(config_cls(**kw)).eval()


ARCHITECTURES = {
    "gpt2": (lambda: _tiny(transformers.GPT2Config, n_layer=2, n_embd=32, n_head=2, vocab_size=100,
                           n_positions=64, n_inner=48, bos_token_id=0, eos_token_id=0),
             "h.{l}.mlp", lambda mlp, x: mlp.act(mlp.c_fc(x)), "GPT-2"),
    "llama": (lambda: _tiny(transformers.LlamaConfig, num_hidden_layers=2, hidden_size=32, intermediate_size=48,
                            num_attention_heads=2, num_key_value_heads=2, vocab_size=100),
              "layers.{l}.mlp", lambda mlp, x: mlp.act_fn(mlp.gate_proj(x)) * mlp.up_proj(x), "Llama"),
    "gpt_neox": (lambda: _tiny(transformers.GPTNeoXConfig, num_hidden_layers=2, hidden_size=32,
                               intermediate_size=48, num_attention_heads=2, vocab_size=100),
                 "layers.{l}.mlp", lambda mlp, x: mlp.act(mlp.dense_h_to_4h(x)), "GPT-NeoX"),
    "opt": (lambda: _tiny(transformers.OPTConfig, num_hidden_layers=2, hidden_size=32, ffn_dim=48,
                          num_attention_heads=2, vocab_size=100, word_embed_proj_dim=32),
            "decoder.layers.{l}.fc1", None, "OPT"),
    "distilbert": (lambda: _tiny(transformers.DistilBertConfig, n_layers=2, dim=32, hidden_dim=48, n_heads=2,
                                 vocab_size=100),
                   "transformer.layer.{l}.ffn", lambda ffn, x: ffn.activation(ffn.lin1(x)), "DistilBERT"),
}


@pytest.mark.parametrize("arch", sorted(ARCHITECTURES))
def test_mlp_neurons_found_and_equal_to_the_nonlinearity(arch):
    build, mlp_path, nonlinearity, family = ARCHITECTURES[arch]
    model = build()
    found_family, points = find_mlp_points(model)
    assert family in found_family and len(points) == 2
    ids = torch.randint(0, 100, (2, 7), generator=torch.Generator().manual_seed(1))
    layer = 1
    mlp_input = {"x": HookPoint(mlp_path.format(l=layer), side="input")}
    with HookRecorder(model, {"post": points[layer], **mlp_input}, stop_early=False) as rec:
        rec.run(lambda: model(input_ids=ids))
        got = rec.pop()
    mlp = model.get_submodule(mlp_path.format(l=layer))
    if nonlinearity is None:  # OPT: the "MLP input" captured is fc1's input; the layer owns the activation
        layer_module = model.get_submodule(f"decoder.layers.{layer}")
        expected = layer_module.activation_fn(mlp(got["x"]))
    else:
        expected = nonlinearity(mlp, got["x"])
    assert got["post"].shape[-1] == 48 and got["post"].numel() == 2 * 7 * 48  # OPT flattens batch and position
    torch.testing.assert_close(got["post"], expected.detach(), rtol=1e-5, atol=1e-6)


def test_unknown_architecture_is_a_clear_error():
    with pytest.raises(UnsupportedArchitectureError) as info:
        find_mlp_points(nn.Sequential(nn.Linear(2, 2), nn.ReLU()))
    text = str(info.value)
    assert "\n" not in text and "cannot find the MLP neurons of Sequential" in text and "GPT-2" in text


def test_a_model_in_the_local_hub_cache_is_found_by_name(tmp_path):
    """The Hugging Face cache layout (refs/main -> snapshots/<revision>/...), built from the shipped folder."""
    from engine.real.minilm import minilm_dir

    repo = tmp_path / "models--neuroreel-tests--minilm"
    snapshot = repo / "snapshots" / "0123abcd"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123abcd")
    for f in minilm_dir().iterdir():
        (snapshot / f.name).symlink_to(f)
    assert resolve_model_dir("neuroreel-tests/minilm", cache_dir=tmp_path) == snapshot
    source = open_source("hf:neuroreel-tests/minilm", cache_dir=tmp_path)
    assert source.n_layers == 6 and source.layer == 3  # the middle block by default
    assert source.description == "neuroreel-tests/minilm (6-layer bert), blocks.3.mlp.hook_post"
