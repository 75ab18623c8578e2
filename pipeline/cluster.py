"""``render.py --cluster``: the run's jobs (whole scenes and pieces) on a Dask cluster instead of local processes.

Why Dask (requirements-cluster.txt): 44 MB installed and a 2-worker local cluster up in under a
second, where Ray was 260 MB and 5-6 s. It is optional and imported only once a job needs rendering,
so an unchanged re-run starts, and connects to, nothing.

The seam is ``pipeline.pool``: the same helper thread, inbox and interrupt handling, with this
module's ``_ClusterPool`` in place of local worker processes. No disk is shared: each job carries its
timeline's bytes (``pipeline.cluster_task``) and comes back with the bytes of the files it made,
which are published here exactly as a local worker publishes them (a piece goes into the split
scene's staging folder, and ``pipeline.split`` joins and finishes it as before). So outputs,
render keys and the manifest are the same bytes as a local render's.

Faults: a worker that dies mid-task has its task run again elsewhere (``--cluster local``: once, as
the local pool does; a remote scheduler by its own ``allowed-failures``), then reported failed;
a task that raises is retried once. A scheduler that goes away fails the scenes not finished, one
line each; finished outputs stay. Ctrl+C cancels every task and closes the client (and the local
cluster). Files appear only complete: the run writes them into its own partial folder first.
"""
from __future__ import annotations

import json
import logging
import pickle
import shutil
import socket
import tempfile
import threading
import time
import uuid
import warnings
from dataclasses import replace
from functools import partial
from pathlib import Path
from queue import Empty, SimpleQueue
from typing import Callable
from urllib.parse import urlsplit

from engine.atomic import publish_dir, temp_prefix
from pipeline.cluster_task import Rendered, Shipped, code_id, run_job
from pipeline.pool import render_streaming
from pipeline.worker import PARTIAL_SUFFIX, RenderJob, RenderResult

LOCAL = "local"
CONNECT_TIMEOUT_S = 5.0
RETRIES = 1  # a task that raises is run once more; with --cluster local, so is one whose worker died
INSTALL = "pip install -r requirements-cluster.txt"
NO_WORKERS_S = 60.0  # a scheduler without workers this long fails the jobs it holds (else the run would wait forever)
_POLL_S = 0.2
_WORKERS_EVERY_S = 2.0
_PROJECT_PACKAGES = ("pipeline", "engine", "scenes")


class ClusterError(ValueError):
    """A --cluster value that cannot work: one line for the command line (exit 2)."""


