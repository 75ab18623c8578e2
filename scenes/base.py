"""TimelineScene: plays a timeline segment by segment with a caption per segment.

A single clock (a ValueTracker holding timeline seconds) advances linearly through each
segment; mobjects sample the timeline at the clock through updaters. Easing lives in the
timeline's sampling, so the frames are a pure function of the timeline.

Speed: Cairo redraws every "moving" mobject each frame, and Manim counts as moving everything
listed after the first mobject that animates or has an updater. So scenes add static mobjects
first, fades play in a short head of each segment, and what has faded in is moved to the back
of the list so it is baked into the static background for the rest of the segment. Where the
timeline holds still after the head, one frame is drawn and repeated.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

from PIL import ImageFont
import numpy as np
from manim import (DOWN, LEFT, ORIGIN, RIGHT, UP, Animation, Camera, ImageMobject, Mobject, Scene, Text, ValueTracker, VGroup,
                   VMobject, linear, smooth)

from engine.timeline import Segment, Timeline
from scenes import style
from scenes.cells import CellCamera
from scenes.text_cache import cached_text

HEAD_S = 0.5  # seconds at the start of a segment in which captions and labels fade
CAPTION_MODES = ("burned", "none")  # captions in the picture, or talk mode (captions go to notes/subtitles)
_MEASURE = "measure"  # talk mode's dry run: no captions, no zoom
MAX_TALK_ZOOM = 1.5  # talk mode enlarges content at most this much (past it, labels dwarf the title)


def text(s: str, size: float = style.LABEL_SIZE, colour: str | None = None, keep_glyphs: bool = False, **kw) -> Text:
    """Text in the house font (Pango falls back silently if a font is not named), cached; drawn as one
    path unless ``keep_glyphs`` (one submobject per character, for callers that locate characters)."""
    return cached_text(s, style.FONT, size, colour or style.TEXT, keep_glyphs=keep_glyphs, **kw)


@lru_cache(maxsize=None)
def _font_metrics(size: float) -> tuple[ImageFont.FreeTypeFont, float]:
    """PIL's DejaVu metrics and their scale to Manim units, calibrated once per size on a real Text."""
    font = ImageFont.truetype(style.FONT_FILE, 100)  # PIL searches the system font folders
    probe = "Superposition probe 0123456789"
    return font, text(probe, size).width / font.getlength(probe)


def text_width(s: str, size: float) -> float:
    """Width in scene units that ``text(s, size)`` will have, without building it."""
    font, scale = _font_metrics(size)
    return font.getlength(s) * scale


def wrapped(s: str, width: float, size: float = style.CAPTION_SIZE, colour: str | None = None) -> VGroup:
    """Centred lines of text broken at spaces so none is wider than ``width`` scene units."""
    words, lines, cur = s.split(), [], ""
    for w in words:
        trial = f"{cur} {w}".strip()
        if cur and text_width(trial, size) > width:
            lines.append(cur)
            cur = w
        else:
            cur = trial
    if cur:
        lines.append(cur)
    return VGroup(*[text(line, size, colour) for line in lines]).arrange(DOWN, buff=0.12)


class OpacityFade(Animation):
    """Fade a group in or out by scaling each member's own opacities (fill, stroke, image alpha).

    FadeIn and UpdateFromAlphaFunc deep-copy their mobject at begin (about 0.3 s for a caption of
    Text); this never copies. Scaling, not setting, keeps outlines unfilled and graded parts graded.
    A fade-in hides its group as soon as it is made; a fade-out restores the opacities once the
    group has left the scene, so the same group can fade in again later.
    """

    def __init__(self, mobject: Mobject, fade_in: bool, **kwargs):
        self.is_in = fade_in
        family = mobject.get_family()
        self.vectors = [(m, m.get_fill_opacity(), m.get_stroke_opacity()) for m in family
                        if isinstance(m, VMobject) and m.has_points()]
        self.images = [(m, m.pixel_array[..., 3].copy()) for m in family if isinstance(m, ImageMobject)]
        super().__init__(mobject, remover=not fade_in, **kwargs)
        if fade_in:
            self._apply(0.0)

    def create_starting_mobject(self) -> Mobject:
        return Mobject()

    def _apply(self, a: float) -> None:
        for m, fill, stroke in self.vectors:
            m.set_fill(opacity=fill * a, family=False)
            m.set_stroke(opacity=stroke * a, family=False)
        for m, alpha in self.images:
            m.pixel_array[..., 3] = np.round(alpha * a).astype(np.uint8)

    def interpolate_mobject(self, alpha: float) -> None:
        a = self.rate_func(alpha)
        self._apply(a if self.is_in else 1.0 - a)

    def clean_up_from_scene(self, scene: Scene) -> None:
        super().clean_up_from_scene(scene)
        if not self.is_in:
            self._apply(1.0)


