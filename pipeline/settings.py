"""Render settings: Manim's quality presets and what an output is."""
from __future__ import annotations

from dataclasses import dataclass

# Manim's presets: -ql, -qm, -qh, -qk.
QUALITIES: dict[str, tuple[int, int, int]] = {
    "low": (854, 480, 15),
    "medium": (1280, 720, 30),
    "high": (1920, 1080, 60),
    "4k": (3840, 2160, 60),
}


@dataclass(frozen=True)
class RenderSettings:
    width: int
    height: int
    fps: int

    @classmethod
    def from_quality(cls, quality: str) -> "RenderSettings":
        w, h, fps = QUALITIES[quality]
        return cls(w, h, fps)

    def manim_config(self) -> dict:
        """The per-scene Manim configuration (applied with tempconfig, never globally)."""
        return {"pixel_width": self.width, "pixel_height": self.height, "frame_rate": self.fps,
                "frame_height": 8.0, "frame_width": 8.0 * self.width / self.height,
                "progress_bar": "none", "verbosity": "WARNING", "disable_caching": True}
