"""The two baselines of bench/grid_render.py, each run as its own process (set-up included).

    python bench/grid_baselines.py matplotlib TIMELINE.json OUT.mp4 WIDTH HEIGHT FPS
    python bench/grid_baselines.py pyav       REFERENCE.mp4 OUT.mp4 WIDTH HEIGHT FPS FRAMES

matplotlib: what people do today, a FuncAnimation of the same 49 neurons (each disc coloured by
the objects shown at that moment, as the scene does before its wedge phase) written through ffmpeg.
pyav: the floor, encoding already-drawn frames (decoded from our own output, not timed) with PyAV.
"""
from __future__ import annotations

import sys
import time

import numpy as np


def matplotlib_baseline(timeline_path: str, out: str, width: int, height: int, fps: int) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FFMpegWriter, FuncAnimation
    from matplotlib.colors import to_rgb

    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
    from engine.timeline import Timeline
    from scenes.style import BACKGROUND, object_colours

    tl = Timeline.load(timeline_path)
    levels = tl.arrays["levels"]  # [objects, cells]
    rows, cols = tl.meta["grid"]
    colours = np.array([to_rgb(c) for c in object_colours(tl.meta, levels.shape[0])])
    n_frames = round(tl.duration * fps) + 1
    fig = plt.figure(figsize=(width / 100, height / 100), dpi=100, facecolor=BACKGROUND)
    ax = fig.add_axes([0, 0, 1, 1], facecolor=BACKGROUND)
    ax.set_xlim(-1, cols * 1.2 + 8)
    ax.set_ylim(-1, rows * 1.2 + 1)
    ax.set_aspect("equal")
    ax.axis("off")
    xs, ys = np.meshgrid(np.arange(cols) * 1.2, np.arange(rows)[::-1] * 1.2)
    scatter = ax.scatter(xs.ravel()[: levels.shape[1]], ys.ravel()[: levels.shape[1]], s=(width / 854) ** 2 * 900,
                         c=np.zeros((levels.shape[1], 3)), edgecolors="#5F6368")
    title = ax.text(cols * 1.2 + 0.5, rows * 1.2 - 0.5, tl.title, color="white", fontsize=12 * width / 854)

    def draw(k: int):
        weights = tl.sample("weights", k / fps)  # [objects]
        rgb = np.clip((weights[:, None] * levels)[:, :, None] * colours[:, None, :], 0, 1).max(axis=0)
        scatter.set_facecolors(0.15 + 0.85 * rgb)
        return scatter, title

    anim = FuncAnimation(fig, draw, frames=n_frames, blit=True)
    anim.save(out, writer=FFMpegWriter(fps=fps, codec="libx264", extra_args=["-pix_fmt", "yuv420p"]))


def pyav_floor(reference: str, out: str, width: int, height: int, fps: int, frames: int) -> float:
    """Encode ``frames`` frames cycling through up to 120 decoded ones; returns encode-only seconds."""
    import av
    with av.open(reference) as src:
        drawn = [f.to_ndarray(format="rgb24") for _, f in zip(range(120), src.decode(video=0))]
    start = time.perf_counter()
    with av.open(out, "w") as dst:
        stream = dst.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for k in range(frames):
            for packet in stream.encode(av.VideoFrame.from_ndarray(drawn[k % len(drawn)], format="rgb24")):
                dst.mux(packet)
        for packet in stream.encode():
            dst.mux(packet)
    return time.perf_counter() - start


if __name__ == "__main__":
    kind, *args = sys.argv[1:]
    if kind == "matplotlib":
        matplotlib_baseline(args[0], args[1], int(args[2]), int(args[3]), int(args[4]))
    else:
        print(pyav_floor(args[0], args[1], int(args[2]), int(args[3]), int(args[4]), int(args[5])))
