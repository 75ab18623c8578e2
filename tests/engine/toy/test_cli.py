"""``python -m engine.toy``: writes the promised arrays; bad flags are one line, exit 2, nothing written."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.toy.cli import main

REPO = Path(__file__).resolve().parents[3]
SMALL = ["--features", "5", "--hidden", "2", "--importance", "0.9", "--feature-probability", "1,0.1",
         "--steps", "50", "--batch-size", "64", "--seed", "0", "--snapshots", "5"]


def test_cli_writes_weights_config_and_history(tmp_path):
    out = tmp_path / "run.npz"
    done = subprocess.run([sys.executable, "-m", "engine.toy", *SMALL, "--model", "untied", "--out", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    with np.load(out) as z:
        assert z["W"].shape == z["W2"].shape == (2, 5, 2)
        assert z["b"].shape == (2, 5)
        np.testing.assert_allclose(z["feature_probability"], [1.0, 0.1])
        np.testing.assert_allclose(z["importance"], 0.9 ** np.arange(5), rtol=1e-6)
        config = json.loads(str(z["config"]))
        assert config["model"] == "untied" and config["steps"] == 50
        assert z["W_history"].shape == (5, 2, 5, 2) and z["snapshot_steps"][-1] == 50
    summary = json.loads(done.stdout)
    assert summary["instances"] == 2
    assert not list(tmp_path.glob(".*tmp")), "no temporary file left behind"


def test_quiet_prints_nothing_and_matches_the_library(tmp_path, capsys):
    out = tmp_path / "quiet.npz"
    assert main([*SMALL, "--out", str(out), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    from engine.toy import ToyConfig, train
    expected = train(ToyConfig(n_features=5, n_hidden=2, importance_decay=0.9, feature_probability=(1.0, 0.1),
                               steps=50, batch_size=64, seed=0, n_snapshots=5))
    with np.load(out) as z:
        np.testing.assert_array_equal(z["W"], expected.W)


@pytest.mark.parametrize("flags, mentions", [
    (["--features", "-3"], "--features"),
    (["--hidden", "0"], "--hidden"),
    (["--hidden", "5"], "--hidden"),                        # relu compresses: hidden < features
    (["--feature-probability", "1,1.5"], "(0, 1]"),
    (["--feature-probability", "0"], "(0, 1]"),
    (["--feature-probability", "one"], "--feature-probability"),
    (["--model", "transformer"], "linear"),                 # lists the valid choices
    (["--correlation", "sometimes"], "anticorrelated"),
    (["--steps", "-1"], "--steps"),
    (["--batch-size", "0"], "--batch-size"),
])
def test_bad_flags_fail_with_one_line_and_write_nothing(tmp_path, capsys, flags, mentions):
    out = tmp_path / "bad.npz"
    args = [*SMALL, *flags, "--out", str(out)]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and mentions in err and "Traceback" not in err
    assert not out.exists()


def test_unwritable_out_is_refused_before_training(tmp_path, capsys):
    assert main([*SMALL, "--out", str(tmp_path / "missing" / "run.npz")]) == 2
    assert main([*SMALL, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all("--out" in line for line in err)


def test_bad_flag_exit_status_from_the_shell(tmp_path):
    done = subprocess.run([sys.executable, "-m", "engine.toy", "--model", "cnn", "--out", str(tmp_path / "x.npz")],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
