"""Talk mode (``--captions none``): golden last frames, and the content really grows into the freed space.

A presenter narrates, so captions leave the picture (they go to slide notes and subtitles); the camera
zooms so the content fills the frame between title and source line, which keep their size on screen.
"""
from __future__ import annotations

import pytest
from manim import Text, tempconfig
from manim.utils.testing.frames_comparison import frames_comparison

from pipeline import catalogue
from pipeline.settings import RenderSettings
from tests.scenes import fixtures
from tests.scenes.layout import visible_texts

__module_test__ = "talk_mode"


def talking(name: str) -> type:
    """The catalogue scene ``name`` on its fixture timeline, in talk mode (frames_comparison passes no arguments)."""
    base = fixtures.bound(catalogue.CATALOGUE[name].scene_cls(), fixtures.load_or_none(name))

    class Talking(base):
        def __init__(self, **kwargs):
            super().__init__(captions="none", **kwargs)
    return Talking


SCENES = {name: talking(name) for name in ("toy_wtw", "grid_minilm", "neuron_heatmap", "digits")}


@frames_comparison(base_scene=SCENES["toy_wtw"], last_frame=True)
def test_toy_wtw_last_frame(scene):
    SCENES["toy_wtw"].construct(scene)


@frames_comparison(base_scene=SCENES["grid_minilm"], last_frame=True)
def test_grid_minilm_last_frame(scene):
    SCENES["grid_minilm"].construct(scene)


@frames_comparison(base_scene=SCENES["neuron_heatmap"], last_frame=True)
def test_neuron_heatmap_last_frame(scene):
    SCENES["neuron_heatmap"].construct(scene)


@frames_comparison(base_scene=SCENES["digits"], last_frame=True)
def test_digits_last_frame(scene):
    SCENES["digits"].construct(scene)


def dry_run(name: str, captions: str):
    conf = RenderSettings(854, 480, 1).manim_config() | {"dry_run": True}
    with tempconfig(conf):
        scene = catalogue.CATALOGUE[name].scene_cls()(timeline=fixtures.load(name), skip_animations=True,
                                                      captions=captions)
        scene.render()
    return scene


@pytest.mark.parametrize("name", ["digits", "toy_geometry", "toy_dims"])
def test_talk_mode_shows_no_caption_and_enlarges_the_content(name):
    burned, talk = dry_run(name, "burned"), dry_run(name, "none")
    caption = burned.make_caption(fixtures.load(name).segments[-1])
    lines = {t.text for t in caption.get_family() if isinstance(t, Text)}
    assert lines and lines <= {t.text for t in visible_texts(burned)}
    assert not lines & {t.text for t in visible_texts(talk)}
    assert talk.talk_zoom > 1.02  # these scenes have room to grow: the content is drawn larger
    # Title and source line keep their size on screen: scaled back by exactly the zoom.
    for a, b in zip(burned.chrome, talk.chrome):
        assert b.width * talk.talk_zoom == pytest.approx(a.width, rel=1e-6)
