"""Catalogue entry: the title card a lecture puts between scenes (``render.py --lecture``).

Unlisted: it shows no model's data, so ``--list`` and ``--all`` leave it out; ``--scene title_card``
with ``--set title=...`` still renders one, which is how a lecture renders its cards.
"""
from pipeline.catalogue import Entry

ENTRIES: list[Entry] = [
    Entry("title_card", "A lecture's title card: a title and a subtitle, fading in (text only, no model)",
          builder="engine.timelines.card:build", settings="engine.timelines.card:CardSettings",
          scene="scenes.card:TitleCard", listed=False),
]
