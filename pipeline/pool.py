"""Worker processes that render while timelines are still being prepared.

With ``--jobs N > 1`` the timelines are prepared (loaded, or trained and captured on a cold cache)
in the main thread while up to N spawned workers render the scenes already prepared, longest first
among those ready. A helper thread (pure Python, so it can always stop cleanly) hands out jobs and
collects results; training stays in the main thread, where Ctrl+C interrupts it between steps
(a daemon thread killed inside torch at interpreter exit aborts the process instead).

Each worker is a plain process with one pipe (no executor, no manager, no semaphores), so:
- a worker that dies (the out-of-memory killer, ``kill -9``) costs only its own scene: its partial
  folder is removed and the scene is retried once in a fresh worker, then reported failed;
- Ctrl+C is the parent's decision: workers start with SIGINT ignored (``worker_python.sh``), and the
  parent terminates them, so no worker prints a traceback and nothing leaks.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from pathlib import Path
from queue import Empty, Queue
from typing import Callable, Iterator

from pipeline.worker import RenderJob, RenderResult, remove_partials, render

DONE = object()  # the main thread's last event
RETRIES = 1  # a scene whose worker dies is tried once more in a fresh worker
_POLL_S = 0.2
WORKER_PYTHON = Path(__file__).with_name("worker_python.sh")  # starts a worker with SIGINT ignored


def _die_with_parent() -> None:
    """Linux: be terminated if the run is killed (SIGKILL leaves it no chance to stop us), rather than
    render on for minutes; our partial folder is then swept by the next run."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _serve(conn: Connection) -> None:
    """A worker: render each job it is sent, reporting progress and the result, until told to stop."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # discards a Ctrl+C that arrived while starting up
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    _die_with_parent()
    from tqdm import tqdm  # Manim's progress bars would take a semaphore that a terminated worker leaks
    tqdm.set_lock(threading.RLock())
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if job is None:
            return
        result = render(job, lambda name, fraction: conn.send(("progress", name, fraction)))
        try:
            conn.send(("done", result))
        except OSError:  # the parent is gone
            return


@dataclass
class _Worker:
    proc: object  # a spawned multiprocessing Process
    conn: Connection
    job: RenderJob | None = None
    started: float = field(default_factory=time.perf_counter)


def _death(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        cause = " (out of memory?)" if -exitcode == signal.SIGKILL else ""
        return f"its worker process was killed by {name}{cause}"
    return f"its worker process exited unexpectedly (status {exitcode})"


class _Pool:
    """The helper thread's state: workers, ready jobs, retries. Only that thread touches it."""

    def __init__(self, n_procs: int, on_event, on_progress, on_done, length):
        self.n_procs, self.on_event, self.on_progress, self.on_done = n_procs, on_event, on_progress, on_done
        self.length = length
        self.ctx = get_context("spawn")
        # Workers start through a wrapper that ignores SIGINT before Python runs (see worker_python.sh).
        os.environ["NEUROREEL_WORKER_PYTHON"] = sys.executable
        self.ctx.set_executable(str(WORKER_PYTHON))
        self.workers: list[_Worker] = []
        self.ready: list[RenderJob] = []
        self.attempts: dict[str, int] = {}

    def _start_worker(self) -> _Worker:
        parent, child = self.ctx.Pipe()
        proc = self.ctx.Process(target=_serve, args=(child,), name="neuroreel-render", daemon=True)
        proc.start()  # SIGINT is ignored in the worker from its first instruction (worker_python.sh)
        child.close()
        worker = _Worker(proc, parent)
        self.workers.append(worker)
        return worker

    def _assign(self) -> None:
        self.ready.sort(key=self.length, reverse=True)
        while self.ready:
            idle = next((w for w in self.workers if w.job is None), None)
            if idle is None and len(self.workers) >= self.n_procs:
                return
            worker = idle or self._start_worker()
            worker.job, worker.started = self.ready.pop(0), time.perf_counter()
            worker.conn.send(worker.job)

    def busy(self) -> bool:
        return bool(self.ready) or any(w.job is not None for w in self.workers)

    def _receive(self, worker: _Worker) -> None:
        while worker.conn.poll():
            try:
                kind, *payload = worker.conn.recv()
            except (EOFError, OSError):
                return
            if kind == "progress":
                self.on_progress(*payload)
            else:
                worker.job = None
                self.on_done(payload[0])

    def _buried(self, worker: _Worker) -> None:
        """A worker died: its scene is retried once in a fresh worker, then reported failed."""
        worker.proc.join()
        self._receive(worker)  # it may have finished its scene just before dying
        self.workers.remove(worker)
        worker.conn.close()
        job = worker.job
        if job is None:
            return
        remove_partials(Path(job.out_dir), [job.name], [worker.proc.pid])
        self.attempts[job.task] = self.attempts.get(job.task, 0) + 1
        if self.attempts[job.task] <= RETRIES:
            self.ready.append(job)
        else:
            self.on_done(RenderResult(job.task, False, time.perf_counter() - worker.started,
                                      error=f"{_death(worker.proc.exitcode)}, in both attempts"))

    def step(self) -> None:
        """Hand out ready jobs, then wait briefly for progress, results and deaths."""
        self._assign()
        if not self.workers:
            time.sleep(0.05)
            return
        by_handle = {}
        for w in self.workers:
            by_handle[w.conn] = w
            by_handle[w.proc.sentinel] = w
        for handle in wait(list(by_handle), timeout=_POLL_S):
            worker = by_handle[handle]
            if worker not in self.workers:
                continue
            if handle is worker.conn:
                self._receive(worker)
            elif not worker.proc.is_alive():
                self._buried(worker)

    def close(self, graceful: bool) -> None:
        """Stop every worker; on an interrupt, at once, removing what they had half-written."""
        for w in self.workers:
            if graceful:
                try:
                    w.conn.send(None)
                except OSError:
                    pass
            else:
                w.proc.terminate()
        for w in self.workers:
            w.proc.join(timeout=10 if graceful else 5)
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join()
            if w.job is not None:
                remove_partials(Path(w.job.out_dir), [w.job.name], [w.proc.pid])
            w.conn.close()
        self.workers.clear()