def check_address(value: str) -> str:
    """``local``, or a scheduler address that something answers at, as ``tcp://HOST:PORT``; checked
    before anything is built. Dask itself is looked up, not imported (that waits for a job)."""
    import importlib.util

    try:
        found = importlib.util.find_spec("distributed") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise ClusterError(f"--cluster needs Dask, which is not installed; install it with: {INSTALL}")
    if value == LOCAL:
        return LOCAL
    parts = urlsplit(value if "://" in value else f"tcp://{value}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise ClusterError(f"--cluster takes 'local' or a Dask scheduler address tcp://HOST:PORT "
                           f"(e.g. tcp://10.0.0.5:8786), not '{value}'")
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    address = f"tcp://{host}:{port}"
    try:
        socket.create_connection((parts.hostname, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError:
        raise ClusterError(f"no Dask scheduler at {address}; start one with 'dask scheduler', "
                           "or use --cluster local") from None
    return address


def streaming(address: str) -> Callable[..., None]:
    """A ``pool.render_streaming`` that renders on the cluster at ``address`` (``local``: one started here)."""
    return partial(render_streaming, make_pool=partial(_ClusterPool, address))


def _silence_dask_logs() -> None:
    """Dask logs reconnects, restarts and cancellations at every level; the run reports them itself, in one line."""
    for name in ["distributed", "tornado", *[n for n in logging.root.manager.loggerDict
                                            if n.startswith(("distributed.", "tornado."))]]:
        logging.getLogger(name).setLevel(logging.CRITICAL + 1)


def ship(job: RenderJob, topic: str | None) -> Shipped:
    """``job`` with its timeline's JSON and NPZ bytes (the NPZ named as the JSON names it)."""
    path = Path(job.timeline_path)
    doc = path.read_bytes()
    npz = path.with_name(json.loads(doc)["npz"]["file"])
    return Shipped(job, {path.name: doc, npz.name: npz.read_bytes()}, code_id(job.scene), topic)


class _Call:
    """``run_job(shipped)`` as a task Dask cannot look into: pickled, it runs when the worker unpickles it
    (the task applies ``pickle.loads`` to bytes this process pickled a moment before: nothing read from disk
    or from anyone else, and no more than Dask's own transport unpickles). So neither the scheduler nor a worker's network layer needs
    neuroreel: a worker without it fails the task with ModuleNotFoundError, reported with its fix,
    where Dask would otherwise close that worker and the run would wait for another."""

    def __init__(self, shipped: Shipped):
        self.shipped = shipped

    def __reduce__(self):
        return run_job, (self.shipped,)


def publish(job: RenderJob, rendered: Rendered) -> RenderResult:
    """Write what a worker rendered into the run's folders, complete files only, as a local worker would:
    a piece into its split scene's staging folder; a whole scene's section clips, subtitles and video
    through a partial folder of this process, renamed into place in ``pipeline.worker.finish``'s order."""
    result = rendered.result
    if not result.ok:
        return result
    if job.phases is not None:  # the staging folder is the run's own partial folder: nothing there is final
        stage = Path(job.piece_dir)
        if not stage.is_dir():  # another piece failed and the scene's staging folder is gone: write nothing
            return RenderResult(result.name, False, result.seconds, error="its scene failed already")
        for rel, data in rendered.files.items():
            (stage / rel).parent.mkdir(exist_ok=True)
            (stage / rel).write_bytes(data)
        return RenderResult(result.name, True, result.seconds, file=str(stage / result.file))
    out = Path(job.out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(job.name), suffix=PARTIAL_SUFFIX, dir=out))
    try:
        staged = {rel: tmp / "sections" / Path(rel).name if rel in result.sections else tmp / rel
                  for rel in rendered.files}
        for rel, data in rendered.files.items():
            staged[rel].parent.mkdir(exist_ok=True)
            staged[rel].write_bytes(data)
        if result.sections:
            publish_dir(tmp / "sections", out / job.sections_dir)
        for extra in result.extras:  # sidecars first: a video under its final name has its subtitles beside it
            staged[extra].replace(out / extra)
        staged[result.file].replace(out / job.output_name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def describe(error: BaseException, address: str) -> str:
    """A task's exception as the one line the summary shows, with the fix where there is one."""
    kind = type(error).__name__
    if kind == "KilledWorker":
        return "its Dask worker died in every attempt (killed, or out of memory?)"
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] in _PROJECT_PACKAGES:
        return (f"a Dask worker of {address} cannot import neuroreel ({error}); start it with the project "
                "importable: PYTHONPATH=/path/to/neuroreel dask worker ... (docs/cluster.md)")
    return f"on a Dask worker: {kind}: {error}"


class _ClusterPool:
    """``pool._Pool``'s part for a Dask cluster: submits ready jobs, collects results and progress.
    Only the pool's helper thread calls it; the client or local cluster starts with the first job."""

    def __init__(self, address: str, n_procs: int, on_event, on_progress, on_done, length):
        self.address, self.n_procs = address, n_procs
        self.on_event, self.on_progress, self.on_done, self.length = on_event, on_progress, on_done, length
        self.ready: list[RenderJob] = []
        self.pending: dict[object, RenderJob] = {}  # Dask future -> job
        self.started: dict[str, float] = {}
        self.client = self.cluster = None
        self.broken: str | None = None  # why no more job can run: no scheduler, or it went away
        self.topic = f"neuroreel-progress-{uuid.uuid4().hex[:12]}"
        self.events: SimpleQueue = SimpleQueue()  # (task, fraction) from the client's thread
        self.wake = threading.Event()
        self.workers_seen, self.workers_checked = time.perf_counter(), 0.0

    def busy(self) -> bool:
        return bool(self.ready or self.pending)

    def _connect(self) -> None:
        import dask

        dask.config.set({"distributed.scheduler.allowed-failures": RETRIES})  # a scheduler started here
        import distributed

        _silence_dask_logs()
        if self.address == LOCAL:
            # Its scheduler's status server tries port 8787 first and warns when another cluster has it.
            warnings.filterwarnings("ignore", message=r"Port \d+ is already in use", category=UserWarning)
            self.cluster = distributed.LocalCluster(
                n_workers=self.n_procs, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=logging.CRITICAL + 1, preload=["pipeline.cluster_task"])
            self.client = distributed.Client(self.cluster, set_as_default=False)
        else:
            self.client = distributed.Client(self.address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
        self.client.subscribe_topic(self.topic, lambda event: self.events.put(event[1]))
        self.workers_seen = time.perf_counter()

    def _fail(self, job: RenderJob, error: str) -> None:
        now = time.perf_counter()
        self.on_done(RenderResult(job.task, False, now - self.started.pop(job.task, now), error=error))

    def _submit(self) -> None:
        jobs, self.ready = sorted(self.ready, key=self.length, reverse=True), []
        if self.client is None and self.broken is None:
            try:
                self._connect()
            except Exception as e:  # noqa: BLE001 - any failure to connect fails the jobs, one line each
                self.close(graceful=True)
                why = f"{type(e).__name__}: {e}"
                self.broken = (f"starting a local Dask cluster failed ({why})" if self.address == LOCAL
                               else f"no Dask scheduler at {self.address} ({why})")
        for job in jobs:
            self.started[job.task] = time.perf_counter()
            if self.broken is not None:
                self._fail(job, self.broken)
                continue
            try:
                shipped = ship(job, self.topic)
            except (OSError, ValueError, KeyError) as e:
                self._fail(job, f"reading its timeline to send: {e}")
                continue
            try:
                future = self.client.submit(pickle.loads, pickle.dumps(_Call(shipped)), pure=False, retries=RETRIES,
                                            key=f"neuroreel-{job.task}-{uuid.uuid4().hex[:8]}",
                                            priority=round(self.length(job) * 1000))  # longest first, as locally
            except Exception as e:  # noqa: BLE001 - a client that lost its scheduler
                self._fail(job, f"sending it to the Dask scheduler at {self.address}: {type(e).__name__}: {e}")
                continue
            future.add_done_callback(lambda _: self.wake.set())
            self.pending[future] = job

    def _progress(self) -> None:
        while True:
            try:
                task, fraction = self.events.get_nowait()
            except Empty:
                return
            if any(job.task == task for job in self.pending.values()):  # not once its result is in
                self.on_progress(task, fraction)

    def _collect(self, future) -> None:
        job = self.pending.pop(future)
        try:
            if future.status == "finished":
                result = publish(job, future.result())
            elif future.status == "cancelled":  # only the scheduler's loss cancels our tasks mid-run
                self.broken = self.broken or (f"the Dask scheduler at {self.address} went away before it was "
                                              "rendered; run the same command again to finish")
                result = RenderResult(job.task, False, 0.0, error=self.broken)
            else:
                result = RenderResult(job.task, False, 0.0, error=describe(future.exception(), self.address))
        except Exception as e:  # noqa: BLE001 - fetching or writing one result fails that job only
            result = RenderResult(job.task, False, 0.0,
                                  error=f"collecting it from the cluster: {type(e).__name__}: {e}")
        seconds = time.perf_counter() - self.started.pop(job.task)
        self.on_done(replace(result, seconds=result.seconds or seconds))

    def step(self) -> None:
        """Submit ready jobs, then wait briefly for progress and results."""
        if self.ready:
            self._submit()
        if not self.pending:
            time.sleep(0.05)
            return
        self.wake.wait(_POLL_S)
        self.wake.clear()
        self._progress()
        for future in [f for f in self.pending if f.done()]:
            self._collect(future)
        self._check_workers()

    def _check_workers(self) -> None:
        """Fail the jobs a remote scheduler holds once it has had no worker for NO_WORKERS_S."""
        now = time.perf_counter()
        if self.cluster is not None or self.broken or not self.pending \
                or now - self.workers_checked < _WORKERS_EVERY_S:
            return
        self.workers_checked = now
        try:
            if self.client.nthreads():
                self.workers_seen = now
                return
        except Exception:  # noqa: BLE001 - a lost scheduler cancels the tasks; that is reported instead
            return
        if now - self.workers_seen >= NO_WORKERS_S:
            self.broken = (f"the Dask scheduler at {self.address} had no worker for {NO_WORKERS_S:.0f} s; start "
                           f"workers with: dask worker {self.address} (docs/cluster.md)")
            self.client.cancel(list(self.pending), force=True)
            for future in list(self.pending):
                self._fail(self.pending.pop(future), self.broken)

    def close(self, graceful: bool) -> None:
        """Cancel what is still running (an interrupt), then close the client and a cluster started here.
        Nothing here may raise: this runs on the way out, also of an interrupt, and each step is best effort
        (a scheduler already gone; the local cluster's workers die with this process anyway)."""
        steps = []
        if self.client is not None:
            if self.pending:
                steps.append(lambda: self.client.cancel(list(self.pending), force=True))
            steps.append(lambda: self.client.close(timeout=CONNECT_TIMEOUT_S))
        if self.cluster is not None:
            steps.append(lambda: self.cluster.close(timeout=10))
        for step in steps:
            try:
                step()
            except Exception:  # noqa: BLE001 - see above
                pass
        self.pending.clear()
        self.client = self.cluster = None
