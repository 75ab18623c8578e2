"""The neuron hunt in three panels, each faded in and out in the head of a segment:

(a) a concept x concept matrix of neuron counts (diagonal: one concept only; off-diagonal: exactly
    those two), as one pixel image with the counts written on it;
(b) the chosen polysemantic neuron on a snippet of each of its two concepts, tokens as chips whose
    colour is the activation (Neuroscope style), swept left to right;
(c) an artifact neuron: its snippet, and how much of each response sits on tokens it also fires on
    in other kinds of text.
"""
from __future__ import annotations

import numpy as np
from manim import DOWN, LEFT, RIGHT, UP, Animation, DashedLine, Mobject, Rectangle, VGroup, config

from scenes import style
from scenes.base import TimelineScene, fade_in, fade_out, text, text_width
from scenes.hunt_parts import FadeCache, SequentialHeatmap, title_and_source, usable_width
from scenes.text_cache import merge_glyphs

KIND = "real.hunt"
CHIP_H = 0.36
CHIP_PAD = 0.05
LINE_GAP = 0.16


class TokenSnippet(VGroup):
    """Tokens as text on coloured chips; one Text per line (glyphs mapped back to tokens), chips built once.

    ``set_state(reveal, opacity)``: chip i shows ``heat[i] * clip(reveal - i, 0, 1)``; everything is
    multiplied by the panel ``opacity``.
    """

    def __init__(self, texts: list[str], joined: list[bool], heat: np.ndarray, width: float,
                 size: float = style.LABEL_SIZE, cut_before: bool = False, cut_after: bool = False):
        super().__init__()
        self.heat = np.clip(np.asarray(heat, dtype=float), 0.0, 1.0)
        texts = list(texts)
        prefix, suffix = ("\u2026" if cut_before else ""), (" \u2026" if cut_after else "")
        lines: list[list[int]] = [[]]
        cur = text_width(prefix, size) if prefix else 0.0
        for i, t in enumerate(texts):
            piece = t if (joined[i] or not lines[-1]) else " " + t
            w = text_width(piece, size)
            if lines[-1] and cur + w > width:
                lines.append([i])
                cur = text_width(t, size)
            else:
                lines[-1].append(i)
                cur += w
        self.chips = VGroup(*[Rectangle(width=0.1, height=CHIP_H, stroke_width=0, fill_color=style.TOKEN_HEAT,
                                        fill_opacity=0) for _ in texts])
        self.lines = VGroup()
        self._raw: list[str] = []  # each line's string, as given to Text
        spans: list[tuple[int, int, int, int]] = []  # (token, line, first glyph, glyph after the last)
        for li, idx in enumerate(lines):
            s, starts = (prefix if li == 0 else ""), []
            for i in idx:
                if s and not joined[i]:
                    s += " "
                starts.append(len(s))  # Text keeps a (blank) submobject per space, so indices are characters
                s += texts[i]
            if li == len(lines) - 1:
                s += suffix
            self._raw.append(s)
            line = text(s, size, keep_glyphs=True, disable_ligatures=True)
            line.move_to([0, -li * (CHIP_H + LINE_GAP), 0])
            line.shift(RIGHT * (0 - line.get_left()[0]))
            self.lines.add(line)
            for i, g0 in zip(idx, starts):
                spans.append((i, li, g0, g0 + len(texts[i])))
        self._spans = spans
        self.add(self.chips, self.lines)
        self._place_chips(size)
        for line in self.lines:  # glyphs were kept to place the chips; drawn, one path per line is cheaper
            merge_glyphs(line)

    def _token_span(self, li: int, g0: int, g1: int, size: float) -> tuple[float, float]:
        """Left and right x of characters [g0, g1) of line li: from the glyphs when Pango drew one
        submobject per character (spaces included), else measured from the font."""
        line = self.lines[li]
        raw = self._raw[li]
        if len(line.submobjects) == len(raw):
            glyphs = line.submobjects[g0:max(g1, g0 + 1)] or line.submobjects[-1:]
            return min(g.get_left()[0] for g in glyphs), max(g.get_right()[0] for g in glyphs)
        left = line.get_left()[0]
        return left + text_width(raw[:g0], size), left + text_width(raw[:g1], size)

    def _place_chips(self, size: float) -> None:
        by_line: dict[int, list[tuple[int, float, float]]] = {}
        for i, li, g0, g1 in self._spans:
            x0, x1 = self._token_span(li, g0, g1, size)
            by_line.setdefault(li, []).append((i, x0 - CHIP_PAD, x1 + CHIP_PAD))
        for li, items in by_line.items():
            y = self.lines[li].get_center()[1]
            for k, (i, x0, x1) in enumerate(items):
                if k + 1 < len(items) and items[k + 1][1] < x1:  # joined neighbours: meet half-way
                    x1 = (x1 + items[k + 1][1]) / 2
                if k > 0 and items[k - 1][2] > x0:
                    x0 = (x0 + items[k - 1][2]) / 2
                chip = self.chips[i]
                chip.stretch_to_fit_width(max(x1 - x0, 0.05)).stretch_to_fit_height(CHIP_H)
                chip.move_to([(x0 + x1) / 2, y, 0])

    def set_state(self, reveal: float, opacity: float, fades: FadeCache, lines: bool = True) -> None:
        shown = np.clip(reveal - np.arange(len(self.heat)), 0.0, 1.0) * self.heat * opacity
        for chip, a in zip(self.chips, shown):
            fades.fill(chip, a)
        if lines:
            fades.fill(self.lines, opacity)


