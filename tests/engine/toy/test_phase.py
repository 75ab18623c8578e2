"""2 features in 1 dimension: the analytic phase diagram, and trained models landing where it says."""
import numpy as np
import pytest

from engine.toy.phase import (LABELS, analytic_phase_diagram, classify, expected_loss, phase_grid_run,
                              trained_phase_diagram)

NOT_REPRESENTED, DEDICATED, SUPERPOSITION = (LABELS.index(s) for s in
                                             ("not represented", "dedicated dimension", "superposition"))


def test_expected_loss_matches_monte_carlo():
    rng = np.random.default_rng(0)
    W, b, p, r = np.array([0.9, -1.1]), np.array([-0.1, -0.2]), 0.2, 2.0
    x = np.where(rng.random((400_000, 2)) < p, rng.random((400_000, 2)), 0.0)
    out = np.maximum((x @ W)[:, None] * W + b, 0)
    monte_carlo = 0.5 * (((x - out) ** 2) * [1, r]).mean(0).sum()
    assert expected_loss(W[None], b[None], np.array([p]), np.array([r]))[0] == pytest.approx(monte_carlo, rel=0.01)


def test_theory_has_the_three_regimes_where_the_paper_puts_them():
    densities, importances = np.array([0.01, 0.05, 1.0]), np.array([0.2, 1.0, 5.0])
    theory = analytic_phase_diagram(densities, importances)
    dense = theory.label[:, -1]
    assert dense.tolist() == [NOT_REPRESENTED, theory.label[1, -1], DEDICATED]   # importance 1 dense: a tie
    assert theory.label[1, 0] == SUPERPOSITION                       # equal importance, sparse
    assert theory.label[1, 1] == SUPERPOSITION
    assert (theory.label[:, 0] == SUPERPOSITION).all(), "very sparse: superposition even for unequal features"
    sup = theory.W[1, 0]
    assert sup[0] * sup[1] < 0 and np.allclose(np.abs(sup), 1, atol=0.1), "an antipodal pair of unit vectors"


def test_classify_reads_the_geometry():
    W = np.array([[1.0, 0.0], [0.05, -0.98], [1.0, -1.0], [1.0, 1.0], [0.1, 0.1]])
    assert classify(W).tolist() == [NOT_REPRESENTED, DEDICATED, SUPERPOSITION, 3, 3]


def test_trained_grid_mostly_agrees_with_theory():
    densities, importances = np.geomspace(0.02, 1.0, 5), np.geomspace(0.2, 5.0, 5)
    theory = analytic_phase_diagram(densities, importances)
    trained = trained_phase_diagram(densities, importances, seeds=2, cached=False,
                                    steps=2500, batch_size=256, lr=5e-3)
    agreement = (theory.label == trained.label).mean()
    assert agreement >= 0.75, (theory.label, trained.label)
    # Most trained solutions come close to the analytic optimum; the rest are local minima keeping one feature.
    assert (trained.loss <= theory.loss * 1.5 + 1e-4).mean() >= 0.7


def test_trained_diagram_points_back_to_the_run_instance_of_each_cell():
    densities, importances = np.array([0.1, 1.0]), np.array([0.5, 2.0, 4.0])
    run = phase_grid_run(densities, importances, seeds=3, cached=False, steps=20, batch_size=32)
    trained = trained_phase_diagram(densities, importances, seeds=3, cached=False, steps=20, batch_size=32)
    np.testing.assert_allclose(run.feature_probability[trained.instance], np.broadcast_to(densities, (3, 2)), rtol=1e-6)
    np.testing.assert_allclose(run.importance[trained.instance][..., 1], np.broadcast_to(importances[:, None], (3, 2)))
    np.testing.assert_array_equal(run.W[trained.instance][..., 0], trained.W)
