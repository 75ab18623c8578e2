"""Scene tests: each test starts and ends in the default (dark) theme, whatever a scene before it used."""
from __future__ import annotations

import pytest

from scenes import style


@pytest.fixture(autouse=True)
def dark_theme_between_tests():
    style.use_theme("dark")
    yield
    style.use_theme("dark")