class PixelReveal(Animation):
    """Cells of a SequentialHeatmap fading from one visibility mask to another (a head animation,
    so the image is static, baked into the background, for the rest of the segment)."""

    def __init__(self, heat: SequentialHeatmap, values: np.ndarray, before: np.ndarray, after: np.ndarray, **kw):
        self.values, self.before, self.after = values, before, after
        super().__init__(heat, **kw)

    def interpolate_mobject(self, alpha: float) -> None:
        a = self.rate_func(alpha)
        self.mobject.set_values(self.values, self.before + (self.after - self.before) * a)


class NeuronHunt(TimelineScene):
    """Panels change only in segment heads (fades), so between heads everything but the token chips
    being swept is static and drawn once."""

    caption_y = -2.72

    def build(self) -> None:
        tl = self.timeline
        if tl.kind != KIND:
            raise ValueError(f"{type(self).__name__} draws '{KIND}' timelines, not '{tl.kind}'")
        self.colours = style.object_colours(tl.meta, len(tl.meta["concepts"]))
        title, source = title_and_source(tl)
        self.chrome = [title, source]
        self.top = title.get_bottom()[1] - 0.3
        self.add(title, source)
        self.fades = FadeCache()
        self.parts: dict[str, list[Mobject]] = {}  # what each segment's head fades in
        self.leaving: dict[str, list[Mobject]] = {}  # ... and fades out
        self._matrix_panel()
        self._neuron_panel()
        if tl.meta.get("artifact"):
            self._artifact_panel()

    def bring_to_back(self, *mobjects: Mobject):
        """After a head, faded-in static parts go to the back (drawn once); parts that keep moving
        (swept snippets) go to the front instead, so nothing static is listed after them."""
        moving = [m for m in mobjects if m.get_family_updaters()]
        super().bring_to_back(*[m for m in mobjects if m not in moving])
        if moving:
            self.bring_to_front(*moving)
        return self

    def segment_animations(self, index: int, segment) -> list:
        anims = [fade_out(m) for m in self.leaving.get(segment.name, []) if m in self.mobjects]
        for m in self.parts.get(segment.name, []):
            anims.append(m if isinstance(m, Animation) else fade_in(m))
        return anims

    # --- (a) the matrix ----------------------------------------------------------------------------
    def _matrix_panel(self) -> None:
        tl = self.timeline
        counts = np.asarray(tl.arrays["pair_counts"], dtype=float)
        k = counts.shape[0]
        labels = tl.meta["concept_labels"]
        cell = min(1.05, 4.2 / k)
        heat = SequentialHeatmap(counts, max(counts.max(), 1.0), height=cell * k)
        heat.move_to([-2.2, self.top - 0.75 - cell * k / 2, 0])
        left, top = heat.get_left()[0], heat.get_top()[1]
        cell_rgb = style.sequential_rgba(counts, max(counts.max(), 1.0))[..., :3]
        chance = np.asarray(tl.arrays["pair_chance"], dtype=float)
        diag_numbers, off_numbers = VGroup(), VGroup()
        for r in range(k):
            for c in range(k):
                colour = style.text_on(cell_rgb[r, c])  # dark on bright cells, light on dark ones
                m = VGroup(text(f"{int(counts[r, c]):,}", style.LABEL_SIZE, colour),
                           text(f"({chance[r, c]:.1f})", style.SMALL_SIZE, colour)).arrange(DOWN, buff=0.06)
                (diag_numbers if r == c else off_numbers).add(m.move_to([left + cell * (c + 0.5), top - cell * (r + 0.5), 0]))
        rows = VGroup(*[text(s, style.LABEL_SIZE, style.text_colour(self.colours[i])) for i, s in enumerate(labels)])
        for i, m in enumerate(rows):
            m.move_to([left - 0.2 - m.width / 2, top - cell * (i + 0.5), 0])
        cols = VGroup()
        for i, s in enumerate(labels):
            m = VGroup(*[text(w, style.SMALL_SIZE, style.text_colour(self.colours[i])) for w in _two_lines(s, cell * 1.05)])
            m.arrange(DOWN, buff=0.04).move_to([left + cell * (i + 0.5), top + 0.12 + m.height / 2 + 0.0, 0])
            m.shift(UP * (top + 0.12 - m.get_bottom()[1]))
            cols.add(m)
        legend = VGroup(text("diagonal: one kind only (monosemantic)", style.SMALL_SIZE),
                        text("off the diagonal: exactly those two kinds", style.SMALL_SIZE),
                        text("(in brackets: chance, labels shuffled)", style.SMALL_SIZE, style.MUTED)
                        ).arrange(DOWN, aligned_edge=LEFT, buff=0.15)
        c = tl.meta["counts"]
        ch = tl.meta["chance"]["labels"]
        more = tl.meta["responds_to_more_chance"]["mean"]
        notes = VGroup(text(f"3 or more kinds: {tl.meta['responds_to_more']:,} ({more:.1f})", style.LABEL_SIZE),
                       text(f"artifacts: {c['artifact']:,} ({ch['artifact']['mean']:.1f})", style.LABEL_SIZE),
                       text(f"broad (no kind beats chance): {c['broad']:,}", style.LABEL_SIZE, style.MUTED),
                       text(f"dead: {c['dead']:,}", style.LABEL_SIZE, style.MUTED)
                       ).arrange(DOWN, aligned_edge=LEFT, buff=0.15)
        side = VGroup(legend, notes).arrange(DOWN, aligned_edge=LEFT, buff=0.45)
        side.move_to([heat.get_right()[0] + 0.7 + side.width / 2, heat.get_center()[1], 0])
        if side.get_right()[0] > config.frame_width / 2 - style.MARGIN:
            side.shift(LEFT * (side.get_right()[0] - config.frame_width / 2 + style.MARGIN))

        vis = lambda seg: np.asarray(tl.sample("cells", tl.segment_start(seg) + 1e-6 + tl.segments[tl.segment_index(seg)].duration * 0.99))  # noqa: E731
        heat.set_values(counts, np.zeros_like(counts))
        frame = heat.outline()
        frame_and_labels = VGroup(frame, rows, cols, legend)
        self.parts["concepts"] = [heat, frame_and_labels]
        self.parts["alone"] = [PixelReveal(heat, counts, np.zeros_like(counts), vis("alone")), diag_numbers]
        self.parts["pairs"] = [PixelReveal(heat, counts, vis("alone"), vis("pairs")), off_numbers, notes]
        self.leaving["neuron_a"] = [heat, frame_and_labels, diag_numbers, off_numbers, notes]

    # --- (b) the polysemantic neuron -----------------------------------------------------------------
    def _snippet(self, key: str, peak: float, y_top: float, panel: int, show: str | None = None,
                 size: float = style.CAPTION_SIZE):
        """The concept tag (static) and the snippet with its chips and peak value (updated per frame)."""
        meta = self.timeline.meta["snippets"][key]
        acts = np.asarray(self.timeline.arrays[f"snippet_{key}"], dtype=float)
        colour = self.colours[meta["concept_index"]]
        tag = text(self.timeline.meta["concept_labels"][meta["concept_index"]], style.LABEL_SIZE, style.text_colour(colour))
        tag.move_to([-usable_width() / 2 + tag.width / 2, y_top - tag.height / 2, 0])
        snip = TokenSnippet(meta["texts"], meta["joined"], acts / max(peak, 1e-9), usable_width(),
                            size=size, cut_before=meta["cut_before"], cut_after=meta["cut_after"])
        snip.shift(LEFT * (snip.get_left()[0] + usable_width() / 2) + UP * (tag.get_bottom()[1] - 0.15 - snip.get_top()[1]))
        best = int(np.argmax(acts))
        value = text(f"{acts[best]:.2f}", style.SMALL_SIZE, style.TOKEN_HEAT_TEXT).next_to(snip.chips[best], DOWN, buff=0.05)
        snip.add(value)
        track = f"sweep_{key}"

        def update(m):
            sweep = float(self.sample(track))
            a = float(self.sample("panels")[panel]) * (float(self.sample(show)) if show else 1.0)
            m.set_state(sweep, a, self.fades, lines=False)
            self.fades.fill(value, a * float(sweep >= len(m.heat)))

        snip.add_updater(update)
        update(snip)
        return tag, snip

    def _neuron_panel(self) -> None:
        tl = self.timeline
        p = tl.meta["polysemantic"]
        words = [tl.meta["concept_words"][tl.meta["concepts"].index(c)] for c in p["concepts"]]
        head = VGroup(text(p["label"], style.CAPTION_SIZE, style.HIGHLIGHT),
                      text(f"responds to {words[0]} and {words[1]}, both carried by content", style.LABEL_SIZE)
                      ).arrange(RIGHT, buff=0.3)
        head.move_to([-usable_width() / 2 + head.width / 2, self.top - head.height / 2, 0])
        tag_a, snip_a = self._snippet("a", p["peak"], head.get_bottom()[1] - 0.45, panel=1)
        tag_b, snip_b = self._snippet("b", p["peak"], snip_a.get_bottom()[1] - 0.45, panel=1, show="show_b")
        scale = self._heat_legend(p["peak"])
        scale.move_to([usable_width() / 2 - scale.width / 2, snip_b.get_bottom()[1] - 0.45, 0])
        statics = VGroup(head, tag_a, scale)
        self.parts["neuron_a"] = [statics, snip_a]
        self.parts["neuron_b"] = [tag_b, snip_b]
        self.leaving["artifact"] = [statics, snip_a, tag_b, snip_b]

    def _heat_legend(self, peak: float) -> VGroup:
        steps = 5
        chips = VGroup(*[Rectangle(width=0.3, height=0.22, stroke_width=0, fill_color=style.TOKEN_HEAT,
                                   fill_opacity=max(k / (steps - 1), 1e-3)) for k in range(steps)]).arrange(RIGHT, buff=0)
        return VGroup(text("activation 0", style.SMALL_SIZE, style.MUTED), chips,
                      text(f"\u2265 {peak:.2f} (the neuron's robust peak)", style.SMALL_SIZE, style.MUTED)).arrange(RIGHT, buff=0.12)

    # --- (c) the artifact ----------------------------------------------------------------------------
    def _artifact_panel(self) -> None:
        tl = self.timeline
        art = tl.meta["artifact"]
        labels = tl.meta["concept_labels"]
        resp = art["responses"]
        looks = " and ".join(tl.meta["concept_words"][r["concept_index"]] for r in resp)
        head = VGroup(text(art["label"], style.CAPTION_SIZE, style.HIGHLIGHT),
                      text(f"looks like it responds to {looks}", style.LABEL_SIZE)).arrange(RIGHT, buff=0.3)
        head.move_to([-usable_width() / 2 + head.width / 2, self.top - head.height / 2, 0])
        verdict_text = text("artifact, not polysemantic", style.CAPTION_SIZE, style.HIGHLIGHT)
        verdict_text.move_to([usable_width() / 2 - verdict_text.width / 2, head.get_center()[1], 0])
        if verdict_text.get_left()[0] < head.get_right()[0] + 0.3:
            verdict_text.next_to(head, DOWN, buff=0.1).align_to(head, LEFT)
        y = head.get_bottom()[1] - 0.3
        shown = []  # (tag, snippet): the content response's line first, then the shared-token one
        for key in ("art_content", "art"):
            if key in tl.meta["snippets"]:
                tag, snip = self._snippet(key, art["peak"], y, panel=2, size=style.LABEL_SIZE)
                shown.append((tag, snip))
                y = snip.get_bottom()[1] - 0.25

        # One bar per response: the share of its active mass on tokens the neuron also fires on in other
        # kinds of text (grey, from the left), the rest on the concept's own content (its colour);
        # the detector's line at token_share_max.
        bar_w, bar_h, row_gap = 5.5, 0.32, 0.85
        name_w = max(text_width(labels[r["concept_index"]], style.LABEL_SIZE) for r in resp) + 0.3
        x_bar = -usable_width() / 2 + name_w
        thr = float(art["shared_threshold"])
        x_thr = x_bar + bar_w * thr
        tick_label = text(f"{thr:.0%}: the detector's line", style.SMALL_SIZE, style.MUTED)
        tick_label.move_to([x_thr + 0.1 + tick_label.width / 2, y - 0.1, 0])
        rows, y = VGroup(), tick_label.get_bottom()[1] - 0.4
        shared_row = None
        for r in resp:
            colour = self.colours[r["concept_index"]]
            name = text(labels[r["concept_index"]], style.LABEL_SIZE, style.text_colour(colour))
            name.move_to([x_bar - 0.3 - name.width / 2, y, 0])
            g = float(r["token_share"])
            shared = Rectangle(width=max(bar_w * g, 1e-3), height=bar_h, stroke_width=0, fill_color=style.SHARED_TOKENS,
                               fill_opacity=1).move_to([x_bar + bar_w * g / 2, y, 0])
            content = Rectangle(width=max(bar_w * (1 - g), 1e-3), height=bar_h, stroke_width=0, fill_color=colour,
                                fill_opacity=1).move_to([x_bar + bar_w * g + bar_w * (1 - g) / 2, y, 0])
            is_shared = r["carried_by"] != "content"
            note = text(f"{g:.0%} \u2192 {'the tokens' if is_shared else 'content'}",
                        style.SMALL_SIZE, style.HIGHLIGHT if is_shared else style.TEXT)
            note.next_to([x_bar + bar_w, y, 0], RIGHT, buff=0.3)
            tops = text(("fires elsewhere too on: " + "  ".join(r["shared_types"][:4])) if is_shared and r["shared_types"]
                        else "top tokens: " + "  ".join(r["top_tokens"]), style.SMALL_SIZE, style.MUTED)
            tops.move_to([x_bar + tops.width / 2, y - bar_h / 2 - 0.08 - tops.height / 2, 0])
            row = VGroup(name, shared, content, note, tops)
            rows.add(row)
            if is_shared:
                shared_row = row
            y -= row_gap
        top_y, bottom_y = tick_label.get_bottom()[1] - 0.05, rows[-1][1].get_bottom()[1] - 0.05
        tick = DashedLine([x_thr, top_y, 0], [x_thr, bottom_y, 0], color=style.TEXT, stroke_width=2, dash_length=0.06)
        key = VGroup(Rectangle(width=0.25, height=0.18, stroke_width=0, fill_color=style.SHARED_TOKENS, fill_opacity=1),
                     text("share on tokens it also fires on in other kinds of text", style.SMALL_SIZE,
                          style.MUTED)).arrange(RIGHT, buff=0.12)
        key.move_to([x_bar + key.width / 2, rows[-1].get_bottom()[1] - 0.2 - key.height / 2, 0])
        verdict = VGroup(verdict_text)
        if shared_row is not None:
            verdict.add(Rectangle(width=shared_row.width + 0.3, height=shared_row.height + 0.16, color=style.HIGHLIGHT,
                                  stroke_width=3).move_to(shared_row.get_center()))
        self.parts["artifact"] = [VGroup(head, *[t for t, _ in shown]), *[sn for _, sn in shown]]
        self.parts["lesson"] = [VGroup(rows, tick, tick_label, key), verdict]


def _two_lines(s: str, width: float) -> list[str]:
    """A column label on one line if it fits, else split at the middle space."""
    if text_width(s, style.SMALL_SIZE) <= width or " " not in s:
        return [s]
    words = s.split()
    best = min(range(1, len(words)), key=lambda i: abs(len(" ".join(words[:i])) - len(" ".join(words[i:]))))
    return [" ".join(words[:best]), " ".join(words[best:])]
