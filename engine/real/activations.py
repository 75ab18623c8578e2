"""The ActivationSet: neuron activations per token, labelled by concept, and its public ``.npz`` format.

One set is what every consumer reads, whether it came from MiniLM, the digits MLP, a user's
Hugging Face model or a user's own file: the detector, the grid selection and the scenes.
The format is documented in ``docs/activations.md``; :func:`validate_arrays` is its checker,
and every rejection is an :class:`ActivationFileError` whose message is one line naming the problem.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
from jaxtyping import Float, Int

from engine.cache import write_npz_atomic
from engine.npz_check import NpzError, NpzTooLarge, inspect_npz

#: Arrays a file must have, and the optional ones neuroreel reads. Other arrays are ignored.
REQUIRED_ARRAYS = ("activations", "concept", "token")
OPTIONAL_ARRAYS = ("neuron", "source", "sequence", "position", "image")
#: The most an activation file may unpack to (all arrays), checked before loading: e.g. 1,536 neurons
#: over 160,000 tokens in float32. Detection needs a few times this in memory.
MAX_FILE_BYTES = 1_000_000_000


class ActivationFileError(ValueError):
    """An activation file or array set breaks the format; the message is one line naming the problem."""


def neuron_name(hook: str, index: int) -> str:
    """TransformerLens-style name of one neuron, e.g. ``blocks.3.mlp.hook_post[17]``."""
    return f"{hook}[{index}]"


@dataclass(frozen=True, eq=False)
class ActivationSet:
    """Activations of some neurons on some tokens; each token belongs to one concept.

    ``sequence`` / ``position`` say which probe snippet a token came from and where in it (for
    showing context); ``image`` holds the input image of each "token" for image models (digits).
    """

    activations: Float[np.ndarray, "tokens neurons"]
    concept: np.ndarray  # str [tokens]
    token: np.ndarray  # str [tokens]
    neuron: np.ndarray | None = None  # str [neurons]; default names "n0", "n1", ...
    source: str = ""
    sequence: Int[np.ndarray, "tokens"] | None = None
    position: Int[np.ndarray, "tokens"] | None = None
    image: Float[np.ndarray, "tokens height width"] | None = None
    _concepts: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        checked = validate_arrays(self._raw_arrays())
        for name in ("activations", "concept", "token", "neuron", "sequence", "position", "image"):
            object.__setattr__(self, name, checked[name])
        object.__setattr__(self, "source", str(checked["source"]))
        _, first = np.unique(self.concept, return_index=True)
        object.__setattr__(self, "_concepts", tuple(self.concept[np.sort(first)].tolist()))

    def _raw_arrays(self) -> dict[str, object]:
        raw = {"activations": self.activations, "concept": self.concept, "token": self.token, "source": self.source}
        for name in ("neuron", "sequence", "position", "image"):
            if getattr(self, name) is not None:
                raw[name] = getattr(self, name)
        return raw

    # --- shape and labels -------------------------------------------------------------------
    @property
    def n_tokens(self) -> int:
        return self.activations.shape[0]

    @property
    def n_neurons(self) -> int:
        return self.activations.shape[1]

    @property
    def concepts(self) -> tuple[str, ...]:
        """Distinct concepts in order of first appearance."""
        return self._concepts

    @property
    def hook(self) -> str | None:
        """The hook point shared by all neurons (``blocks.3.mlp.hook_post``), or None if mixed/unnamed."""
        hooks = {name.rsplit("[", 1)[0] if name.endswith("]") else None for name in self.neuron.tolist()}
        return hooks.pop() if len(hooks) == 1 else None

    def mask(self, concept: str) -> np.ndarray:
        """Boolean [tokens] mask of one concept's tokens."""
        if concept not in self._concepts:
            raise KeyError(f"concept '{concept}' is not in this activation set (it has: {', '.join(self._concepts)})")
        return self.concept == concept

    # --- subsets ------------------------------------------------------------------------------
    def select(self, concepts: Sequence[str] | None = None, neurons: Sequence[int] | None = None) -> "ActivationSet":
        """A new set with only these concepts (in this order) and/or these neuron indices."""
        rows = np.arange(self.n_tokens)
        if concepts is not None:
            rows = np.concatenate([np.flatnonzero(self.mask(c)) for c in concepts]) if concepts else rows[:0]
        cols = np.arange(self.n_neurons) if neurons is None else np.asarray(neurons, dtype=np.int64)
        pick = lambda a: None if a is None else a[rows]  # noqa: E731
        return ActivationSet(
            activations=self.activations[np.ix_(rows, cols)], concept=self.concept[rows], token=self.token[rows],
            neuron=self.neuron[cols], source=self.source, sequence=pick(self.sequence),
            position=pick(self.position), image=pick(self.image))

    @staticmethod
    def concatenate(sets: Sequence["ActivationSet"]) -> "ActivationSet":
        """Stack sets of the same neurons along tokens (e.g. one capture per concept)."""
        if not sets:
            raise ActivationFileError("nothing to concatenate: no activation sets given")
        first = sets[0]
        for s in sets[1:]:
            if s.neuron.tolist() != first.neuron.tolist():
                raise ActivationFileError("cannot concatenate activation sets of different neurons")
        cat = lambda name: (None if any(getattr(s, name) is None for s in sets)  # noqa: E731
                            else np.concatenate([getattr(s, name) for s in sets]))
        return ActivationSet(activations=cat("activations"), concept=cat("concept"), token=cat("token"),
                             neuron=first.neuron, source=first.source, sequence=cat("sequence"),
                             position=cat("position"), image=cat("image"))

    # --- file format ----------------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays of the public file format (see docs/activations.md)."""
        out = {"activations": self.activations, "concept": self.concept, "token": self.token,
               "neuron": self.neuron, "source": np.array(self.source)}
        for name in ("sequence", "position", "image"):
            if getattr(self, name) is not None:
                out[name] = getattr(self, name)
        return out

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, object]) -> "ActivationSet":
        checked = validate_arrays(arrays)
        return cls(**{k: checked[k] for k in ("activations", "concept", "token", "neuron", "source",
                                              "sequence", "position", "image")})

    def save(self, path: str | Path) -> Path:
        """Write the set as an ``.npz`` atomically (readers never see half a file)."""
        path = Path(path)
        if path.suffix != ".npz":
            path = path.with_name(path.name + ".npz")
        write_npz_atomic(path, self.to_arrays())
        return path

    @classmethod
    def load(cls, path: str | Path) -> "ActivationSet":
        return load_activations(path)


