"""Worker processes that render while timelines are still being prepared.

With ``--jobs N > 1`` the timelines are prepared (loaded, or trained and captured on a cold cache)
in a thread of this process while N spawned workers render the scenes already prepared, longest
first among those ready. Training is single-threaded, so on a cold cache a second core renders
instead of idling; on a warm one the workers' start-up (importing Manim) overlaps the loading.
"""
from __future__ import annotations

import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import Manager, get_context
from queue import Empty, Queue
from typing import Callable, Iterator

from pipeline.worker import RenderJob, RenderResult, render

DONE = object()  # the preparing thread's last event


def _render_reporting(job: RenderJob, queue) -> RenderResult:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # the parent decides; a worker just stops
    return render(job, lambda name, f: queue.put((name, f)))


def _prepare_in_thread(events: Iterator, out: Queue) -> threading.Thread:
    def pump() -> None:
        try:
            for event in events:
                out.put(event)
        except BaseException as e:  # handed to the main thread, which raises it
            out.put(e)
        out.put(DONE)
    thread = threading.Thread(target=pump, name="prepare-timelines", daemon=True)  # dies with an interrupt
    thread.start()
    return thread


def render_streaming(events: Iterator, n_procs: int, on_event: Callable[[object], RenderJob | None],
                     on_progress: Callable[[str, float], None], on_done: Callable[[RenderResult], None],
                     length: Callable[[RenderJob], float]) -> None:
    """Consume ``events`` (in a thread); ``on_event`` turns each into a job to render, or None.

    At most ``n_procs`` jobs run at once; a free worker takes the longest (``length``) ready job.
    """
    prepared: Queue = Queue()
    _prepare_in_thread(events, prepared)
    with Manager() as mgr:
        reports = mgr.Queue()
        pool = ProcessPoolExecutor(max_workers=n_procs, mp_context=get_context("spawn"))
        ready: list[RenderJob] = []
        running: set[Future] = set()
        preparing = True
        try:
            while preparing or ready or running:
                while True:  # everything prepared since the last look
                    try:
                        event = prepared.get_nowait()
                    except Empty:
                        break
                    if event is DONE:
                        preparing = False
                    elif isinstance(event, BaseException):
                        raise event
                    elif (job := on_event(event)) is not None:
                        ready.append(job)
                ready.sort(key=length, reverse=True)
                while ready and len(running) < n_procs:
                    running.add(pool.submit(_render_reporting, ready.pop(0), reports))
                if running:
                    done, running = wait(running, timeout=0.2, return_when=FIRST_COMPLETED)
                else:
                    done = set()
                    time.sleep(0.05)  # the next timeline is still being prepared
                _drain(reports, on_progress)
                for fut in done:
                    on_done(fut.result())
            _drain(reports, on_progress)
            pool.shutdown()
        except BaseException:
            for proc in list((pool._processes or {}).values()):  # stop workers now, not after their scene
                proc.terminate()
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _drain(queue, on_progress: Callable[[str, float], None]) -> None:
    try:
        while True:
            on_progress(*queue.get_nowait())
    except Empty:
        pass
