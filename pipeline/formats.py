"""Format-specific steps after Manim has rendered: GIF conversion and reading outputs back."""
from __future__ import annotations

from pathlib import Path

import ffmpeg

from pipeline.video import VideoInfo, probe


def mp4_to_gif(src: Path, dst: Path, width: int | None = None, fps: int | None = None) -> None:
    """A palette-optimised GIF: one palette computed for this clip, Bayer dithering, looping forever."""
    stream = ffmpeg.input(str(src))
    if fps:
        stream = stream.filter("fps", fps=fps)
    if width:
        stream = stream.filter("scale", width, -2, flags="lanczos")
    split = stream.filter_multi_output("split")
    palette = split[0].filter("palettegen", stats_mode="diff", max_colors=128)
    out = ffmpeg.filter([split[1], palette], "paletteuse", dither="bayer", bayer_scale=4, diff_mode="rectangle")
    out.output(str(dst), loop=0, f="gif").overwrite_output().run(quiet=True)


def read_back(path: Path) -> VideoInfo:
    """Metadata of any output; a PNG is one frame."""
    if path.suffix == ".png":
        from PIL import Image
        with Image.open(path) as im:
            im.verify()
        with Image.open(path) as im:
            return VideoInfo(codec="png", pix_fmt=im.mode.lower(), width=im.width, height=im.height, fps=0.0,
                             frames=1, duration_s=0.0)
    return probe(path)
