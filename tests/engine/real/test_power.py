"""Power of the response test, on small planted data: it rises with text and with effect size, and
label-shuffled data stay near the corrected alpha. No model, no network; seconds."""
from __future__ import annotations

import numpy as np
import pytest

from engine.real.activations import ActivationSet
from engine.real.detect import DetectionConfig
from engine.real.power import (UnitArrays, detected, observed_power, planted, planted_power, ratio_to_rest,
                               tokens_for, unit_arrays)

CONFIG = DetectionConfig(n_permutations=400, n_shuffles=0)


def sparse_units(n_units: int = 90, neurons: int = 40, seed: int = 0) -> UnitArrays:
    """Snippets of 10-20 tokens; each neuron is active on 2-10% of tokens with gamma-distributed mass."""
    rng = np.random.default_rng(seed)
    tokens = rng.integers(10, 21, n_units).astype(np.float64)
    density = rng.uniform(0.02, 0.1, neurons)
    active = rng.poisson(tokens[:, None] * density[None]).astype(np.float64)
    mass = active * rng.gamma(4.0, 0.25, (n_units, neurons))
    return UnitArrays(mass=mass, active=active, tokens=tokens, concept=np.arange(n_units) % 6)


@pytest.fixture(scope="module")
def power():
    return planted_power(sparse_units(), ratios=(1.0, 2.0, 4.0), ks=(5, 20, 60), reps=3, config=CONFIG, seed=0)


def test_power_rises_with_text_and_effect_size(power):
    one = power.one.mean(axis=2)  # [ratios, ks]
    two = power.two.mean(axis=2)
    assert one[2, 0] < one[2, 1] < one[2, 2] and one[2, 2] >= 0.9  # r = 4: more snippets, more power
    assert one[1, 2] < one[2, 2] and one[1, 1] < one[2, 1]  # at the same text, a larger effect is found more often
    assert np.all(two <= one + 1e-9)  # both of two responses is never easier than one
    assert np.allclose(power.tokens, np.array([5, 20, 60]) * sparse_units().tokens.mean())


def test_false_positives_stay_near_the_corrected_alpha(power):
    per_test = CONFIG.alpha / 3
    assert power.one[0].mean() <= 2.5 * per_test  # r = 1: nothing planted
    assert power.false_positive.mean() <= 2.5 * per_test  # an unplanted tested concept
    obs = observed_power(sparse_units(seed=1), np.arange(3), bins=(1.5, np.inf), ks=(10, 0), reps=4, config=CONFIG)
    assert np.all(obs.false_positive <= 2.5 * per_test)
    assert np.all(obs.family_false_positive <= 2.5 * CONFIG.alpha)


def test_planting_multiplies_the_rate_of_the_planted_concepts():
    base = sparse_units(neurons=5)
    d = planted(base, k=2000, n_concepts=6, ratio=3.0, n_objects=2, rng=np.random.default_rng(0))
    r = ratio_to_rest(d, np.arange(3))
    assert np.allclose(r[0], 3.0, rtol=0.1)  # against the background (concepts 3-5), as the detector compares
    assert np.allclose(r[2], 1.0, rtol=0.1)  # an unplanted tested concept is like the background
    assert np.array_equal(np.bincount(d.concept), [2000] * 6)


def test_unit_test_reproduces_the_detector():
    """``detected`` on all of a set's units is the detector's step 3 (same responses, same p-values' cut)."""
    rng = np.random.default_rng(3)
    n, neurons = 1200, 30
    concept = np.array(["a", "b", "c", "d"])[rng.integers(0, 4, n // 12).repeat(12)]
    a = rng.gamma(1.0, 1.0, (n, neurons)).astype(np.float32)
    a[concept == "a", :5] *= 3.0  # five neurons answer "a"
    acts = ActivationSet(activations=a, concept=concept, token=np.array([f"w{i}" for i in rng.integers(0, 50, n)]),
                         sequence=(np.arange(n) // 12).astype(np.int32))
    data, tested, stats = unit_arrays(acts, ("a", "b", "c"), CONFIG)
    hit = detected(data, data.concept[None], tested, CONFIG)[0]
    assert np.array_equal(hit, stats.responds)
    assert hit[0, :5].all()


def test_tokens_for_interpolates_and_says_never():
    tokens = np.array([100.0, 200.0, 400.0])
    assert tokens_for(np.array([0.5, 0.7, 0.9]), tokens) == pytest.approx(300.0)
    assert tokens_for(np.array([0.85, 0.9, 0.95]), tokens) == 100.0
    assert tokens_for(np.array([0.1, 0.2, 0.3]), tokens) == float("inf")