def fade_in(mob: Mobject) -> OpacityFade:
    return OpacityFade(mob, fade_in=True)


def fade_out(mob: Mobject) -> OpacityFade:
    return OpacityFade(mob, fade_in=False)


def caption_swap(old: Mobject | None, new: Mobject | None) -> list[OpacityFade]:
    """Fade the old caption out in the first half of a segment's head and the new one in over the second,
    so two captions are never legible at once (a cross-fade stacks them mid-way)."""
    if old is None or new is None:
        return [fade_out(old)] if old is not None else [fade_in(new)] if new is not None else []
    return [OpacityFade(old, fade_in=False, rate_func=lambda a: smooth(min(1.0, 2 * a))),
            OpacityFade(new, fade_in=True, rate_func=lambda a: smooth(max(0.0, 2 * a - 1)))]


class SwapLabel(VGroup):
    """A label that shows one of many pre-built Texts, chosen per frame without building or copying any.

    Manim lists a play's moving mobjects (families included) once, when the play starts, and draws
    that list every frame; a Text swapped out during a play would stay in it and keep being drawn
    under the new one. So the one swapped out is also made transparent.
    """

    def __init__(self, make, key_now, position):
        super().__init__()
        self._make, self._key_now, self._position, self._cache = make, key_now, position, {}
        self._show(key_now())
        self.add_updater(lambda m: m._show(m._key_now()))

    def _show(self, key) -> None:
        if key not in self._cache:
            self._cache[key] = self._position(self._make(key))
        current = self._cache[key]
        previous = self.submobjects[0] if self.submobjects else None
        if previous is not current:
            if previous is not None:
                previous.set_opacity(0)
            current.set_opacity(1)
            self.submobjects = [current]


