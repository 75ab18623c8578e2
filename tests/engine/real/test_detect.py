"""The detector on planted ground truth, its scores, its JSON report and its command line."""
from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from engine import polysemantic
from engine.real.detect import DetectionConfig, detect, label_of, neuron_stats
from engine.real.activations import ActivationSet
from engine.real.report import LABELS, REPORT_FORMAT


def _wrong(report, expected):
    wrong = []
    for index, (label, content, shared) in expected.items():
        got = report.neurons[index]
        if (got.label, tuple(sorted(got.content_concepts)), tuple(sorted(got.artifact_concepts))) != (label, content, shared):
            wrong.append((index, (label, content, shared), (got.label, got.content_concepts, got.artifact_concepts)))
    return wrong


def test_every_planted_neuron_gets_its_label_and_concepts(planted):
    report = detect(planted.acts)
    assert not _wrong(report, planted.expected)
    assert set(report.counts()) == set(LABELS)
    assert sum(report.counts().values()) == planted.acts.n_neurons


def test_planted_labels_hold_across_seeds():
    """Over 10 data sets, at most 1 in 50 planted labels is wrong (a false response of the broad neuron
    happens at about the alpha rate; a weak planted response is missed now and then)."""
    from tests.engine.real.conftest import _planted

    wrong = total = 0
    for seed in range(1, 11):
        data = _planted(seed)
        wrong += len(_wrong(detect(data.acts), data.expected))
        total += len(data.expected)
    assert wrong <= total // 50, (wrong, total)


def test_artifact_evidence_points_at_the_full_stops(planted):
    """The 'Fortran and medical' neuron: Fortran by content; medical only because clinical notes are full of
    full stops, which the neuron fires on wherever they occur."""
    report = detect(planted.acts)
    index = next(i for i, e in planted.expected.items() if e == ("artifact", ("fortran",), ("medical",)))
    neuron = report.neurons[index]
    medical = next(r for r in neuron.responses if r.concept == "medical")
    fortran = next(r for r in neuron.responses if r.concept == "fortran")
    assert medical.carried_by == "tokens" and fortran.carried_by == "content"
    assert medical.shared_types == (".",) and medical.token_share == pytest.approx(1.0)
    assert fortran.token_share < 0.5 and fortran.shared_types == ()
    assert medical.p_value <= report.null.corrected_threshold and fortran.p_value <= report.null.corrected_threshold


def test_full_stops_of_one_concept_only_are_about_that_concept(planted):
    """Tokens the other texts contain but the neuron ignores there are never called shared."""
    report = detect(planted.acts)
    index = next(i for i, e in planted.expected.items() if e == ("monosemantic", ("medical",), ())
                 and planted.acts.activations[planted.acts.token == ".", i].max() > 1)
    (response,) = report.neurons[index].responses
    assert response.carried_by == "content" and response.token_share == 0.0
    assert [h.token for h in response.top_tokens] == ["."]


def test_scores_separate_mono_from_polysemantic(planted):
    report = detect(planted.acts)
    mono = [n for n in report.neurons if n.label == "monosemantic"]
    poly = [n for n in report.neurons if n.label == "polysemantic"]
    assert min(n.selectivity for n in mono) > 0.95 > max(n.selectivity for n in poly)
    assert max(n.effective_concepts for n in mono) < 1.1
    assert min(n.effective_concepts for n in poly) > 1.8


def test_top_tokens_are_the_strongest_instances(planted):
    report = detect(planted.acts)
    acts = planted.acts
    for neuron in report.neurons:
        for r in neuron.responses:
            rows = np.flatnonzero(acts.concept == r.concept)
            assert r.top_tokens[0].activation == pytest.approx(acts.activations[rows, neuron.index].max())
            for hit in r.top_tokens:
                assert acts.token[hit.index] == hit.token and acts.concept[hit.index] == r.concept
                assert acts.activations[hit.index, neuron.index] == pytest.approx(hit.activation)


def test_thresholds_matter(planted):
    """The rule is not vacuous: with no token test the full-stop artifacts become content responses,
    and demanding many active tokens drops the one-word neuron's response."""
    lenient = detect(planted.acts, DetectionConfig(token_share_max=1.01))
    assert lenient.counts()["artifact"] == 0 and detect(planted.acts).counts()["artifact"] >= 2
    strict = detect(planted.acts, DetectionConfig(min_active_tokens=60))
    assert strict.counts()["broad"] > detect(planted.acts).counts()["broad"]
    with pytest.raises(ValueError, match="raise alpha or test fewer concepts"):
        detect(planted.acts, DetectionConfig(alpha=1e-6))  # would need 20 million permutations


def test_label_rule_table():
    assert label_of(0, 0, dead=True) == "dead"
    assert label_of(2, 0, False) == label_of(2, 1, False) == "polysemantic"
    assert label_of(1, 1, False) == label_of(0, 3, False) == "artifact"
    assert label_of(1, 0, False) == "monosemantic"
    assert label_of(0, 0, False) == "broad"


def test_stats_shapes_and_dead_thresholds(planted):
    stats = neuron_stats(planted.acts)
    k, n = len(planted.acts.concepts), planted.acts.n_neurons
    assert stats.rate.shape == stats.p_value.shape == stats.responds.shape == stats.token_share.shape == (k, n)
    assert np.isinf(stats.threshold[stats.dead]).all()
    assert not stats.responds[:, stats.dead].any()
    assert ((stats.p_value > 0) & (stats.p_value <= 1)).all()
    assert stats.null.units == "snippets" and stats.null.n_units == len(set(planted.acts.sequence.tolist()))


