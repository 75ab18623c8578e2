"""Record what named modules of any ``torch.nn.Module`` compute, with forward hooks.

The model is never changed: hooks are added for the duration of a ``with`` block and removed
after, even on error. Each hook point says which module to watch and whether its output or its
input is the activation (the input of an MLP's down-projection *is* the post-nonlinearity
activation, which is how gated MLPs like Llama's are read). Only the requested neurons are kept,
so memory stays proportional to what was asked for; once every hook point has fired the forward
pass can stop early, since later layers cannot change what was recorded.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, Sequence

import torch
from jaxtyping import Float
from torch import Tensor, nn


@dataclass(frozen=True)
class HookPoint:
    """Where one activation lives: a module path (``encoder.layer.3.intermediate``) and which side of it."""

    module: str
    side: Literal["output", "input"] = "output"


class _StopForward(Exception):
    """Raised from the last hook to skip the rest of the forward pass."""


class HookRecorder:
    """Context manager recording the activations at named hook points during forward passes.

    >>> with HookRecorder(model, {"blocks.3.mlp.hook_post": HookPoint("encoder.layer.3.intermediate")}) as rec:
    ...     rec.run(lambda: model(**batch))
    ...     acts = rec.pop()  # {"blocks.3.mlp.hook_post": Float[Tensor, "batch pos d_mlp"]}
    """

    def __init__(self, model: nn.Module, points: Mapping[str, HookPoint],
                 neurons: Sequence[int] | None = None, stop_early: bool = True):
        if not points:
            raise ValueError("no hook points given: name at least one layer to capture")
        self.model = model
        self.points = dict(points)
        self.modules = {name: _submodule(model, p.module) for name, p in self.points.items()}
        self.neurons = None if neurons is None else torch.as_tensor(list(neurons), dtype=torch.long)
        self.stop_early = stop_early
        self._store: dict[str, Tensor] = {}
        self._handles: list[Any] = []

    def __enter__(self) -> "HookRecorder":
        for name, point in self.points.items():
            module = self.modules[name]
            if point.side == "output":
                hook = lambda mod, args, out, name=name: self._record(name, out)  # noqa: E731
                self._handles.append(module.register_forward_hook(hook))
            else:
                hook = lambda mod, args, name=name: self._record(name, args)  # noqa: E731
                self._handles.append(module.register_forward_pre_hook(hook))
        return self

    def __exit__(self, *exc: object) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()

    def _record(self, name: str, value: Any) -> None:
        tensor = value[0] if isinstance(value, (tuple, list)) else value
        if not isinstance(tensor, Tensor):
            raise TypeError(f"hook point '{name}' ({self.points[name].module}) produced "
                            f"{type(tensor).__name__}, not a tensor")
        tensor = tensor.detach()
        if self.neurons is not None:
            tensor = tensor.index_select(-1, self.neurons.to(tensor.device))
        self._store[name] = tensor.float().cpu()
        if self.stop_early and len(self._store) == len(self.points):
            raise _StopForward

    def run(self, forward: Any) -> None:
        """Call ``forward()`` (a closure running the model), stopping once every point is recorded."""
        self._store.clear()
        try:
            with torch.no_grad():  # not inference_mode: callers may compute with what we return
                forward()
        except _StopForward:
            pass
        missing = sorted(set(self.points) - set(self._store))
        if missing:
            raise RuntimeError(f"hook points never ran during the forward pass: {', '.join(missing)}")

    def pop(self) -> dict[str, Float[Tensor, "batch pos d_mlp"]]:
        """The activations of the last :meth:`run`, by hook name; clears the recorder."""
        out, self._store = self._store, {}
        return out


def _submodule(model: nn.Module, path: str) -> nn.Module:
    try:
        return model.get_submodule(path)
    except AttributeError:
        raise ValueError(f"model {type(model).__name__} has no module '{path}'") from None
