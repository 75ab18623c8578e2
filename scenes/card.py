"""A title card between the scenes of a lecture: the title large, a rule, the subtitle below, fading in."""
from __future__ import annotations

from manim import DOWN, LEFT, ORIGIN, RIGHT, Line, VGroup, config

from scenes import style
from scenes.base import TimelineScene, fade_in, wrapped

KIND = "card.title"
TITLE_SIZE = 48  # larger than a scene's title (style.TITLE_SIZE): the card is the only thing on screen
SUBTITLE_SIZE = 26


class TitleCard(TimelineScene):
    """Draws a ``card.title`` timeline. The subtitle is the phase caption too (for subtitles and slide
    notes), so the card never burns that caption in a second time; it has no title bar or source line."""

    def build(self) -> None:
        tl = self.timeline
        if tl.kind != KIND:
            raise ValueError(f"{type(self).__name__} draws '{KIND}' timelines, not '{tl.kind}'")
        width = config.frame_width - 2 * style.MARGIN - 1.0
        title = wrapped(tl.title, width, TITLE_SIZE, style.TEXT)
        rule = Line(LEFT * 1.2, RIGHT * 1.2, color=style.HIGHLIGHT, stroke_width=3)
        parts = [title, rule]
        subtitle = str(tl.meta.get("subtitle") or "")
        if subtitle:
            parts.append(wrapped(subtitle, width, SUBTITLE_SIZE, style.MUTED))
        self.card = VGroup(*parts).arrange(DOWN, buff=0.4).move_to(ORIGIN)
        self.chrome = []

    def segment_animations(self, index: int, segment) -> list:
        return [fade_in(self.card)] if index == 0 else []

    def make_caption(self, segment) -> VGroup:
        return VGroup()  # the subtitle is on the card already

    def talk_view(self) -> None:
        """Talk mode leaves the card as it is: it has no captions whose room it could take."""
        self.talk_zoom = 1.0