def load_activations(path: str | Path) -> ActivationSet:
    """Read and validate an activation file; any problem is one :class:`ActivationFileError` line."""
    path = Path(path)
    if not path.is_file():
        raise ActivationFileError(f"{path}: no such activation file")
    try:
        inspect_npz(path, MAX_FILE_BYTES)  # a zip bomb or a file that is not an .npz stops here, unloaded
    except NpzError as e:
        fix = "; save fewer tokens or neurons per file (docs/activations.md)" if isinstance(e, NpzTooLarge) else ""
        raise ActivationFileError(f"{path}: {e}{fix}") from None
    except OSError as e:
        raise ActivationFileError(f"{path}: cannot be read ({e.strerror or e})") from None
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {}
            for name in z.files:
                try:
                    arrays[name] = z[name]
                except ValueError:  # object arrays need pickle, which we never allow
                    raise ActivationFileError(
                        f"{path}: array '{name}' holds Python objects; save strings as a numpy str array, "
                        f"e.g. np.array(list_of_str)") from None
    except ActivationFileError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        raise ActivationFileError(f"{path}: not a readable .npz file ({type(e).__name__}: {e})") from None
    try:
        return ActivationSet.from_arrays(arrays)
    except ActivationFileError as e:
        raise ActivationFileError(f"{path}: {e}") from None


