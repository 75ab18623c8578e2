"""render.py under process, interrupt and filesystem faults (docs/reliability.md lists each case).

Interrupts are sent as a terminal sends them: SIGINT to the whole process group (render.py and its
workers), started in a session of its own with SIGINT at its default. Moments are chosen by what
the run has visibly reached (torch loaded, a worker's partial folder), never by guessed sleeps,
except for the deliberately early interrupts.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cli.test_render_cli import ROOT, render_py, tree

FAST = ["--scene", "toy_wtw", "--set", "steps=300", "--resolution", "320x180", "--fps", "5", "--duration", "5"]
TWO = ["--scene", "toy_wtw", "--scene", "toy_phase", "--set", "steps=300", "--resolution", "320x180", "--fps", "5",
       "--duration", "6", "--jobs", "2"]
INTERRUPTED = "render.py: interrupted;"


def start(*args: str) -> subprocess.Popen:
    """render.py in its own process group, SIGINT at its default (as a terminal's foreground job)."""
    return subprocess.Popen([sys.executable, str(ROOT / "render.py"), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def ctrl_c(proc: subprocess.Popen, timeout: float = 60) -> str:
    """Send Ctrl+C to the run's process group; its stderr once it has exited."""
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=timeout)
    return err


def wait_for(condition, proc: subprocess.Popen, timeout: float = 240, what: str = "") -> None:
    deadline = time.time() + timeout
    while not condition():
        assert proc.poll() is None, f"render.py exited before {what}: {proc.communicate()}"
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def dead_pid() -> int:
    """The PID of a process that has exited (what a SIGKILLed run leaves in its temporary names)."""
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def writers_of(parent: int, needle: str) -> list[int]:
    """Child processes of ``parent`` holding a file open whose path contains ``needle`` (a scene's worker)."""
    children = []
    for task in Path(f"/proc/{parent}/task").glob("*"):  # workers are started by a helper thread
        try:
            children += (task / "children").read_text().split()
        except OSError:
            pass
    found = []
    for child in children:
        try:
            targets = [os.readlink(f"/proc/{child}/fd/{fd}") for fd in os.listdir(f"/proc/{child}/fd")]
        except OSError:
            continue  # gone meanwhile, or a file closed while listing
        if any(needle in t and ".partial/" in t for t in targets):
            found.append(int(child))
    return found


def others_files(out: Path) -> dict[str, Path]:
    """Files that look like ours but are not this run's: a user's, and a live render's."""
    files = {"user_file": out / ".my_notes.partial", "user_folder": out / ".backup.partial",
             "live_run": out / f".toy_phase.{os.getpid()}.abcd1234.partial"}
    files["user_file"].write_text("my notes")
    for d in (files["user_folder"], files["live_run"]):
        d.mkdir()
        (d / "keep.txt").write_text("keep")
    return files


PROGRESS_LINE = re.compile(r"^\S+\s+\d+% \d+:\d\d:\d\d$")  # a scene's progress bar, left on screen


def assert_quiet_interrupt(proc: subprocess.Popen, err: str) -> None:
    """Exit 130 and one line saying so; a progress bar already drawn (not --quiet) may stand above it."""
    assert proc.returncode == 130, err
    lines = [line for line in err.strip().splitlines() if not PROGRESS_LINE.match(line.strip())]
    assert lines == [err.strip().splitlines()[-1]] and INTERRUPTED in err, err
    for noise in ("Traceback", "terminate called", "leaked", "KeyboardInterrupt"):
        assert noise not in err


def our_partials(out: Path) -> list[Path]:
    return [p for p in out.rglob(".*") if re.fullmatch(r"\.toy_(wtw|phase)\.\d+\.\w{8}\.partial", p.name)
            and str(os.getpid()) not in p.name]


# Defects 1, 3, 18: Ctrl+C while a timeline trains, with several jobs.
def test_ctrl_c_during_training_with_jobs_exits_130_quietly_and_removes_only_its_own(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    keep = others_files(out)
    proc = start("--scene", "toy_wtw", "--set", "steps=400000", "--jobs", "2", "--out", str(out), "--quiet")
    maps = Path(f"/proc/{proc.pid}/maps")
    wait_for(lambda: "libtorch_cpu" in maps.read_text(), proc, what="torch is loaded")
    cpu = cpu_seconds(proc.pid)
    wait_for(lambda: cpu_seconds(proc.pid) > cpu + 2, proc, what="training has run for 2 CPU seconds")
    err = ctrl_c(proc)
    assert_quiet_interrupt(proc, err)
    assert all(p.exists() for p in keep.values()), tree(out)
    assert (keep["user_folder"] / "keep.txt").read_text() == "keep"
    assert our_partials(out) == [] and not (out / "manifest.json").exists()


# Defects 1, 18: Ctrl+C while two workers render.
def test_ctrl_c_while_workers_render_is_quiet_and_leaves_others_files(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    keep = others_files(out)
    proc = start(*TWO, "--out", str(out), "--quiet")
    wait_for(lambda: list(out.glob(".toy_*.*.partial/media/**/*.mp4")), proc, what="a worker writes video")
    err = ctrl_c(proc)
    assert_quiet_interrupt(proc, err)
    assert all(p.exists() for p in keep.values()), tree(out)
    assert our_partials(out) == []


# Defect 18: Ctrl+C in the first half second (while Python imports) is one line, not a traceback.
@pytest.mark.parametrize("delay", [0.0, 0.2, 0.4])
def test_ctrl_c_at_start_up_is_one_line(tmp_path, delay):
    proc = start(*FAST, "--out", str(tmp_path / "out"))
    maps = Path(f"/proc/{proc.pid}/maps")
    # _bz2 is loaded by render.py's first imports (shutil), never by Python's own start-up: from here
    # on, an interrupt is render.py's to report (before it, Python itself dies silently by SIGINT).
    wait_for(lambda: "_bz2" in maps.read_text(), proc, timeout=60, what="render.py's imports")
    time.sleep(delay)
    err = ctrl_c(proc)
    assert_quiet_interrupt(proc, err)


# Defect 4: a worker killed (as by the out-of-memory killer) costs only its own scene.
@pytest.mark.parametrize("kills", [1, 2])
def test_a_killed_worker_costs_only_its_scene(tmp_path, kills):
    out = tmp_path / "out"
    proc = start(*TWO, "--out", str(out))
    killed: set[int] = set()

    def kill_toy_wtw_workers() -> bool:
        # The worker's PID is in its partial folder's name, which exists for its whole render; a version
        # without PIDs in names is found by the files it holds open there.
        named = [m[1] for p in (out.glob(".toy_wtw.*.partial") if out.is_dir() else ())
                 if (m := re.fullmatch(r"\.toy_wtw\.(\d+)\.\w{8}\.partial", p.name))]
        for pid in [int(n) for n in named] or writers_of(proc.pid, "/.toy_wtw."):
            if pid not in killed:
                os.kill(pid, signal.SIGKILL)
                killed.add(pid)
        return len(killed) >= kills

    wait_for(kill_toy_wtw_workers, proc, what=f"{kills} toy_wtw worker(s) to kill")
    _, err = proc.communicate(timeout=300)
    scenes = {s["name"]: s for s in json.loads((out / "manifest.json").read_text())["scenes"]}
    assert "BrokenProcessPool" not in err and "Traceback" not in err
    assert "toy_phase" in scenes and (out / "toy_phase.mp4").is_file()  # the other scene still rendered
    assert our_partials(out) == [], tree(out)
    if kills == 1:  # retried once in a fresh worker
        assert proc.returncode == 0, err
        assert "toy_wtw" in scenes and (out / "toy_wtw.mp4").is_file()
    else:
        assert proc.returncode == 1, err
        assert "toy_wtw" not in scenes and not (out / "toy_wtw.mp4").exists()
        assert "SIGKILL" in err and "FAILED" in err


# Defects 4, 5: render.py itself killed mid-render: its workers stop with it, the next run sweeps up.
def test_workers_die_with_a_killed_run_and_the_next_run_sweeps_up(tmp_path):
    out = tmp_path / "out"
    # Long enough that a worker is still rendering when we look, even with the timelines cached.
    proc = start(*TWO[:-4], "--duration", "40", "--jobs", "2", "--out", str(out), "--quiet")
    workers: list[int] = []

    def a_worker_renders() -> bool:
        # A worker's PID is in its partial folder's name, which exists for its whole render.
        named = [int(m[1]) for p in (out.glob(".toy_*.partial") if out.is_dir() else ())
                 if (m := re.fullmatch(r"\.toy_\w+\.(\d+)\.\w{8}\.partial", p.name))]
        workers.extend(pid for pid in named if pid != proc.pid and Path(f"/proc/{pid}").exists())
        return bool(workers)

    wait_for(a_worker_renders, proc, what="a worker renders")
    proc.kill()
    proc.communicate(timeout=60)
    deadline = time.time() + 30
    while any(Path(f"/proc/{w}").exists() for w in workers) and time.time() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{w}").exists() for w in workers), "a worker outlived its run"
    res = render_py(*TWO, "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    assert our_partials(out) == [], tree(out)


# Defect 5: leftovers of killed runs are removed by a later run; only those.
def test_a_later_run_removes_stale_leftovers_and_nothing_else(tmp_path, isolated_cache):
    out = tmp_path / "out"
    (out / "timelines").mkdir(parents=True)
    (out / "sections").mkdir()
    (isolated_cache / "toy").mkdir(parents=True, exist_ok=True)
    dead = dead_pid()
    stale = [out / f".toy_wtw.{dead}.abcd1234.partial", out / f".manifest.json.{dead}.x1y2z3w4.tmp",
             out / "timelines" / f".toy_wtw.json.{dead}.abcdefgh.tmp", out / "sections" / f".toy_wtw.{dead}.old.partial",
             isolated_cache / "toy" / f".0123abcd.npz.{dead}.abcdefgh.tmp", out / ".grid_minilm.k2j4h5g6.partial"]
    for p in stale:
        p.mkdir() if p.suffix == ".partial" else p.write_text("half")
    two_days_ago = time.time() - 2 * 86400
    os.utime(stale[-1], (two_days_ago, two_days_ago))  # an older version's leftover: no PID, but old
    keep = others_files(out)
    keep["not_a_scene"] = out / f".my_notes.{dead}.abcdefgh.partial"
    keep["not_ours_in_cache"] = isolated_cache / "toy" / "notes.tmp"
    keep["fresh_no_pid"] = out / ".toy_wtw.abcdefgh.partial"
    for k in ("not_a_scene", "not_ours_in_cache", "fresh_no_pid"):
        keep[k].write_text("keep")
    res = render_py(*FAST, "--out", str(out), "--quiet")
    assert res.returncode == 0, res.stderr
    assert [p for p in stale if p.exists()] == []
    assert [k for k, p in keep.items() if not p.exists()] == []


# Defect 6: two writers of one manifest never lose each other's entries.
def test_concurrent_manifest_updates_are_all_kept(tmp_path):
    go = tmp_path / "go"
    code = ("import sys, time, pathlib\nfrom pipeline import manifest\n"
            "out, tag, go = pathlib.Path(sys.argv[1]), sys.argv[2], pathlib.Path(sys.argv[3])\n"
            "while not go.exists(): time.sleep(0.001)\n"
            "for i in range(40):\n"
            "    manifest.upsert(out, dict(name=f'{tag}{i}', file=f'{tag}{i}.mp4', width=1, height=1, fps=1,"
            " frames=1, duration_s=1, source='s', timeline='t'))\n")
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path), tag, str(go)], cwd=ROOT) for tag in "ab"]
    time.sleep(1.0)  # both have imported and are waiting
    go.touch()
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    names = {s["name"] for s in json.loads((tmp_path / "manifest.json").read_text())["scenes"]}
    assert names == {f"{t}{i}" for t in "ab" for i in range(40)}


# Defect 10: a damaged manifest is one line, exit 2, before anything is trained or written.
@pytest.mark.parametrize("content", ["{not json", "[]", '{"scenes": [1]}', '{"scenes": [{"name": "x"}]}'])
@pytest.mark.parametrize("force", [False, True])
def test_damaged_manifest_is_one_line_exit_2_and_nothing_is_published(tmp_path, content, force):
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text(content)
    res = render_py(*FAST, "--set", "steps=301", "--out", str(out), *(["--force"] if force else []), timeout=120)
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "manifest.json" in res.stderr
    assert tree(out) == ["manifest.json"] and (out / "manifest.json").read_text() == content


# Defect 11: an output damaged in the middle (same size, same header) is rendered again, not reused.
def test_an_output_zeroed_in_the_middle_is_rendered_again(tmp_path):
    out = tmp_path / "out"
    assert render_py(*FAST, "--out", str(out), "--quiet").returncode == 0
    video = out / "toy_wtw.mp4"
    good = video.read_bytes()
    middle = len(good) // 2
    video.write_bytes(good[:middle] + bytes(4096) + good[middle + 4096:])
    res = render_py(*FAST, "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "reused" not in res.stderr and "rendered" in res.stderr
    assert video.read_bytes() == good  # deterministic render, so the repair is byte-exact


# Defect 16: an empty --out is refused instead of meaning the current folder.
def test_empty_out_is_refused(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "render.py"), *FAST, "--out", ""], cwd=tmp_path,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "--out" in res.stderr
    assert tree(tmp_path) == []


def _sigint_disposition(conn) -> None:
    """Run in a worker process: report how it would take a Ctrl+C."""
    conn.send(signal.getsignal(signal.SIGINT) == signal.SIG_IGN)
    conn.close()


# Defect 18, the start-up window: a spawned child does not inherit a blocked SIGINT, so a Ctrl+C while a
# worker was still importing printed the worker's KeyboardInterrupt traceback. Workers now start ignoring it.
def test_render_workers_ignore_ctrl_c_from_their_first_instruction():
    from pipeline.pool import _Pool

    pool = _Pool(1, None, None, None, None)
    parent, child = pool.ctx.Pipe()
    proc = pool.ctx.Process(target=_sigint_disposition, args=(child,))
    proc.start()
    assert parent.recv() is True
    proc.join(timeout=60)
    assert proc.exitcode == 0


# Defect 18 (seen in CI): a Ctrl+C while numpy imported its C core came out as numpy's ImportError,
# a traceback and exit 1. Deterministic here: the interrupt arrives inside code that swallows it as C does.
def test_ctrl_c_swallowed_by_an_import_is_still_one_line(monkeypatch, capsys):
    import render
    from pipeline import cli, interrupts

    def main_whose_import_swallows_ctrl_c():
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)
        except KeyboardInterrupt:
            raise ImportError('PyCapsule_Import could not import module "datetime"') from None

    monkeypatch.setattr(cli, "main", main_whose_import_swallows_ctrl_c)
    previous = signal.getsignal(signal.SIGINT)
    try:
        assert render._main() == 130
    finally:
        signal.signal(signal.SIGINT, previous)
        monkeypatch.setattr(interrupts, "_seen", False)
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [err.strip()] and INTERRUPTED in err and "Traceback" not in err
