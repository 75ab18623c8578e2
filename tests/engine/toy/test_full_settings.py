"""The paper's results at full settings (AdamW 1e-3, batch 1024, 10,000 steps). Slow: minutes each.

Run with ``pytest -m slow tests/engine/toy``; they train through the cache, so reruns are quick.
"""
import numpy as np
import pytest

from engine.toy import experiments as ex
from engine.toy.training import train_cached

pytestmark = pytest.mark.slow


def test_20_5_relu_keeps_top_five_when_dense_and_superposes_when_sparse():
    s = ex.superposition_20_5()
    assert s["relu_keeps_exactly_top_k"][0] and s["linear_keeps_exactly_top_k"] == [True] * 5
    represented = s["relu_represented"]
    assert represented[0] == 5 and all(b >= a for a, b in zip(represented, represented[1:]))
    assert represented[-1] >= 10 and s["relu_min_bias"][-1] < -0.1
    assert s["relu_dims_per_feature"][0] == pytest.approx(1.0, abs=0.02) and s["relu_dims_per_feature"][-1] < 0.5


def test_5_2_goes_from_two_orthogonal_features_to_a_pentagon():
    s = ex.geometry_summary(train_cached(ex.GEOMETRY_5_2))
    assert s["represented"][0] == 2
    sparse = [i for i, p in enumerate(s["density"]) if p <= 0.05]
    assert all(s["represented"][i] == 5 and s["worst_angle_error_deg"][i] < 8 and s["norm_ratio"][i] < 1.1
               for i in sparse), s


def test_dimensionality_sweep_sticks_at_one_half_then_lower_polytopes():
    s = ex.dimensionality_summary(train_cached(ex.DIMENSIONALITY))
    D = np.array(s["dims_per_feature"])
    assert D[0] == pytest.approx(1.0, abs=0.05)
    assert (np.abs(D - 0.5) < 0.03).sum() >= 2, "a plateau of antipodal pairs"
    assert D[-1] < 0.36
    assert np.nanmean(s["sticky_fraction"][2:]) > 0.9


def test_phase_diagram_trained_agrees_with_theory():
    s = ex.experiment_phase_diagram()
    assert s["agreement"] >= 0.85
    assert s["trained_fractions"]["superposition"] > 0.3


def test_neuron_model_monosemantic_dense_polysemantic_sparse():
    s = ex.neuron_summary(train_cached(ex.NEURON))
    assert s["mean_monosemanticity"][0] > 0.95 and s["monosemantic_neurons"][0] == 5
    assert max(s["mean_monosemanticity"][2:]) < 0.7


def test_correlated_orthogonal_anticorrelated_antipodal():
    s = ex.correlation_summary(train_cached(ex.CORRELATED), train_cached(ex.ANTICORRELATED))
    assert s["correlated"]["orthogonal_pairs"] >= 0.9
    anti = s["anticorrelated"]
    assert anti["antipodal_pairs"] >= 0.375
    assert anti["loss_when_antipodal"] < 0.2 * anti["loss_when_orthogonal"]


def test_abs_sparse_computes_more_than_half_the_neurons_worth():
    s = ex.abs_summary(train_cached(ex.ABS))
    assert s["features_computed"][0] <= s["without_superposition_at_most"] + 0.2
    assert max(s["features_computed"][1:]) > s["without_superposition_at_most"] + 1
