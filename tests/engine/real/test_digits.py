"""The digits MLP: trained on the spot, accurate, seeded, and full of neurons shared by digit classes."""
from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_digits

from engine.real.detect import detect
from engine.real.digits import DigitsConfig, DigitsSource, trained_mlp
from engine.real.sources import SourceError, open_source


@pytest.fixture(scope="module")
def digits():
    return open_source("digits")


def test_accuracy_and_description(digits):
    assert digits.test_accuracy > 0.9
    assert digits.description == "digits MLP 64-32-10 (ReLU, scikit-learn digits, seed 0), blocks.0.mlp.hook_post"
    assert digits.concepts == tuple("0123456789")


def test_tokens_are_held_out_images_with_their_pixels(digits):
    acts = digits.capture()
    bunch = load_digits()
    index = np.array([int(t.removeprefix("img#")) for t in acts.token])
    assert acts.n_neurons == 32 and acts.image.shape == (acts.n_tokens, 8, 8)
    np.testing.assert_allclose(acts.image, bunch.images[index] / 16.0, rtol=0, atol=1e-6)
    assert (acts.concept == bunch.target[index].astype(str)).all()
    assert acts.concepts == tuple("0123456789") and 400 < acts.n_tokens < 500  # the 25% held out
    assert (acts.activations >= 0).all()  # post-ReLU


def test_many_neurons_respond_to_two_or_more_classes_beyond_chance(digits):
    report = detect(digits.capture())
    alive = [n for n in report.neurons if n.label != "dead"]
    shared = [n for n in alive if len(n.content_concepts) >= 2]
    assert len(alive) >= 20 and len(shared) >= len(alive) // 2
    assert report.chance()["polysemantic"].max == 0  # shuffled class labels: no neuron answers two classes
    assert report.counts()["artifact"] == 0  # every image is its own token type: no token answered elsewhere


def test_training_is_seeded(tmp_path):
    a, meta_a = trained_mlp(DigitsConfig(steps=60), use_cache=False)
    b, meta_b = trained_mlp(DigitsConfig(steps=60), use_cache=False)
    c, _ = trained_mlp(DigitsConfig(steps=60, seed=1), use_cache=False)
    for (name, pa), pb in zip(a.state_dict().items(), b.state_dict().values()):
        np.testing.assert_array_equal(pa.numpy(), pb.numpy(), err_msg=name)
    assert meta_a == meta_b
    assert not np.array_equal(a[0].weight.detach().numpy(), c[0].weight.detach().numpy())


def test_subsets_and_errors(digits):
    acts = digits.capture(["3", "8"], neurons=[0, 5])
    assert acts.concepts == ("3", "8") and acts.neuron.tolist() == ["blocks.0.mlp.hook_post[0]",
                                                                   "blocks.0.mlp.hook_post[5]"]
    with pytest.raises(SourceError, match="knows no concept 'cat'"):
        digits.capture(["cat"])
    with pytest.raises(SourceError, match="layer 1 does not exist"):
        DigitsSource(layer=1)
