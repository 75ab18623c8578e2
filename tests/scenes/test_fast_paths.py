"""The render speed-ups change how frames are made, not what they show.

CellLayer draws what Circles and Sectors would; images and skipped invisible shapes leave the frame
Manim's camera gives; a merged, cached Text draws what Manim's Text would; a still stretch of a
timeline, drawn once and repeated, gives the frames drawing each would.
"""
from __future__ import annotations

import av
import numpy as np
import pytest
from manim import Camera, Circle, ImageMobject, Line, Sector, Square, Text, VGroup, tempconfig
from manim.constants import RESAMPLING_ALGORITHMS

from scenes import style
from scenes.base import text
from scenes.cells import Backing, CellCamera, CellLayer, CellStyle, rgb
from scenes.text_cache import cached_text
from tests.scenes import fixtures

SMALL = {"pixel_width": 320, "pixel_height": 180, "frame_height": 8.0, "frame_width": 8.0 * 16 / 9}


def snapshot(*mobs) -> np.ndarray:
    camera = CellCamera()
    camera.capture_mobjects(list(mobs))
    return camera.pixel_array[..., :3].astype(int)


def close_enough(a: np.ndarray, b: np.ndarray) -> None:
    """Equal but for anti-aliasing at edges: nearly every pixel within 2 levels, none far off."""
    diff = np.abs(a - b).max(axis=-1)
    assert (diff > 2).mean() < 0.01 and diff.max() < 100, f"{(diff > 2).mean():.3%} pixels differ, max {diff.max()}"


def test_cell_layer_draws_what_circles_and_sectors_would():
    centres = np.array([[-2.0, 0.5, 0.0], [0.0, 0.5, 0.0], [2.0, -0.5, 0.0]])
    radii = np.array([[0.9, 0.5, 0.3], [0.4, 0.9, 0.6], [0.7, 0.7, 0.9]])
    fills = np.random.default_rng(0).uniform(size=(3, 3, 3))
    with tempconfig(SMALL):
        layer = CellLayer(centres, radii, fills, CellStyle("#101318", 1.0),
                          backing=Backing(1.0, "#2A2E35", "#5F6368", 1.5))
        manim_cells = VGroup()
        for c, rs, fs in zip(centres, radii, fills):
            manim_cells.add(Circle(radius=1.0, fill_color="#2A2E35", fill_opacity=1, stroke_color="#5F6368",
                                   stroke_width=1.5).move_to(c))
            for o in range(3):
                start = np.pi / 2 - (o + 1) * 2 * np.pi / 3
                manim_cells.add(Sector(radius=rs[o], angle=2 * np.pi / 3, start_angle=start, fill_opacity=1,
                                       fill_color=fs[o], stroke_color="#101318", stroke_width=1.0).shift(c))
        close_enough(snapshot(layer), snapshot(manim_cells))
        layer.set_opacity(0.0)
        assert snapshot(layer).sum() == 0  # its own opacity scales every cell, as fades expect


def test_cell_alphas_fade_cells_one_by_one_as_dots_would():
    centres = np.array([[-2.0, 0.0, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, 0.0]])
    alphas = np.array([0.0, 0.4, 0.8])
    with tempconfig(SMALL):
        layer = CellLayer(centres, np.full((3, 1), 0.6), np.full((3, 1, 3), rgb("#4D99E6")))
        layer.set_cell_alphas(alphas)
        dots = VGroup(*[Circle(radius=0.6, fill_color="#4D99E6", fill_opacity=a, stroke_width=0).move_to(c)
                        for c, a in zip(centres, alphas)])
        close_enough(snapshot(layer), snapshot(dots))
        layer.set_opacity(0.5)  # a fade of the whole layer scales each cell's own opacity
        for dot in dots:
            dot.set_fill(opacity=dot.get_fill_opacity() * 0.5)
        close_enough(snapshot(layer), snapshot(dots))


def test_faded_out_shapes_are_skipped_and_the_frame_is_unchanged(monkeypatch):
    with tempconfig(SMALL):
        shapes = [Square(1.0, fill_color="#3070C0", fill_opacity=0.0, stroke_opacity=0.0).shift([-3, 0, 0]),
                  Square(1.0, fill_opacity=0.0, stroke_width=4).shift([-1, 0, 0]),  # an outline: drawn
                  Line([0, 0, 0], [1, 1, 0], stroke_width=0),
                  Square(1.0, fill_color="#C07030", fill_opacity=0.6, stroke_width=0).shift([2, 0, 0]),
                  *Text("gone", font=style.FONT).set_opacity(0.0)]
        manims = Camera()
        manims.capture_mobjects(shapes)
        drawn = []
        original = Camera.set_cairo_context_path
        monkeypatch.setattr(Camera, "set_cairo_context_path",
                            lambda self, ctx, vm: drawn.append(vm) or original(self, ctx, vm))
        ours = CellCamera()
        ours.capture_mobjects(shapes)
        np.testing.assert_array_equal(ours.pixel_array, manims.pixel_array)
        assert drawn == [shapes[1], shapes[3]]


