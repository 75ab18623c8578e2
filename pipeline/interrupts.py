"""Ctrl+C that C code swallowed.

A SIGINT raises KeyboardInterrupt in the next Python bytecode. When that bytecode runs inside a C
extension's import (numpy's ``PyCapsule_Import("datetime")``, seen in CI), the extension clears the
KeyboardInterrupt and raises ImportError instead, and the run would die with an import traceback or
record a scene as failed. So render.py notes every Ctrl+C here, and whoever catches an exception asks
:func:`reraise` first: after a Ctrl+C, any exception is the interrupt.
"""
from __future__ import annotations

import signal

_seen = False


def _on_sigint(signum, frame) -> None:
    global _seen
    _seen = True
    raise KeyboardInterrupt


def install() -> None:
    """Note each Ctrl+C, then raise KeyboardInterrupt as Python's own handler does."""
    signal.signal(signal.SIGINT, _on_sigint)


def seen() -> bool:
    """Whether a Ctrl+C has arrived in this process since :func:`install`."""
    return _seen


def reraise(exc: BaseException) -> None:
    """Raise KeyboardInterrupt (from ``exc``) if a Ctrl+C has arrived; otherwise return."""
    if _seen and not isinstance(exc, KeyboardInterrupt):
        raise KeyboardInterrupt from exc
