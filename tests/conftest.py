"""Test-wide setup: offline, an isolated cache, and Manim's golden-frame harness made usable here."""
from __future__ import annotations

import os
import socket

import pytest

# No test may reach a model hub: the libraries are told so, and sockets to anything but loopback fail.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

_real_connect = socket.socket.connect


def _loopback_only(self, address):
    host = address[0] if isinstance(address, tuple) else None
    if host is None or host in ("localhost", "::1") or str(host).startswith("127."):
        return _real_connect(self, address)
    raise RuntimeError(f"a test tried to reach the network ({address}); tests must run offline")


socket.socket.connect = _loopback_only


def pytest_addoption(parser):
    # Manim registers these only in its own repository's conftest.
    parser.addoption("--set_test", action="store_true", default=False, help="regenerate golden frames")
    parser.addoption("--show_diff", action="store_true", default=False, help="show golden-frame differences")


def pytest_configure(config):
    # Manim skips every golden-frame test on cairo < 1.18; Debian 12 ships 1.16 and renders identically.
    import manim.utils.testing.frames_comparison as frames_comparison
    frames_comparison.MIN_CAIRO_VERSION = 0


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """Every test session gets its own cache, shared by the tests (and their subprocesses) within it."""
    path = tmp_path_factory.mktemp("neuroreel-cache")
    old = os.environ.get("NEUROREEL_CACHE")
    os.environ["NEUROREEL_CACHE"] = str(path)
    yield path
    if old is None:
        os.environ.pop("NEUROREEL_CACHE", None)
    else:
        os.environ["NEUROREEL_CACHE"] = old