def test_cell_layer_follows_moves_and_reports_where_its_cells_are():
    layer = CellLayer(np.zeros((2, 3)), np.full((2, 1), 0.2))
    layer.move_cells(np.array([[1.0, 1.0, 0.0], [3.0, 1.0, 0.0]]))
    assert layer.get_center()[:2] == pytest.approx([2.0, 1.0])
    layer.shift([0.0, -1.0, 0.0])
    np.testing.assert_allclose(layer.cell_centres(), [[1.0, 0.0], [3.0, 0.0]])


def test_images_are_composited_exactly_as_manims_camera_does():
    rgba = np.random.default_rng(1).integers(0, 256, size=(6, 9, 4), dtype=np.uint8)
    rgba[0, :, 3] = 0  # a transparent row and a half-faded one: fades write into the alpha channel
    rgba[1, :, 3] = 128
    with tempconfig(SMALL):
        heatmap = ImageMobject(rgba).set_resampling_algorithm(RESAMPLING_ALGORITHMS["nearest"])
        heatmap.stretch_to_fit_width(3.3).stretch_to_fit_height(2.1).move_to([-1.3, 0.4, 0])
        smooth = ImageMobject(rgba).scale(2.0).move_to([-6.93, 3.87, 0])  # bilinear, half off the frame
        tilted = ImageMobject(rgba).scale(1.5).rotate(0.4).move_to([2.5, 1.5, 0])
        for image in (heatmap, smooth, tilted):
            under = Square(2.0, fill_color="#3070C0", fill_opacity=1, stroke_width=0).move_to(image)
            ours, manims = CellCamera(), Camera()
            for camera in (ours, manims):
                camera.capture_mobjects([under, image])
            np.testing.assert_array_equal(ours.pixel_array, manims.pixel_array)


def test_merged_text_looks_like_manim_text_and_comes_back_from_the_cache(monkeypatch):
    words = "Superposition: 19 neurons shared by two"
    with tempconfig(SMALL):
        merged = text(words, 32)
        plain = Text(words, font=style.FONT, font_size=32, color=style.TEXT)
        assert len(merged.submobjects) == 1 and merged.width == pytest.approx(plain.width)
        close_enough(snapshot(merged), snapshot(plain))
        monkeypatch.setattr("scenes.text_cache._memory", {})  # a new process: only the disk cache is left
        monkeypatch.setattr("scenes.text_cache.Text", None)  # building one now would fail
        again = text(words, 32)
        np.testing.assert_array_equal(again.submobjects[0].points, merged.submobjects[0].points)
        again.shift([1.0, 0.0, 0.0])
        assert merged.get_center()[0] != pytest.approx(again.get_center()[0])  # a copy each time


def test_a_damaged_text_cache_entry_is_rebuilt(tmp_path, monkeypatch):
    from engine.cache import ArrayCache
    monkeypatch.setenv("NEUROREEL_CACHE", str(tmp_path))
    monkeypatch.setattr("scenes.text_cache._memory", {})
    first = cached_text("rebuilt", style.FONT, 24, style.TEXT)
    (entry,) = ArrayCache("text").dir.glob("*.npz")
    entry.write_bytes(entry.read_bytes()[:100])
    monkeypatch.setattr("scenes.text_cache._memory", {})
    again = cached_text("rebuilt", style.FONT, 24, style.TEXT)
    np.testing.assert_array_equal(again.submobjects[0].points, first.submobjects[0].points)
    assert entry.stat().st_size > 100


def render_frames(tmp_path, repeat: bool) -> list[np.ndarray]:
    from pipeline.settings import RenderSettings
    from scenes.grid import SuperpositionGrid

    class Grid(SuperpositionGrid):
        repeat_still_frames = repeat

    timeline = fixtures.load("grid_minilm").retimed(10.0)
    conf = RenderSettings(320, 180, 6).manim_config() | {"media_dir": str(tmp_path / str(repeat)), "output_file": "g"}
    with tempconfig(conf):
        scene = Grid(timeline=timeline)
        scene.render()
        path = scene.renderer.file_writer.movie_file_path
    with av.open(str(path)) as video:
        return [f.to_ndarray(format="rgb24").astype(int) for f in video.decode(video=0)]


def test_still_stretches_repeat_the_frame_drawing_would_give(tmp_path):
    drawn, repeated = render_frames(tmp_path, False), render_frames(tmp_path, True)
    assert len(drawn) == len(repeated) == round(10.0 * 6) + 1
    for k, (a, b) in enumerate(zip(drawn, repeated)):
        assert np.abs(a - b).max() <= 2, f"frame {k} differs"
