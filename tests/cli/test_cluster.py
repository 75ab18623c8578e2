"""render.py --cluster: scenes and pieces rendered by Dask workers give a local render's bytes, and the
cluster's faults (no scheduler, a killed worker, a lost scheduler, Ctrl+C) end in one line, never a partial
output (docs/cluster.md). Dask runs on loopback only: a local cluster, or a scheduler and worker started here."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.video import probe
from tests.cli.test_reliability_process import assert_quiet_interrupt, ctrl_c, wait_for
from tests.cli.test_render_cli import ROOT, render_py, tree
from tests.cli.test_split import SMALL, outputs

pytest.importorskip("distributed", reason="pip install -r requirements-cluster.txt")

EXTRAS = ["--sections", "--subtitles"]
LONGER = ["--fps", "15", "--duration", "12"]  # six times the frames, so a fault lands mid-render (the last flag wins)
DASK = Path(sys.executable).with_name("dask")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def partials(out: Path) -> list[Path]:
    return [p for p in out.rglob(".*") if p.name.endswith((".partial", ".tmp"))]


def one_line(res) -> str:
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    return lines[0]


def start(*args: str, tmp: Path) -> subprocess.Popen:
    """render.py as a terminal's foreground job (own process group, SIGINT at its default); Dask's
    scratch space (and so the workers' render folders) under ``tmp``."""
    tmp.mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, str(ROOT / "render.py"), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=os.environ | {"TMPDIR": str(tmp)},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def rendering(tmp: Path) -> list[Path]:
    """The scratch folders of Dask workers (Dask's space under ``tmp``) in which Manim has begun writing video."""
    return [d for d in tmp.glob("**/dask-scratch-space/worker-*/neuroreel-toy_wtw-*")
            if next(d.glob("out/.*.partial/media/**/*.mp4"), None)]


def holders(parent: int, path: Path) -> list[int]:
    """Child processes of ``parent`` holding ``path`` open (a Dask worker holds its directory's lock file)."""
    children = [int(pid) for task in Path(f"/proc/{parent}/task").glob("*")
                for pid in (task / "children").read_text().split()]
    found = []
    for pid in children:
        try:
            if any(os.readlink(f"/proc/{pid}/fd/{fd}") == str(path) for fd in os.listdir(f"/proc/{pid}/fd")):
                found.append(pid)
        except OSError:
            continue
    return found


def gone(pids: list[int], timeout: float = 20) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not any(Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/status").read_text().split("State:")[1].splitlines()[0].lower()
    except (OSError, IndexError):
        return "gone"


@pytest.fixture(scope="module")
def whole(tmp_path_factory) -> Path:
    """The reference: one local process, no cluster."""
    out = tmp_path_factory.mktemp("whole")
    res = render_py(*SMALL, *EXTRAS, "--jobs", "1", "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    return out


def test_a_local_cluster_renders_the_same_bytes_and_an_unchanged_rerun_starts_no_cluster(whole, tmp_path):
    res = render_py(*SMALL, *EXTRAS, "--jobs", "2", "--split", "1", "--cluster", "local", "--out", str(tmp_path))
    assert res.returncode == 0 and "rendered" in res.stderr and "pieces" not in res.stderr, res.stderr
    assert outputs(tmp_path) == outputs(whole)  # video, section clips, subtitles: byte for byte
    manifests = [json.loads((d / "manifest.json").read_text())["scenes"][0] for d in (tmp_path, whole)]
    assert manifests[0] == manifests[1]  # render key, digests, everything
    assert partials(tmp_path) == []
    # Unchanged: reused without importing Dask at all (so no cluster was started or connected to).
    rerun = subprocess.run([sys.executable, "-X", "importtime", str(ROOT / "render.py"), *SMALL, *EXTRAS, "--jobs", "2",
                            "--split", "1", "--cluster", "local", "--out", str(tmp_path)],
                           cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0 and "reused" in rerun.stderr, rerun.stderr
    imported = [line.rpartition("|")[2].strip() for line in rerun.stderr.splitlines()
                if line.startswith("import time:")]
    assert "pipeline.run" in imported and not [m for m in imported if m.split(".")[0] in ("distributed", "dask")]


def test_a_split_scene_on_a_local_cluster_is_the_same_bytes(whole, tmp_path):
    res = render_py(*SMALL, *EXTRAS, "--jobs", "2", "--split", "2", "--cluster", "local", "--out", str(tmp_path))
    assert res.returncode == 0 and "rendered in 2 pieces" in res.stderr, res.stderr
    assert outputs(tmp_path) == outputs(whole)
    assert partials(tmp_path) == []


def test_a_scheduler_address_with_nothing_listening_is_one_line_exit_2_and_writes_nothing(tmp_path):
    address = f"tcp://127.0.0.1:{free_port()}"
    started = time.perf_counter()
    res = render_py(*SMALL, "--cluster", address, "--out", str(tmp_path / "out"))
    assert res.returncode == 2 and time.perf_counter() - started < 30
    assert one_line(res) == (f"render.py: error: no Dask scheduler at {address}; start one with 'dask scheduler', "
                             "or use --cluster local")
    assert tree(tmp_path / "out") == []


@pytest.mark.parametrize("value", ["udp://127.0.0.1:8786", "tcp://127.0.0.1", "tcp://127.0.0.1:99999", "local2"])
def test_a_malformed_cluster_address_is_one_line_exit_2(tmp_path, value):
    res = render_py(*SMALL, "--cluster", value, "--out", str(tmp_path / "out"))
    assert res.returncode == 2 and "--cluster takes 'local' or a Dask scheduler address" in one_line(res)
    assert tree(tmp_path / "out") == []


def test_cluster_and_shard_together_are_one_line_exit_2(tmp_path):
    res = render_py(*SMALL, "--cluster", "local", "--shard", "1/2", "--out", str(tmp_path / "out"))
    assert res.returncode == 2 and "--cluster and --shard" in one_line(res)
    assert tree(tmp_path / "out") == []


def test_without_dask_the_flag_says_how_to_install_it(tmp_path):
    hide = ("import sys, runpy\n"
            "class Hide:\n"
            "    def find_spec(self, name, path=None, target=None):\n"
            "        if name.split('.')[0] in ('dask', 'distributed'):\n"
            "            raise ModuleNotFoundError(name)\n"
            "sys.meta_path.insert(0, Hide())\n"
            "sys.argv = sys.argv[1:]\n"
            "runpy.run_path(sys.argv[0], run_name='__main__')\n")
    res = subprocess.run([sys.executable, "-c", hide, str(ROOT / "render.py"), *SMALL, "--cluster", "local",
                          "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "pip install -r requirements-cluster.txt" in one_line(res)
    assert tree(tmp_path / "out") == []


def test_ctrl_c_during_a_local_cluster_render_exits_130_quietly_and_stops_the_workers(tmp_path):
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    proc = start(*SMALL, *LONGER, "--jobs", "2", "--cluster", "local", "--out", str(out), "--quiet", tmp=tmp)
    wait_for(lambda: rendering(tmp), proc, what="a Dask worker renders")
    workers = [int(pid) for task in Path(f"/proc/{proc.pid}/task").glob("*")
               for pid in (task / "children").read_text().split()]
    err = ctrl_c(proc)
    assert_quiet_interrupt(proc, err)
    assert partials(out) == [] and not (out / "manifest.json").exists() and not (out / "toy_wtw.mp4").exists()
    assert gone(workers), "Dask workers outlived the interrupted run"


def test_a_worker_killed_mid_task_is_retried_or_reported_never_partial(tmp_path):
    out, tmp = tmp_path / "out", tmp_path / "tmp"
    args = [*SMALL, *EXTRAS, *LONGER, "--jobs", "2", "--split", "1"]
    proc = start(*args, "--cluster", "local", "--out", str(out), tmp=tmp)
    wait_for(lambda: rendering(tmp), proc, what="a Dask worker renders")
    worker_dir = rendering(tmp)[0].parent
    killed = holders(proc.pid, worker_dir.with_name(worker_dir.name + ".dirlock"))
    assert len(killed) == 1
    os.kill(killed[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=240)
    assert partials(out) == [], tree(out)
    if proc.returncode == 0:  # run again on another worker: whole, and the very bytes of a local render
        assert "rendered" in err and probe(out / "toy_wtw.mp4").frames == 12 * 15 + 1, err
        assert render_py(*args, "--out", str(tmp_path / "local"), "--quiet").returncode == 0
        assert outputs(out) == outputs(tmp_path / "local")
    else:
        assert proc.returncode == 1 and "FAILED" in err and "Traceback" not in err, err
        assert not (out / "toy_wtw.mp4").exists()


@pytest.fixture
def scheduler(tmp_path):
    """A Dask scheduler on loopback (without neuroreel on its path: it never needs it) and one worker with it."""
    port = free_port()
    tmp = tmp_path / "dask"
    tmp.mkdir()
    env = os.environ | {"TMPDIR": str(tmp)}
    procs = {"scheduler": subprocess.Popen([str(DASK), "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                            "--no-dashboard"], cwd=tmp, env=env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)}
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.time() < deadline and procs["scheduler"].poll() is None, "dask scheduler did not start"
            time.sleep(0.1)
    procs["worker"] = subprocess.Popen([str(DASK), "worker", f"tcp://127.0.0.1:{port}", "--nthreads", "1",
                                        "--no-dashboard"], cwd=tmp, env=env | {"PYTHONPATH": str(ROOT)},
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield f"tcp://127.0.0.1:{port}", procs, tmp
    for p in procs.values():
        if p.poll() is None:
            p.kill()
        p.wait()


def test_a_remote_scheduler_renders_the_same_bytes_and_its_loss_fails_the_scene_in_one_line(whole, tmp_path, scheduler):
    address, procs, tmp = scheduler
    out = tmp_path / "out"
    res = render_py(*SMALL, *EXTRAS, "--jobs", "2", "--cluster", address, "--out", str(out), timeout=300)
    assert res.returncode == 0 and "rendered in 2 pieces" in res.stderr, res.stderr
    assert outputs(out) == outputs(whole)
    before = outputs(out)
    # Render again (--force), longer; the scheduler dies while its worker renders.
    proc = start(*SMALL, *EXTRAS, *LONGER, "--jobs", "2", "--cluster", address, "--force", "--quiet", "--out", str(out),
                 tmp=tmp)
    wait_for(lambda: rendering(tmp), proc, what="the Dask worker renders")
    procs["scheduler"].kill()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    failures = [line for line in err.splitlines() if "FAILED" in line]  # the scene's row in the summary
    assert len(failures) == 1 and "went away" in err and "Traceback" not in err, err
    assert partials(out) == [] and outputs(out) == before  # the earlier finished output is kept, untouched


def test_a_worker_without_neuroreel_fails_the_job_with_its_fix(tmp_path, scheduler):
    address, procs, tmp = scheduler
    procs["worker"].kill()
    procs["worker"].wait()
    procs["worker"] = subprocess.Popen([str(DASK), "worker", address, "--nthreads", "1", "--no-dashboard"], cwd=tmp,
                                       env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
                                       | {"TMPDIR": str(tmp)},
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    res = render_py(*SMALL, "--jobs", "1", "--cluster", address, "--out", str(tmp_path / "out"), timeout=300)
    assert res.returncode == 1 and "cannot import neuroreel" in res.stderr and "PYTHONPATH" in res.stderr, res.stderr
    assert partials(tmp_path / "out") == [] and not (tmp_path / "out" / "toy_wtw.mp4").exists()
    assert re.search(r"toy_wtw\s.*FAILED", res.stderr), res.stderr


def test_a_scheduler_without_workers_fails_its_jobs_instead_of_waiting_forever(tmp_path, scheduler, monkeypatch,
                                                                                capsys):
    from pipeline import cluster, cli

    address, procs, _ = scheduler
    procs["worker"].kill()
    procs["worker"].wait()
    monkeypatch.setattr(cluster, "NO_WORKERS_S", 1.0)
    monkeypatch.setattr(cluster, "_WORKERS_EVERY_S", 0.2)
    status = cli.main([*SMALL, "--jobs", "1", "--cluster", address, "--out", str(tmp_path / "out"), "--quiet"])
    err = " ".join(capsys.readouterr().err.split())  # as one line, whatever the terminal's width
    assert status == 1 and f"had no worker for 1 s; start workers with: dask worker {address}" in err, err
    assert partials(tmp_path / "out") == [] and not (tmp_path / "out" / "toy_wtw.mp4").exists()
