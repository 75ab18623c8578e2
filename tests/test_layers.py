"""The layers stay honest: the engine never knows Manim, scenes never know torch."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("layer, forbidden", [("engine", {"manim", "manimpango", "cairo"}),
                                              ("scenes", {"torch", "transformers", "sklearn"})])
def test_layer_does_not_import_the_wrong_stack(layer, forbidden):
    files = sorted((ROOT / layer).rglob("*.py"))
    assert files, f"no modules found under {layer}/"
    offenders = {str(f.relative_to(ROOT)): sorted(imported_modules(f) & forbidden) for f in files}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_the_checker_sees_imports():
    # The layer test would pass vacuously if import detection were broken.
    src = "import manim\nfrom torch import nn\nfrom .x import y\n"
    tmp = ROOT / "tests" / ".probe_imports.py"
    tmp.write_text(src)
    try:
        assert imported_modules(tmp) == {"manim", "torch"}
    finally:
        tmp.unlink()


def test_no_source_file_is_too_long():
    long = [f"{f.relative_to(ROOT)} ({n})" for f in ROOT.glob("[!.]*/**/*.py")
            if ".venv" not in f.parts and (n := len(f.read_text().splitlines())) > 450]
    assert long == []
