"""Cache keys follow the code a result depends on, and only that code."""
from engine.fingerprint import REPO_ROOT, module_closure


def rel(paths):
    return {str(p.relative_to(REPO_ROOT)) for p in paths}


def test_scene_closure_holds_its_imports_and_not_other_scenes():
    closure = rel(module_closure("scenes.toy_wtw"))
    assert {"scenes/toy_wtw.py", "scenes/base.py", "scenes/style.py", "scenes/heatmap.py", "engine/timeline.py"} <= closure
    others = {str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "scenes").glob("*.py")} - closure
    assert all(not o.startswith("scenes/toy_wtw") for o in others)


def test_builder_closure_follows_imports_inside_functions():
    # toy_wtw's builder imports the toy engine inside build(): training code must still count.
    closure = rel(module_closure("engine.timelines.toy_wtw"))
    assert {"engine/toy/training.py", "engine/toy/models.py", "engine/toy/data.py"} <= closure
    assert not any(p.startswith("scenes/") for p in closure)
