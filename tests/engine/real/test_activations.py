"""The public activation file format: exact round trip, and one-line rejection of every malformed case."""
from __future__ import annotations

import numpy as np
import pytest

from engine.real.activations import ActivationFileError, ActivationSet, load_activations


def small_set(**overrides) -> ActivationSet:
    rng = np.random.default_rng(0)
    fields = dict(activations=rng.normal(size=(6, 4)).astype(np.float32),
                  concept=np.array(["cat", "cat", "car", "car", "cat", "house"]),
                  token=np.array(["the", "cat", "a", "car", ".", "roof"]),
                  neuron=np.array([f"blocks.2.mlp.hook_post[{i}]" for i in (3, 5, 8, 13)]),
                  source="unit test", sequence=np.array([0, 0, 1, 1, 2, 3], np.int32),
                  position=np.array([1, 2, 1, 2, 1, 1], np.int32), image=None)
    fields.update(overrides)
    return ActivationSet(**fields)


def test_round_trip_is_exact(tmp_path):
    acts = small_set(image=np.random.default_rng(1).random((6, 8, 8)).astype(np.float32))
    back = load_activations(acts.save(tmp_path / "acts.npz"))
    for name in ("activations", "concept", "token", "neuron", "sequence", "position", "image"):
        np.testing.assert_array_equal(getattr(back, name), getattr(acts, name))
        assert getattr(back, name).dtype == getattr(acts, name).dtype
    assert back.source == "unit test"
    assert back.concepts == ("cat", "car", "house")  # order of first appearance
    assert back.hook == "blocks.2.mlp.hook_post"


def test_minimal_file_from_plain_numpy(tmp_path):
    """What a user writes by hand: three arrays, float64 activations; names are filled in."""
    path = tmp_path / "mine.npz"
    np.savez(path, activations=np.ones((2, 3)), concept=np.array(["a", "b"]), token=np.array(["x", "y"]))
    acts = load_activations(path)
    assert acts.activations.dtype == np.float32
    assert acts.neuron.tolist() == ["n0", "n1", "n2"] and acts.source == "" and acts.hook is None


def test_select_and_concatenate():
    acts = small_set()
    sub = acts.select(concepts=["car", "house"], neurons=[3, 1])
    assert sub.concepts == ("car", "house") and sub.n_tokens == 3
    np.testing.assert_array_equal(sub.activations, acts.activations[[2, 3, 5]][:, [3, 1]])
    assert sub.neuron.tolist() == ["blocks.2.mlp.hook_post[13]", "blocks.2.mlp.hook_post[5]"]
    both = ActivationSet.concatenate([acts.select(["cat"]), acts.select(["car"])])
    assert both.n_tokens == 5 and both.concepts == ("cat", "car")
    with pytest.raises(KeyError, match="concept 'dog' is not in this activation set"):
        acts.mask("dog")


GOOD = dict(activations=np.zeros((3, 2), np.float32), concept=np.array(["a", "a", "b"]),
            token=np.array(["x", "y", "z"]))


def _with(**changes):
    arrays = {**GOOD, **changes}
    return {k: v for k, v in arrays.items() if v is not None}


def _nan():
    a = np.zeros((3, 2), np.float32)
    a[1, 0] = np.nan
    return a


MALFORMED = {
    "missing activations": (_with(activations=None), "missing array 'activations'"),
    "missing concept": (_with(concept=None), "missing array 'concept'"),
    "missing token": (_with(token=None), "missing array 'token'"),
    "integer activations": (_with(activations=np.zeros((3, 2), np.int64)), "must be floating point"),
    "1-D activations": (_with(activations=np.zeros(3, np.float32)), "must be 2-D [tokens, neurons]"),
    "3-D activations": (_with(activations=np.zeros((3, 2, 1), np.float32)), "must be 2-D [tokens, neurons]"),
    "no tokens": (_with(activations=np.zeros((0, 2), np.float32), concept=np.array([], str),
                        token=np.array([], str)), "is empty"),
    "NaN": (_with(activations=_nan()), "1 NaN and 0 inf values (first at token 1, neuron 0)"),
    "inf": (_with(activations=np.full((3, 2), np.inf, np.float32)), "0 NaN and 6 inf values"),
    "short concept": (_with(concept=np.array(["a", "b"])), "array 'concept' has 2 entries but activations has 3 tokens"),
    "long token": (_with(token=np.array(list("wxyz"))), "array 'token' has 4 entries but activations has 3 tokens"),
    "numeric concept": (_with(concept=np.array([1, 2, 3])), "array 'concept' must hold strings"),
    "2-D token": (_with(token=np.array([["x"], ["y"], ["z"]])), "array 'token' must be 1-D"),
    "neuron count": (_with(neuron=np.array(["n0"])), "array 'neuron' has 1 entries but activations has 2 neurons"),
    "duplicate neuron": (_with(neuron=np.array(["n", "n"])), "array 'neuron' names 'n' more than once"),
    "source array": (_with(source=np.array(["a", "b"])), "array 'source' must be a single string"),
    "bad image": (_with(image=np.zeros((3, 8), np.float32)), "array 'image' must be floating [tokens, height, width]"),
    "empty concept label": (_with(concept=np.array(["a", "", "b"])), "array 'concept' has 1 empty labels"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files_are_rejected_in_one_line(case, tmp_path):
    arrays, message = MALFORMED[case]
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ActivationFileError) as info:
        load_activations(path)
    text = str(info.value)
    assert "\n" not in text and message in text and str(path) in text
    assert isinstance(info.value, ValueError)


def test_object_arrays_need_no_pickle(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, **{**GOOD, "token": np.array(["x", "y", "z"], dtype=object)})
    with pytest.raises(ActivationFileError, match="array 'token' holds Python objects"):
        load_activations(path)


@pytest.mark.parametrize("content,message", [(b"not a zip at all", "not an .npz archive"),
                                             (None, "no such activation file")])
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "x.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ActivationFileError, match=message):
        load_activations(path)


def test_a_single_npy_is_not_an_activation_file(tmp_path):
    path = tmp_path / "x.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(ActivationFileError, match="not an .npz archive"):
        load_activations(path)


def test_constructor_validates_too():
    with pytest.raises(ActivationFileError, match="NaN"):
        small_set(activations=np.full((6, 4), np.nan, np.float32))


def test_a_file_is_a_source(tmp_path):
    from engine.real.sources import FileSource, NeuronSource, open_source

    path = small_set().save(tmp_path / "acts")  # the suffix is added
    assert path.name == "acts.npz"
    source = open_source(str(path))
    assert isinstance(source, FileSource) and isinstance(source, NeuronSource)
    assert source.description == "unit test, blocks.2.mlp.hook_post (from acts.npz)"
    assert source.concepts == ("cat", "car", "house")
    assert source.capture(["house", "car"], neurons=[0]).concept.tolist() == ["house", "car", "car"]
