"""Hugging Face models from this machine only: find them, load them offline, find their MLP neurons.

neuroreel never downloads: the hub is switched off before transformers is imported, every
load passes ``local_files_only=True``, and a model that is not on disk is one line saying how to
get it. MLP neurons are found by module name for the common architectures; for each one the
post-nonlinearity activation is either the output of the activation module or, where the MLP
is gated (Llama-style ``act(gate) * up``) or has no activation module, the input of the MLP's
down-projection, which is the same tensor TransformerLens calls ``blocks.{l}.mlp.hook_post``.
"""
from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # before transformers / huggingface_hub read their settings
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import hashlib  # noqa: E402
import re  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

from typing import TYPE_CHECKING  # noqa: E402

from engine.real.source_base import SourceError  # noqa: E402

if TYPE_CHECKING:  # torch is imported only when a model is loaded, not to validate settings
    from torch import nn

    from engine.real.hooks import HookPoint


@dataclass(frozen=True)
class MlpLayout:
    """How one family of architectures names its MLP neurons: a module-name regex with the layer as group 1."""

    family: str
    pattern: str
    side: str  # "output" of the matched module, or its "input"


MLP_LAYOUTS: tuple[MlpLayout, ...] = (
    MlpLayout("BERT-style encoder (BERT, RoBERTa, MiniLM, ELECTRA)", r"(?:.*\.)?encoder\.layer\.(\d+)\.intermediate", "output"),
    MlpLayout("GPT-2 / GPT-J", r"(?:.*\.)?h\.(\d+)\.mlp\.act", "output"),
    MlpLayout("Llama-style gated MLP (Llama, Mistral, Qwen, Gemma, SmolLM)", r"(?:.*\.)?layers\.(\d+)\.mlp\.down_proj", "input"),
    MlpLayout("GPT-NeoX / Pythia / Falcon / BLOOM", r"(?:.*\.)?(?:layers|h)\.(\d+)\.mlp\.dense_4h_to_h", "input"),
    MlpLayout("OPT / Phi", r"(?:.*\.)?layers\.(\d+)\.(?:mlp\.)?fc2", "input"),
    MlpLayout("DistilBERT", r"(?:.*\.)?transformer\.layer\.(\d+)\.ffn\.lin2", "input"),
)


class MissingModelError(SourceError):
    """The model is neither a local folder nor in the local Hugging Face cache."""


class UnsupportedArchitectureError(SourceError):
    """No known MLP layout matches the model's modules."""


def find_mlp_points(model: nn.Module) -> tuple[str, list[HookPoint]]:
    """The architecture family and one :class:`HookPoint` per layer (index = layer), found by module names."""
    from engine.real.hooks import HookPoint

    names = [n for n, _ in model.named_modules()]
    for layout in MLP_LAYOUTS:
        by_layer: dict[int, str] = {}
        for name in names:
            if (m := re.fullmatch(layout.pattern, name)) and int(m.group(1)) not in by_layer:
                by_layer[int(m.group(1))] = name
        if by_layer and sorted(by_layer) == list(range(len(by_layer))):
            return layout.family, [HookPoint(by_layer[l], layout.side) for l in range(len(by_layer))]
    known = "; ".join(layout.family for layout in MLP_LAYOUTS)
    raise UnsupportedArchitectureError(
        f"cannot find the MLP neurons of {type(model).__name__}: neuroreel knows {known}")


def resolve_model_dir(name_or_path: str, cache_dir: str | Path | None = None) -> Path:
    """A local folder as is, or the local-cache snapshot of a hub name; never the network."""
    if not name_or_path:
        raise MissingModelError("no model given after 'hf:' (use hf:<model-name> or hf:<local folder>)")
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise MissingModelError(f"{local} is a folder but has no config.json, so it is not a Hugging Face model")
        return _with_weights(local, str(local))
    from huggingface_hub import try_to_load_from_cache

    try:
        hit = try_to_load_from_cache(name_or_path, "config.json", cache_dir=cache_dir)
    except Exception:  # malformed repo ids land here (e.g. "a/b/c"): still "not available offline"
        hit = None
    if not isinstance(hit, str):
        raise MissingModelError(
            f"model '{name_or_path}' is not in the local Hugging Face cache and neuroreel runs offline; "
            f"download it once with `hf download {name_or_path}` (`huggingface-cli download` on older "
            f"huggingface_hub) or pass a local folder")
    return _with_weights(Path(hit).parent, f"model '{name_or_path}' in the local Hugging Face cache")


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".gguf")


def _with_weights(folder: Path, what: str) -> Path:
    """The folder, if it holds weights: a config alone would load and fail only when a render captures."""
    if not any(f.suffix in WEIGHT_SUFFIXES and f.is_file() for f in folder.iterdir()):
        raise MissingModelError(f"{what} has a config.json but no weights ({', '.join('*' + s for s in WEIGHT_SUFFIXES)}); "
                                f"download the whole model or pass the folder that holds it")
    return folder


def model_identity(folder: Path) -> str:
    """What determines a folder's activations for caching: its config and the size and date of its weights."""
    h = hashlib.sha256((folder / "config.json").read_bytes())
    for f in sorted(folder.iterdir()):
        if f.suffix in {".safetensors", ".bin", ".pt", ".gguf"}:
            st = f.stat()
            h.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    return h.hexdigest()[:16]


def load_config(folder: Path):
    import transformers

    try:
        return transformers.AutoConfig.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError, KeyError) as e:
        raise SourceError(f"cannot read the model config in {folder}: {str(e).splitlines()[0]}") from None


def n_layers_of(config) -> int:
    for key in ("num_hidden_layers", "n_layer", "num_layers", "n_layers"):
        if isinstance(getattr(config, key, None), int):
            return getattr(config, key)
    raise UnsupportedArchitectureError(f"cannot tell how many layers a '{config.model_type}' model has")


def load_model(folder: Path) -> tuple[nn.Module, object]:
    """The bare model (no task head) in eval mode and its tokenizer, padding on the right.

    Right padding keeps absolute positions of real tokens unchanged, so a text's activations do
    not depend on what else is in its batch; a tokenizer without a pad token reuses its EOS token
    (the padded positions are masked out anyway).
    """
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.utils.logging.disable_progress_bar()
    try:
        model = transformers.AutoModel.from_pretrained(folder, local_files_only=True).eval()
        tokenizer = transformers.AutoTokenizer.from_pretrained(folder, local_files_only=True)
    except (OSError, ValueError, KeyError, ImportError) as e:
        raise SourceError(f"cannot load the model in {folder}: {str(e).splitlines()[0]}") from None
    tokenizer.padding_side = "right"
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise SourceError(f"the tokenizer in {folder} has neither a pad nor an end-of-text token")
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def open_hf(name_or_path: str, layer: int | None = None, cache_dir: str | Path | None = None, **options):
    """A :class:`TextModelSource` for a Hugging Face model on this machine (default layer: the middle one)."""
    from engine.real.text_source import TextModelSource

    folder = resolve_model_dir(name_or_path, cache_dir)
    config = load_config(folder)
    n_layers = n_layers_of(config)
    label = f"{name_or_path} ({n_layers}-layer {config.model_type})"
    return TextModelSource(name=f"hf:{name_or_path}", label=label, folder=folder, n_layers=n_layers,
                           layer=n_layers // 2 if layer is None else layer, **options)
