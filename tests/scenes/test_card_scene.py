"""The title card draws its timeline: golden last frame, the fixture is what the engine makes, bad text is refused."""
from __future__ import annotations

import pytest
from manim import Text, tempconfig
from manim.utils.testing.frames_comparison import frames_comparison

from engine.timelines.card import CardSettings, build
from engine.timelines.errors import SettingsError
from pipeline.settings import RenderSettings
from scenes.card import TitleCard
from tests.scenes import fixtures

__module_test__ = "title_card"


def build_fixture():
    return build(CardSettings(title="Real neurons", seconds=4.0,
                              subtitle="The same question asked of MiniLM's MLP neurons, every count beside its chance level"))


TIMELINE = fixtures.load_or_none(__module_test__)


@frames_comparison(base_scene=fixtures.bound(TitleCard, TIMELINE), last_frame=True)
def test_last_frame(scene):
    TitleCard.construct(scene)


class LightCard(TitleCard):
    def __init__(self, **kwargs):
        super().__init__(timeline=TIMELINE, theme="light", **kwargs)


@frames_comparison(base_scene=LightCard, last_frame=True)
def test_last_frame_light(scene):
    TitleCard.construct(scene)


def test_fixture_is_what_the_engine_builds():
    fixtures.assert_same_timeline(build_fixture(), TIMELINE)


def test_one_still_phase_whose_caption_is_the_subtitle_for_subtitles_and_notes():
    tl = build(CardSettings(title="  Two   spaces ", subtitle="A  subtitle", seconds=2.5))
    assert [(s.name, s.duration, s.caption) for s in tl.segments] == [("card", 2.5, "A subtitle")]
    assert tl.title == "Two spaces" and not tl.tracks and tl.holds_still(0.0, tl.duration)


@pytest.mark.parametrize("captions", ["burned", "none"])
def test_the_subtitle_is_drawn_once_and_talk_mode_does_not_zoom(captions):
    conf = RenderSettings(854, 480, 5).manim_config() | {"dry_run": True}
    with tempconfig(conf):
        scene = TitleCard(timeline=TIMELINE, captions=captions)
        scene.render()
    texts = [m for top in scene.mobjects for m in top.get_family() if isinstance(m, Text)]
    assert len(texts) == 3  # the title's line, the subtitle's two lines; no burned caption
    assert scene.renderer.camera.frame_height == pytest.approx(8.0)


@pytest.mark.parametrize("settings, needle", [
    (CardSettings(title=" "), "not blank"),
    (CardSettings(title="x" * 61), "at most 60"),
    (CardSettings(title="ok", subtitle="two\nlines"), "one line"),
    (CardSettings(title="\x1b[31mred"), "control characters"),
    (CardSettings(title="ok", seconds=0), "seconds"),
    (CardSettings(title="ok", seconds=float("nan")), "seconds"),
])
def test_bad_cards_are_refused_in_one_line(settings, needle):
    with pytest.raises(SettingsError, match=needle) as e:
        settings.validate()
    assert "\n" not in str(e.value)