def test_report_json_round_trip(planted, tmp_path):
    report = detect(planted.acts)
    path = report.save_json(tmp_path / "report.json")
    data = json.loads(path.read_text())
    assert data["format"] == REPORT_FORMAT
    assert data["n_neurons"] == planted.acts.n_neurons and data["counts"] == report.counts()
    assert data["thresholds"]["active_fraction"] == DetectionConfig().active_fraction
    first = data["neurons"][0]
    assert {"index", "name", "label", "concepts", "selectivity", "effective_concepts", "responses"} <= set(first)
    # every count beside its chance level, and how chance was measured
    assert set(data["chance"]) == set(LABELS)
    for label, chance in data["chance"].items():
        assert chance["real"] == data["counts"][label] and len(chance["values"]) == data["null"]["n_shuffles"]
        assert chance["max"] >= chance["mean"] >= 0
    assert data["null"]["n_permutations"] == DetectionConfig().n_permutations and data["null"]["seed"] == 0
    responses = [r for n in data["neurons"] for r in n["responses"]]
    assert responses and all(r["p_value"] <= data["null"]["corrected_threshold"] for r in responses)


def test_cli_on_an_activation_file(planted, tmp_path, capsys):
    acts_path = planted.acts.save(tmp_path / "acts.npz")
    report_path = tmp_path / "out" / "report.json"
    assert polysemantic.main([str(acts_path), "--json", str(report_path), "--top", "2"]) == 0
    data = json.loads(report_path.read_text())
    labels = [n["label"] for n in data["neurons"]]
    assert labels == [e[0] for _, e in sorted(planted.expected.items())]
    out = capsys.readouterr().out
    assert "polysemantic" in out and "planted synthetic activations" in out


def test_cli_rejects_a_bad_file_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.npz"
    np.savez(bad, activations=np.zeros((3, 2), np.float32), concept=np.array(["a", "b"]), token=np.array(["x"] * 3))
    assert polysemantic.main([str(bad), "--json", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "array 'concept' has 2 entries but activations has 3 tokens" in err
    assert not (tmp_path / "r.json").exists()


def test_detection_is_deterministic(planted):
    a, b = detect(planted.acts), detect(replace(planted.acts))
    assert a.neurons == b.neurons
    assert a.chance()["monosemantic"].values == b.chance()["monosemantic"].values


def test_the_documented_command_runs_as_a_module(planted, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    acts_path = planted.acts.save(tmp_path / "ACTS.npz")
    root = Path(__file__).resolve().parents[3]
    done = subprocess.run([sys.executable, "-m", "engine.polysemantic", str(acts_path), "--json",
                           str(tmp_path / "REPORT.json"), "--quiet"], cwd=root, capture_output=True, text=True,
                          env={**__import__("os").environ, "PYTHONPATH": str(root)}, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "REPORT.json").read_text())["counts"] == detect(planted.acts).counts()


def test_cli_prints_counts_with_their_chance_level(planted, tmp_path, capsys):
    acts_path = planted.acts.save(tmp_path / "acts.npz")
    assert polysemantic.main([str(acts_path)]) == 0
    out = capsys.readouterr().out
    counts = detect(planted.acts).chance()
    for label in ("polysemantic", "monosemantic", "broad"):
        assert polysemantic.count_line(label, counts[label]) in out
    assert "labels shuffled across" in out


def test_cli_output_paths_fail_in_one_line_before_capturing(planted, tmp_path, capsys):
    acts_path = planted.acts.save(tmp_path / "acts.npz")
    (tmp_path / "file").write_text("not a folder")
    for flag in ("--json", "--save-activations"):
        for bad in (tmp_path / "file" / "x.npz", tmp_path, "/proc/no-such-process/r.json"):
            assert polysemantic.main([str(acts_path), flag, str(bad), "--quiet"]) == 2
            err = capsys.readouterr().err.strip()
            assert err.count("\n") == 0 and flag in err and "Traceback" not in err
    assert polysemantic.main([str(acts_path), "--save-activations", str(tmp_path / "new" / "a.npz"), "--quiet"]) == 0
    assert (tmp_path / "new" / "a.npz").is_file()


def test_cli_shows_hostile_concept_names_as_text(tmp_path, capsys):
    """A concept name with rich markup and a terminal escape is printed, never obeyed or crashing."""
    rng = np.random.default_rng(0)
    n = 400
    concept = np.where(np.arange(n) < n // 2, "[/red]\x1b[2Jevil", "calm")
    acts = ActivationSet(activations=rng.random((n, 3)).astype(np.float32) * (concept == "calm")[:, None],
                         concept=concept, token=np.array([f"t{i % 7}" for i in range(n)]),
                         sequence=(np.arange(n) // 10).astype(np.int32))
    assert polysemantic.main([str(acts.save(tmp_path / "evil.npz")), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b" in out


def test_hunt_facade_on_digits():
    acts, report = polysemantic.hunt("digits")
    assert len(report.neurons) == acts.n_neurons == 32
    assert report.source.startswith("digits MLP") and report.concepts == tuple("0123456789")


def test_neuron_blocks_do_not_change_the_result(planted, monkeypatch):
    """Big token sets are processed a few neurons at a time; the answer must not depend on it."""
    from engine.real import detect as detect_module

    whole = detect(planted.acts)
    monkeypatch.setattr(detect_module, "BLOCK_ELEMENTS", planted.acts.n_tokens * 3)  # 3 neurons per block
    assert detect(planted.acts).neurons == whole.neurons