class TimelineScene(Scene):
    """Base class: subclasses build mobjects in ``build()`` and attach updaters reading ``self.sample``."""

    caption_y: float = -3.0
    caption_width: float = 12.8
    repeat_still_frames: bool = True  # draw a still stretch once and repeat it (tests compare with False)

    def __init__(self, timeline: Timeline, stop_after: str | None = None, on_segment_end=None,
                 progress: Callable[[float], None] | None = None, captions: str = "burned", theme: str = "dark",
                 phases: tuple[int, int] | None = None, **kwargs):
        """``stop_after`` ends the scene after that segment; ``on_segment_end(scene, segment)`` is
        called as each segment ends (layout tests inspect every phase this way); ``progress(fraction)``
        hears how far rendering has got (render.py's live display). ``captions="none"`` is talk mode:
        no captions in the picture, and the content grows into the space they leave (``talk_view``).
        ``theme`` names a palette in ``scenes.style.THEMES``. ``phases=(start, stop)`` renders only segments
        [start, stop) (one piece of a scene split across processes, pipeline/pieces.py): earlier segments are
        played with Manim skipping their frames, so the state they leave is the whole render's."""
        if captions not in (*CAPTION_MODES, _MEASURE):
            raise ValueError(f"captions must be one of {', '.join(CAPTION_MODES)}, not {captions!r}")
        self.timeline = timeline
        self.captions = captions
        self.theme = theme
        style.use_theme(theme)  # before Manim builds anything: the camera's background comes from it
        self.chrome: list[Mobject] = []  # title and source line: kept in place and size by talk_view
        self.stop_after = stop_after
        n = len(timeline.segments)
        self.phases = (0, n) if phases is None else (int(phases[0]), int(phases[1]))
        if not 0 <= self.phases[0] < self.phases[1] <= n:
            raise ValueError(f"phases must be (start, stop) with 0 <= start < stop <= {n}, not {phases!r}")
        self.on_segment_end = on_segment_end
        self.progress = progress
        self._memo: dict[str, tuple[float, object]] = {}
        kwargs.setdefault("camera_class", CellCamera)  # lets CellLayers draw themselves
        super().__init__(**kwargs)
        camera = self.renderer.camera
        if type(camera) is Camera:  # a renderer made elsewhere (Manim's frames_comparison) ignores camera_class
            camera.__class__ = CellCamera  # same state, one extra dispatch

    def now(self) -> float:
        return self.clock.get_value()

    def sample(self, track: str):
        """Track value at the clock's time, computed once per frame however many updaters ask."""
        t = self.now()
        hit = self._memo.get(track)
        if hit is None or hit[0] != t:
            hit = (t, self.timeline.sample(track, t))
            self._memo[track] = hit
        return hit[1]

    def build(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def segment_animations(self, index: int, segment: Segment) -> list:
        """Animations that play in the head of a segment (e.g. labels fading in); none by default."""
        return []

    def talk_view(self) -> None:
        """Talk mode: zoom the camera so the content (everything but the title and source line) fills the
        frame between them, the space captions took included, at most MAX_TALK_ZOOM. The title and source
        line are scaled back so they keep their place and size on screen. The content's extent is measured
        over the whole scene by a dry run (content moves: shared_neurons spreads its neurons out)."""
        lo, hi = self.content_extent()
        cam = self.renderer.camera
        half_w, half_h = cam.frame_width / 2, cam.frame_height / 2
        top = min([c.get_bottom()[1] for c in self.chrome if c.get_center()[1] > 0] or [half_h - style.MARGIN])
        bottom = max([c.get_top()[1] for c in self.chrome if c.get_center()[1] < 0] or [-half_h + style.MARGIN])
        gap = 0.25
        target_lo = np.array([-half_w + style.MARGIN, bottom + gap])
        target_hi = np.array([half_w - style.MARGIN, top - gap])
        zoom = float(np.clip(np.min((target_hi - target_lo) / np.maximum(hi - lo, 1e-6)), 1.0, MAX_TALK_ZOOM))
        centre = np.append((lo + hi) / 2 - (target_lo + target_hi) / 2 / zoom, 0.0)
        cam.frame_width, cam.frame_height, cam.frame_center = 2 * half_w / zoom, 2 * half_h / zoom, centre
        for mob in self.chrome:
            mob.scale(1 / zoom, about_point=ORIGIN).shift(centre)
        self.talk_zoom = zoom

    def content_extent(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower-left and upper-right corners (x, y) of all that is drawn but the title and source line,
        at the end of every phase without captions: a dry run of this scene, drawing nothing."""
        from manim import tempconfig

        boxes: list[tuple[np.ndarray, np.ndarray]] = []

        def record(scene: "TimelineScene", segment: Segment) -> None:
            chrome = {id(m) for c in scene.chrome for m in c.get_family()}
            boxes.extend((m.get_corner(DOWN + LEFT)[:2], m.get_corner(UP + RIGHT)[:2]) for top in scene.mobjects
                         for m in top.get_family() if id(m) not in chrome and m.has_points() and not m.submobjects)

        with tempconfig({"dry_run": True}):
            probe = object.__new__(type(self))  # not type(self)(...): test subclasses fix the timeline in __init__
            TimelineScene.__init__(probe, timeline=self.timeline, captions=_MEASURE, theme=self.theme, skip_animations=True,
                                   on_segment_end=record)
            probe.render()
        half = np.array([self.camera.frame_width, self.camera.frame_height]) / 2
        boxes = [(np.maximum(a, -half), np.minimum(b, half)) for a, b in boxes  # what is on screen
                 if np.all(b > -half) and np.all(a < half)]  # (some scenes park mobjects off screen)
        if not boxes:
            return np.zeros(2), np.zeros(2)
        return np.min([b[0] for b in boxes], axis=0), np.max([b[1] for b in boxes], axis=0)

    def make_caption(self, segment: Segment) -> VGroup:
        cap = wrapped(segment.caption, self.caption_width)
        cap.move_to([0, self.caption_y, 0])
        return cap

    def _play_until(self, t_end: float, *anims) -> None:
        """Advance the clock to ``t_end`` in whole frames, so the video's length is the timeline's.

        Manim rounds every play up to whole frames; summed over many plays that drifts. Here
        each play covers the frames between two frame-aligned times, and frame k shows t = k/fps.
        """
        fps = self.camera.frame_rate
        frames = round(t_end * fps) - round(self.now() * fps)
        if frames <= 0:
            if anims:
                self.play(*anims, run_time=1e-3)
            return
        target = round(t_end * fps) / fps
        # Slightly under n/fps so Manim's arange yields exactly n frames; the clock still lands on target.
        self.play(self.clock.animate(rate_func=linear).set_value(target), *anims, run_time=frames / fps - 1e-6)

    def _hold_until(self, t_end: float) -> None:
        """Advance to ``t_end`` when the timeline holds still: the current frame, repeated.

        Nothing is drawn or copied for the repeats (Manim's frozen-frame wait hands the encoder one
        frame and a count); the encoder still encodes every frame.
        """
        fps = self.camera.frame_rate
        frames = round(t_end * fps) - round(self.now() * fps)
        if frames <= 0:
            return
        self.wait((frames + 0.5) / fps, frozen_frame=True)  # Manim repeats int(duration * fps) frames
        self.clock.set_value(round(t_end * fps) / fps)
        if self.progress is not None:
            self.progress(min(1.0, self.now() / self.timeline.duration))

    def _report_progress(self) -> None:
        """A scene-level updater (it marks no mobject as moving) reporting the clock, at most every 1%."""
        last = [-1.0]
        duration = self.timeline.duration

        def tick(dt: float) -> None:
            fraction = self.now() / duration
            if fraction - last[0] >= 0.01 or fraction >= 1.0:
                last[0] = fraction
                self.progress(min(1.0, fraction))
        self.add_updater(tick)

    def construct(self) -> None:
        self.camera.background_color = style.BACKGROUND
        self.clock = ValueTracker(0.0)  # not added: added last by the first play, so it moves nothing else
        self.build()
        if self.progress is not None:
            self._report_progress()
        if self.captions == "none":
            self.talk_view()
        caption, t0 = None, 0.0
        start, stop = self.phases
        for i, seg in enumerate(self.timeline.segments[:stop]):
            self.next_section(seg.name, skip_animations=i < start)  # one clip per phase with --sections
            anims = list(self.segment_animations(i, seg))
            if self.captions == "burned" and (caption is None or seg.caption != self.timeline.segments[i - 1].caption):
                old = caption
                caption = self.make_caption(seg) if seg.caption else None
                anims += caption_swap(old, caption)
            if anims:
                self._play_until(t0 + min(HEAD_S, seg.duration / 2), *anims)
                self.bring_to_back(*[a.mobject for a in anims if a.mobject in self.mobjects])  # now static
            t0 += seg.duration
            if self.repeat_still_frames and self.timeline.holds_still(self.now(), t0):
                self._hold_until(t0)
            else:
                self._play_until(t0)
            if self.on_segment_end is not None:
                self.on_segment_end(self, seg)
            if seg.name == self.stop_after:
                break
        if stop == len(self.timeline.segments):  # a piece that ends earlier ends where the next one begins
            self.wait(1 / max(1, self.camera.frame_rate))  # the frame at t = duration, holding everything added
