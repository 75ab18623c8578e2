"""Every scene, at the end of every phase, keeps its text legible: in frame, apart, large enough."""
from __future__ import annotations

import pytest
from manim import tempconfig

from pipeline import catalogue
from pipeline.settings import QUALITIES, RenderSettings
from scenes.base import CAPTION_MODES
from tests.scenes import fixtures
from tests.scenes.layout import layout_problems

# One size per distinct aspect ratio among the presets (854x480 is 16:9 to within a pixel); the
# smallest of each, since layout is in scene units and a 4K dry run only costs time.
SIZES = list({round(w / h, 2): (w, h) for w, h, _ in sorted(QUALITIES.values(), reverse=True)}.values())


def cases():
    for entry in catalogue.CATALOGUE.values():
        for w, h in SIZES:
            for captions in CAPTION_MODES:
                yield pytest.param(entry, (w, h), captions, id=f"{entry.name}-{w}x{h}-{captions}")


@pytest.mark.parametrize("entry, size, captions", list(cases()))
def test_text_is_in_frame_apart_and_legible_in_every_phase(entry, size, captions):
    path = fixtures.FIXTURES / f"{entry.name}.json"
    assert path.exists(), f"scene {entry.name} has no fixture timeline; add build_fixture() to its scene test"
    timeline = fixtures.load(entry.name)
    seen: dict[str, list[str]] = {}
    conf = RenderSettings(size[0], size[1], 1).manim_config() | {"dry_run": True}
    with tempconfig(conf):
        scene = entry.scene_cls()(timeline=timeline, skip_animations=True, captions=captions,
                                  on_segment_end=lambda sc, seg: seen.__setitem__(seg.name, layout_problems(sc)))
        scene.render()
    assert list(seen) == [s.name for s in timeline.segments]
    assert {k: v for k, v in seen.items() if v} == {}


def test_the_layout_check_catches_overlap_and_overflow():
    from manim import Scene, Text
    with tempconfig({"dry_run": True}):
        scene = Scene()
        scene.add(Text("one", font_size=24), Text("two", font_size=24), Text("far away", font_size=10).shift([9, 0, 0]))
        problems = layout_problems(scene)
    assert any("overlap" in p for p in problems)
    assert any("outside the frame" in p for p in problems)
    assert any("font size" in p for p in problems)
