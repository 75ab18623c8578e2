"""Render settings: Manim's quality presets, output formats, and what one render produces."""
from __future__ import annotations

from dataclasses import dataclass

# Manim's presets: -ql, -qm, -qh, -qk.
QUALITIES: dict[str, tuple[int, int, int]] = {
    "low": (854, 480, 15),
    "medium": (1280, 720, 30),
    "high": (1920, 1080, 60),
    "4k": (3840, 2160, 60),
}
# Output formats and the extension of their file. GIF is made from an MP4 render with a palette
# computed for the clip (smaller and cleaner than a fixed palette); PNG is the last frame.
FORMATS: dict[str, str] = {"mp4": ".mp4", "gif": ".gif", "webm": ".webm", "mov": ".mov", "png": ".png"}
# Limits checked before anything renders: 8K frames, and an hour per video (or per phase setting).
# Past them a typo (--resolution 100000x100000, --duration 1e9) would exhaust memory or never end.
MIN_SIDE, MAX_SIDE = 16, 7680
MAX_PIXELS = 7680 * 4320
MAX_SECONDS = 3600.0


@dataclass(frozen=True)
class RenderSettings:
    width: int
    height: int
    fps: int
    format: str = "mp4"
    transparent: bool = False
    sections: bool = False
    captions: str = "burned"  # "none": talk mode, captions only in notes and subtitles
    theme: str = "dark"
    subtitles: bool = False  # NAME.srt/.vtt beside the video, a soft subtitle track and chapters in it
    max_size: int | None = None  # bytes: step width and frame rate down until the file fits

    @property
    def scene_kwargs(self) -> dict:
        """What the scene itself is told (the rest is Manim's configuration or post-processing)."""
        return {"captions": self.captions, "theme": self.theme}

    @classmethod
    def from_quality(cls, quality: str, **kw) -> "RenderSettings":
        w, h, fps = QUALITIES[quality]
        return cls(w, h, fps, **kw)

    @property
    def extension(self) -> str:
        return FORMATS[self.format]

    @property
    def is_image(self) -> bool:
        return self.format == "png"

    def manim_config(self) -> dict:
        """The per-scene Manim configuration (applied with tempconfig, never globally)."""
        conf = {"pixel_width": self.width, "pixel_height": self.height, "frame_rate": self.fps,
                "frame_height": 8.0, "frame_width": 8.0 * self.width / self.height,
                "progress_bar": "none", "verbosity": "ERROR", "disable_caching": True,
                "transparent": self.transparent, "save_sections": self.sections and not self.is_image,
                # One play encoding at a time (Manim's default). With 4 in flight the same render gave
                # different bytes and, in a few frames, different pixels from run to run (toy_wtw at
                # 320x180@15, 12 s: 4 different files in 8 runs; 5 of 5 alike with 1). Parallelism comes from
                # --jobs and split scenes instead, which now gain on 2 cores (bench/scaling.py).
                "max_inflight_encoders": 1, "encoder_queue_size": 32,
                # One thread per encoder: --jobs runs scenes side by side, so x264's own frame threads
                # (1.5 per core) only add overhead:
                # about 20% more encoder CPU at 480p. Fixed, not per core, so the same scene gives
                # the same MP4 bytes on every machine and with any --jobs.
                "video_encoder_options": {"threads": "1"}}
        if self.is_image:
            conf |= {"save_last_frame": True, "write_to_movie": False, "format": "png"}
        else:
            conf |= {"write_to_movie": True, "format": "mp4" if self.format == "gif" else self.format}
        return conf
