"""Every text of every scene is legible against what is behind it (WCAG 2.x AA), in both themes; the palette's
own colours meet the contrast style.py documents; the checker finds what it should."""
from __future__ import annotations

import numpy as np
import pytest
from manim import Rectangle, Scene, Text, tempconfig

from pipeline import catalogue
from scenes import contrast, style
from tests.scenes import fixtures
from tests.scenes.contrast_check import TextContrast, contrast_problems, text_contrasts

# --- the WCAG formula and the large-text threshold ------------------------------------------------


def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast.contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast.contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21.0)
    assert contrast.contrast_ratio("#777777", "#777777") == pytest.approx(1.0)
    assert contrast.contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # the classic near miss
    assert contrast.contrast_ratio("#767676", "#FFFFFF") == pytest.approx(4.54, abs=0.01)
    assert contrast.relative_luminance("#FF0000") == pytest.approx(0.2126)
    assert contrast.relative_luminance(np.array([255, 255, 255], dtype=np.uint8)) == pytest.approx(1.0)
    assert contrast.relative_luminance([1.0, 1.0, 1.0]) == pytest.approx(1.0)


def test_only_titles_are_large_text():
    """An em of 24 px on the 854x480 frame (60 px per scene unit) is font_size ~29; measured, not assumed."""
    from scenes.base import _font_metrics
    font, scale = _font_metrics(20)
    assert font.size * scale / 20 == pytest.approx(contrast.EM_PER_FONT_SIZE, rel=2e-3)
    assert 28 < contrast.large_text_font_size() < 30
    assert contrast.required_ratio(style.TITLE_SIZE) == 3.0
    for size in (style.CAPTION_SIZE, style.LABEL_SIZE, style.SMALL_SIZE, style.MIN_FONT_SIZE):
        assert contrast.required_ratio(size) == 4.5


def test_readable_keeps_a_passing_colour_and_darkens_a_failing_one_in_its_hue():
    assert contrast.readable("#0072B2", "#FFFFFF") == "#0072B2"
    shade = contrast.readable("#F0E442", "#FFFFFF")
    assert contrast.contrast_ratio(shade, "#FFFFFF") >= 4.5
    rgb, base = contrast.to_rgb(shade), contrast.to_rgb("#F0E442")
    np.testing.assert_allclose(rgb / rgb.max(), base / base.max(), atol=0.02)  # mixed with black: same hue
    lighter = contrast.readable("#3B528B", "#111418")
    assert contrast.contrast_ratio(lighter, "#111418") >= 4.5


# --- the palette -------------------------------------------------------------------------------------

def test_themes_are_named_and_switch_every_colour_read_at_call_time():
    assert "light" in style.THEMES and "dark" in style.THEMES
    with pytest.raises(ValueError, match="dark, light"):
        style.use_theme("sepia")
    for name, theme in style.THEMES.items():
        style.use_theme(name)
        assert (style.BACKGROUND, style.TEXT, style.HIGHLIGHT, style.GRID_CELL_OFF) == \
            (theme.background, theme.text, theme.highlight, theme.grid_cell_off)
        # precomputed ramps follow the theme too
        assert contrast.to_hex(style.sequential_rgba(np.array([0.0]), 1.0)[0, :3]) == theme.sequential_stops[0]
        assert contrast.to_hex(style.sequential_rgba(np.array([1.0]), 1.0)[0, :3]) == theme.sequential_stops[-1]
        assert style.importance_colours(np.array([0.0, 1.0])) == [theme.importance_stops[0], theme.importance_stops[-1]]
        assert contrast.to_hex(style.diverging_rgba(np.array([0.0]), 1.0)[0, :3]) == theme.diverging_mid


