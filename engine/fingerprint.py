"""Hash the source a result depends on: a module and, transitively, the project modules it imports.

Keys built from this change when the code that makes a result changes, and only then: editing
one scene does not invalidate another scene's cached renders.
"""
from __future__ import annotations

import ast
import hashlib
import importlib.util
from functools import lru_cache
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PROJECT_PACKAGES = ("engine", "scenes", "pipeline")


def _module_file(name: str) -> Path | None:
    if name.split(".")[0] not in PROJECT_PACKAGES:
        return None
    path = REPO_ROOT.joinpath(*name.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):  # function-level imports count too: they run when the code does
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = importlib.util.resolve_name("." * node.level + (node.module or ""), package) if node.level else node.module
            if base:
                found.add(base)
                found |= {f"{base}.{a.name}" for a in node.names}  # `from pkg import submodule`
    return found


def module_closure(module: str) -> list[Path]:
    """Source files of ``module`` and every project module it imports, directly or not."""
    seen: dict[str, Path] = {}
    stack = [module]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        path = _module_file(name)
        if path is None:
            continue
        seen[name] = path
        parts = name.split(".")
        stack += [".".join(parts[:i]) for i in range(1, len(parts))]  # parent packages run too
        stack += sorted(_imports(path, name))
    return sorted(set(seen.values()))


@lru_cache(maxsize=None)
def code_fingerprint(*modules: str) -> str:
    """One hash over the closures of ``modules`` (file names and contents)."""
    h = hashlib.sha256()
    for path in sorted({p for m in modules for p in module_closure(m)}):
        h.update(str(path.relative_to(REPO_ROOT)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]
