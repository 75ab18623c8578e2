"""Fixtures shared by the engine tests (the real-model ones add theirs in real/conftest.py)."""
from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def one_torch_thread():
    """One torch thread for a module: on a busy 2-core machine two threads made capture 3x and
    training 20x slower (bench/capture.py --threads 1 vs 2); restored after the module."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
