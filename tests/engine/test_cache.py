"""The cache returns what was stored, and never trusts a damaged entry."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.cache import ArrayCache, cache_key


@dataclass(frozen=True)
class Cfg:
    a: int = 1
    b: tuple = (0.5, 0.25)


def test_key_depends_on_content_only():
    assert cache_key(Cfg()) == cache_key(Cfg())
    assert cache_key(Cfg()) != cache_key(Cfg(a=2))
    assert cache_key({"x": 1, "y": 2}) == cache_key({"y": 2, "x": 1})
    assert cache_key(np.arange(3)) != cache_key(np.arange(3.0))


def test_round_trip_and_build_once(tmp_path):
    cache = ArrayCache("ns", root=tmp_path)
    calls = []

    def build():
        calls.append(1)
        return {"w": np.arange(6.0).reshape(2, 3)}, {"what": "test"}

    first = cache.get_or_build("k", build)
    second = cache.get_or_build("k", build)
    assert len(calls) == 1
    np.testing.assert_array_equal(first[0]["w"], second[0]["w"])
    assert second[1] == {"what": "test"}


def test_truncated_entry_is_reported_and_rebuilt(tmp_path, capsys):
    cache = ArrayCache("ns", root=tmp_path)
    cache.save("k", {"w": np.ones(1000)}, {})
    p = cache.path("k")
    p.write_bytes(p.read_bytes()[:300])
    arrays, _ = cache.get_or_build("k", lambda: ({"w": np.zeros(3)}, {}))
    np.testing.assert_array_equal(arrays["w"], np.zeros(3))
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "corrupt" in err[0]
    assert cache.load("k") is not None  # the rebuilt entry is good


def test_no_temporary_files_are_left(tmp_path):
    cache = ArrayCache("ns", root=tmp_path)
    cache.save("k", {"w": np.ones(3)})
    assert [p.name for p in cache.dir.iterdir()] == ["k.npz"]