def _run_pool(pool: _Pool, inbox: Queue, stop: threading.Event, finished: threading.Event,
              failure: list[BaseException]) -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # Ctrl+C is the main thread's to handle
    preparing, graceful = True, False
    try:
        while not stop.is_set() and (preparing or pool.busy()):
            while True:  # everything prepared since the last look
                try:
                    event = inbox.get_nowait()
                except Empty:
                    break
                if event is DONE:
                    preparing = False
                else:
                    pool.ready.extend(pool.on_event(event))
            pool.step()
        graceful = not stop.is_set()
    except BaseException as e:  # handed to the main thread, which raises it
        failure.append(e)
    finally:
        try:
            pool.close(graceful)
        finally:
            finished.set()


def _wait_quietly(finished: threading.Event) -> None:
    """Wait for the helper thread even through further Ctrl+Cs: it is stopping the workers.

    An Event, not ``Thread.join``: a signal that interrupts ``join`` can leave ``is_alive()`` False
    while the thread still runs, and the run would exit before its workers are stopped.
    """
    while not finished.is_set():
        try:
            finished.wait(_POLL_S)
        except KeyboardInterrupt:
            pass


def render_streaming(events: Iterator, n_procs: int, on_event: Callable[[object], list[RenderJob]],
                     on_progress: Callable[[str, float], None], on_done: Callable[[RenderResult], None],
                     length: Callable[[RenderJob], float], make_pool: Callable[..., _Pool] = _Pool) -> None:
    """Consume ``events`` here (preparing timelines); ``on_event`` turns each into the jobs to render (none,
    a scene, or a scene's pieces; a job's ``task`` names it in ``on_progress`` and ``on_done``).

    At most ``n_procs`` jobs run at once; a free worker takes the longest (``length``) ready job.
    The callbacks run in one helper thread. An interrupt stops every worker before it propagates.
    ``make_pool`` builds what runs the jobs (``pipeline.cluster``: a Dask cluster instead of processes).
    """
    inbox: Queue = Queue()
    stop, finished = threading.Event(), threading.Event()
    failure: list[BaseException] = []
    pool = make_pool(n_procs, on_event, on_progress, on_done, length)
    thread = threading.Thread(target=_run_pool, args=(pool, inbox, stop, finished, failure), name="render-pool", daemon=True)
    thread.start()
    try:
        for event in events:
            if finished.is_set():
                break
            inbox.put(event)
        inbox.put(DONE)
        while not finished.wait(_POLL_S):
            pass
    except BaseException:
        stop.set()
        _wait_quietly(finished)
        raise
    if failure:
        raise failure[0]
