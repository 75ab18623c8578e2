"""Read back what was written: codec, size, frame rate, frame count and duration of a video."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import av


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    pix_fmt: str
    width: int
    height: int
    fps: float
    frames: int
    duration_s: float

    def as_dict(self) -> dict:
        return asdict(self)


def probe(path: str | Path) -> VideoInfo:
    """Metadata of the first video stream; frames are counted by demuxing when the container does not say."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = Fraction(stream.average_rate or stream.guessed_rate or 0)
        frames = stream.frames or sum(1 for p in container.demux(stream) if p.size)
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        else:
            duration = frames / float(rate) if rate else 0.0
        return VideoInfo(codec=stream.codec_context.name, pix_fmt=str(stream.codec_context.pix_fmt),
                         width=stream.codec_context.width, height=stream.codec_context.height,
                         fps=round(float(rate), 3), frames=int(frames), duration_s=round(duration, 3))