@pytest.mark.parametrize("name", list(style.THEMES))
def test_text_colours_reach_4_5_on_their_background(name):
    style.use_theme(name)
    for role in ("TEXT", "MUTED", "HIGHLIGHT"):
        ratio = contrast.contrast_ratio(getattr(style, role), style.BACKGROUND)
        assert ratio >= 4.5, f"{name}: {role} {getattr(style, role)} on {style.BACKGROUND} is {ratio:.2f}:1"


def test_light_theme_writes_every_object_colour_in_a_readable_shade():
    style.use_theme("light")
    colours = style.OBJECT_COLOURS + list(style.SOLUTION_COLOURS.values()) + style.IMPORTANCE_STOPS
    for c in colours:
        shade = style.text_colour(c)
        assert contrast.contrast_ratio(shade, style.BACKGROUND) >= 4.5, f"{c} written as {shade} on {style.BACKGROUND}"
    assert contrast.contrast_ratio(style.TOKEN_HEAT_TEXT, style.BACKGROUND) >= 4.5
    assert contrast.contrast_ratio(style.TEXT, style.TOKEN_HEAT) >= 4.5  # token text on a fully lit chip
    style.use_theme("dark")
    for c in colours:  # the dark theme darkens nothing that already reads, and lifts what does not
        shade = style.text_colour(c)
        assert contrast.contrast_ratio(shade, style.BACKGROUND) >= 4.5, f"{c} written as {shade} on {style.BACKGROUND}"
        assert shade == c or contrast.contrast_ratio(c, style.BACKGROUND) < 4.5


@pytest.mark.parametrize("name", list(style.THEMES))
def test_text_on_any_fill_reaches_4_5(name):
    style.use_theme(name)
    fills = [np.array([v, v, v], dtype=np.uint8) for v in range(256)]
    fills += list(style.sequential_rgba(np.linspace(0, 1, 101), 1.0)[:, :3]) + style.OBJECT_COLOURS
    for fill in fills:
        ink = style.text_on(fill)
        assert contrast.contrast_ratio(ink, fill) >= 4.5, f"{name}: {ink} on {contrast.to_hex(fill)}"


def test_filled_object_colours_against_the_background_are_as_documented():
    """WCAG 1.4.11 (3:1 for graphics): which Okabe-Ito fills pass on each background (style.py's docstring)."""
    passing = {name: {c for c in style.OBJECT_COLOURS if contrast.contrast_ratio(c, t.background) >= 3.0}
               for name, t in style.THEMES.items()}
    assert passing["dark"] == set(style.OBJECT_COLOURS)
    assert passing["light"] == {"#0072B2", "#D55E00", "#009E73", "#CC79A7"}  # not orange, sky blue, yellow
    for name, t in style.THEMES.items():  # feature lines, frames, grey data (bars, shares, 'not represented')
        for c in (*t.importance_stops, t.frame_stroke, t.shared_tokens, t.solution_colours["not represented"]):
            ratio = contrast.contrast_ratio(c, t.background)
            assert ratio >= 3.0 or (name, c) == ("dark", "#3B528B"), f"{name}: {c} on {t.background} is {ratio:.2f}:1"
        # the phase diagram's other solutions are Okabe-Ito hues, under the object colours' rule above
        assert set(t.solution_colours.values()) - {t.solution_colours["not represented"]} <= set(style.OBJECT_COLOURS)


# --- every scene, every phase, both themes ----------------------------------------------------------

def cases():
    for entry in catalogue.CATALOGUE.values():
        for theme in style.THEMES:
            yield pytest.param(entry, theme, id=f"{entry.name}-{theme}")