def _strings(name: str, value: object, length: int | None, what: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind == "S":
        arr = np.char.decode(arr, "utf-8")
    if arr.dtype.kind != "U":
        raise ActivationFileError(f"array '{name}' must hold strings, got dtype {arr.dtype}")
    if arr.ndim != 1:
        raise ActivationFileError(f"array '{name}' must be 1-D [{what}], got shape {arr.shape}")
    if length is not None and arr.shape[0] != length:
        raise ActivationFileError(f"array '{name}' has {arr.shape[0]} entries but activations has {length} {what}")
    return arr


def _per_token_ints(name: str, value: object, n_tokens: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "iu" or arr.shape != (n_tokens,):
        raise ActivationFileError(f"array '{name}' must be integers of shape ({n_tokens},), "
                                  f"got {arr.dtype} {arr.shape}")
    return arr.astype(np.int32)


def validate_arrays(arrays: Mapping[str, object]) -> dict[str, object]:
    """Check arrays against the format and return them normalised (float32 activations, str labels).

    Floating activations of any width are accepted and converted to float32; everything else that
    breaks the format raises :class:`ActivationFileError` with one line naming the problem.
    """
    for name in REQUIRED_ARRAYS:
        if name not in arrays or arrays[name] is None:
            raise ActivationFileError(f"missing array '{name}' (required: {', '.join(REQUIRED_ARRAYS)})")
    acts = np.asarray(arrays["activations"])
    if acts.dtype.kind != "f":
        raise ActivationFileError(f"array 'activations' must be floating point (float32), got dtype {acts.dtype}")
    if acts.ndim != 2:
        raise ActivationFileError(f"array 'activations' must be 2-D [tokens, neurons], got shape {acts.shape}")
    n_tokens, n_neurons = acts.shape
    if n_tokens == 0 or n_neurons == 0:
        raise ActivationFileError(f"array 'activations' is empty (shape {acts.shape})")
    bad = ~np.isfinite(acts)
    if bad.any():
        t, n = np.argwhere(bad)[0]
        raise ActivationFileError(f"array 'activations' has {int(np.isnan(acts).sum())} NaN and "
                                  f"{int(np.isinf(acts).sum())} inf values (first at token {t}, neuron {n})")
    concept = _strings("concept", arrays["concept"], n_tokens, "tokens")
    if (empty := np.char.str_len(concept) == 0).any():
        raise ActivationFileError(f"array 'concept' has {int(empty.sum())} empty labels (first at token "
                                  f"{int(np.argmax(empty))}); every token needs a concept")
    token = _strings("token", arrays["token"], n_tokens, "tokens")
    if arrays.get("neuron") is not None:
        neuron = _strings("neuron", arrays["neuron"], n_neurons, "neurons")
        names, counts = np.unique(neuron, return_counts=True)
        if (counts > 1).any():
            raise ActivationFileError(f"array 'neuron' names '{names[counts > 1][0]}' more than once")
    else:
        neuron = np.array([f"n{i}" for i in range(n_neurons)])
    source = np.asarray(arrays.get("source", ""))
    if source.dtype.kind == "S":
        source = np.char.decode(source, "utf-8")
    if source.ndim != 0 or source.dtype.kind != "U":
        raise ActivationFileError(f"array 'source' must be a single string, got {source.dtype} {source.shape}")
    out: dict[str, object] = {"activations": np.ascontiguousarray(acts, dtype=np.float32), "concept": concept,
                              "token": token, "neuron": neuron, "source": str(source),
                              "sequence": None, "position": None, "image": None}
    for name in ("sequence", "position"):
        if arrays.get(name) is not None:
            out[name] = _per_token_ints(name, arrays[name], n_tokens)
    if arrays.get("image") is not None:
        image = np.asarray(arrays["image"])
        if image.dtype.kind != "f" or image.ndim != 3 or image.shape[0] != n_tokens:
            raise ActivationFileError(f"array 'image' must be floating [tokens, height, width] with "
                                      f"{n_tokens} tokens, got {image.dtype} {image.shape}")
        out["image"] = image.astype(np.float32)
    return out
