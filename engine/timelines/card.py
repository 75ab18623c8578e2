"""Timeline of a title card: a lecture's text between scenes (no model, no data, one phase).

A card is a scene like any other so that a lecture renders, caches, joins and slides it with the
same machinery as the scenes it introduces. Its one caption is the subtitle: the card shows it in the
picture already, so the scene does not burn it in, but subtitles and slide notes carry it.
"""
from __future__ import annotations

from dataclasses import dataclass

from engine.text_safety import printable
from engine.timeline import Segment, Timeline

KIND = "card.title"
PHASE = "card"
MAX_TITLE = 60  # characters: two lines at most at the card's title size on a 16:9 frame
MAX_SUBTITLE = 160  # three lines at most at the subtitle size
MAX_CARD_SECONDS = 60.0


@dataclass(frozen=True)
class CardSettings:
    """What a card says and how long it stays."""

    title: str = "neuroreel"
    subtitle: str = ""
    seconds: float = 4.0

    def validate(self) -> None:
        """Reject text that would not fit or could not be shown, in one line, before anything renders."""
        from engine.timelines.errors import SettingsError
        for name, value, most in (("title", self.title, MAX_TITLE), ("subtitle", self.subtitle, MAX_SUBTITLE)):
            if not isinstance(value, str):
                raise SettingsError(f"{name} must be text, not {value!r}")
            if printable(value) != value:
                raise SettingsError(f"{name} {printable(value)!r} holds control characters or line breaks; "
                                    "write it on one line (the card wraps it)")
            if len(value) > most:
                raise SettingsError(f"{name} has {len(value)} characters; shorten it to at most {most}")
        if not self.title.strip():
            raise SettingsError("a card needs a title that is not blank")
        if isinstance(self.seconds, bool) or not isinstance(self.seconds, (int, float)) \
                or not 0 < self.seconds <= MAX_CARD_SECONDS:
            raise SettingsError(f"seconds={self.seconds!r}: give a number of seconds above 0 and up to "
                                f"{MAX_CARD_SECONDS:.0f}")


def build(settings: CardSettings, progress: bool = False) -> Timeline:
    """One still phase (the scene fades the card in over its head); no tracks, so every later frame repeats."""
    settings.validate()
    subtitle = " ".join(settings.subtitle.split())
    tl = Timeline(kind=KIND, title=" ".join(settings.title.split()), source="",
                  segments=[Segment(PHASE, float(settings.seconds), subtitle, "linear")],
                  meta={"subtitle": subtitle})
    return tl.validate()