@pytest.mark.parametrize("entry, theme", list(cases()))
def test_every_text_is_legible_against_what_is_behind_it_in_every_phase(entry, theme):
    if not (fixtures.FIXTURES / f"{entry.name}.json").exists():
        pytest.skip(f"{entry.name} has no fixture timeline (test_layout asks for one)")
    timeline = fixtures.load(entry.name)
    seen: dict[str, list[TextContrast]] = {}
    with tempconfig({"dry_run": True, "pixel_width": 854, "pixel_height": 480, "frame_rate": 1}):
        scene = entry.scene_cls()(timeline=timeline, skip_animations=True, theme=theme,
                                  on_segment_end=lambda sc, seg: seen.__setitem__(seg.name, text_contrasts(sc)))
        assert style.BACKGROUND == style.THEMES[theme].background
        scene.render()
    assert contrast.to_hex(scene.camera.background_color) == style.THEMES[theme].background
    assert list(seen) == [s.name for s in timeline.segments]
    assert sum(len(v) for v in seen.values()) > 0
    failing = {f"{phase}: {c}" for phase, found in seen.items() for c in found
               if not c.ok}
    assert not failing, f"{entry.name} ({theme} theme): text below WCAG AA contrast:\n  " + "\n  ".join(sorted(failing))


# --- the checker itself ---------------------------------------------------------------------------

def test_the_contrast_check_names_failing_colours_and_looks_behind_texts():
    with tempconfig({"dry_run": True}):
        scene = Scene()
        scene.camera.background_color = "#FFFFFF"
        panel = Rectangle(width=4, height=1, stroke_width=0, fill_color="#D55E00", fill_opacity=1).shift([0, -2, 0])
        scene.add(Text("yellow label", font=style.FONT, font_size=20, color="#F0E442").shift([0, 2, 0]),
                  Text("big grey title", font=style.FONT, font_size=34, color="#8F959B"),  # 3.0:1, large: passes
                  panel,
                  Text("on the panel", font=style.FONT, font_size=20, color="#111418").move_to(panel),
                  Text("white on panel", font=style.FONT, font_size=17, color="#FFFFFF").move_to(panel).shift([0, 0.3, 0]),
                  Text("faded", font=style.FONT, font_size=20, color="#111418").set_opacity(0.02).shift([3, 0, 0]))
        found = {c.text: c for c in text_contrasts(scene)}
        problems = contrast_problems(scene)
    assert "faded" not in found  # invisible texts are not on screen
    assert found["onthepanel"].behind == "#D55E00" and found["onthepanel"].ok
    assert found["biggreytitle"].ok and found["biggreytitle"].required == 3.0
    assert len(problems) == 2
    assert any("#F0E442 on #FFFFFF" in p and "1.32" in p for p in problems)
    assert any("#FFFFFF on #D55E00" in p for p in problems)


# --- a scene in the other theme reuses the glyphs of the first -------------------------------------

@pytest.mark.parametrize("keep_glyphs", [False, True])
def test_a_text_in_another_colour_is_recoloured_exactly_not_built_again(tmp_path, monkeypatch, keep_glyphs):
    from scenes import text_cache
    from scenes.text_cache import _encode, cached_text, merge_glyphs

    monkeypatch.setenv("NEUROREEL_CACHE", str(tmp_path))
    monkeypatch.setattr(text_cache, "_memory", {})
    monkeypatch.setattr(text_cache, "_by_shape", {})
    words, dark, light = "Spanish poetry: 1.38", style.THEMES["dark"].text, style.THEMES["light"].text
    cached_text(words, style.FONT, 20, dark, keep_glyphs=keep_glyphs, disable_ligatures=True)
    direct = Text(words, font=style.FONT, font_size=20, color=light, disable_ligatures=True)
    direct = _encode(direct if keep_glyphs else merge_glyphs(direct))[1]
    monkeypatch.setattr(text_cache, "Text", None)  # building one now would fail
    again = _encode(cached_text(words, style.FONT, 20, light, keep_glyphs=keep_glyphs, disable_ligatures=True))[1]
    assert set(again) == set(direct)
    for name in direct:
        np.testing.assert_array_equal(again[name], direct[name], err_msg=name)
    with pytest.raises(TypeError):  # black and white are never recoloured (strokes hold them): built
        cached_text(words, style.FONT, 20, "#FFFFFF", keep_glyphs=keep_glyphs, disable_ligatures=True)
