"""One scene split at phase boundaries: pieces rendered in separate processes, joined without re-encoding.

Frames are a pure function of timeline time, so a piece (``TimelineScene(phases=(start, stop))``)
plays the phases before ``start`` with Manim skipping their frames (their state still advances) and
draws phases [start, stop). Manim encodes every play into its own partial file, each starting on a
key frame, and concatenates them by remuxing packets; a piece encodes the very same plays, so pieces
joined by the same remux decode to the whole render's frames exactly (tests/cli/test_pieces.py).

Costs, measured with ``bench/pieces.py`` on 2 cores (CPU of all threads; the machine was shared, so
wall times were noisy and two pieces side by side could not show their speed-up there):

                          toy_wtw 480p15   grid_minilm 480p15   grid_minilm 720p30
    moving frame              11.9 ms            10.8 ms              17.5 ms
    held frame            0.54 x moving      0.54 x moving        0.60 x moving
    skip one phase          3.2 frames         2.9 frames           2.0 frames       (30-40 ms)
    start-up (import, build)  1.1 s wall per piece, as for a whole scene
    join (remux)              25-30 ms per 1000 frames, whatever the size

A held frame is drawn once, but Manim's encoder converts RGBA to YUV and encodes every repeat, about
half a moving frame's cost at these sizes (PyAV alone: 3.6 ms CPU per repeated 480p frame, 6 ms per
changing one). Skipping costs one update per play and one drawn frame per hold, per phase.
"""
from __future__ import annotations

import math
import os
import shutil
import tempfile
from io import BytesIO
from pathlib import Path
from typing import Callable, Sequence

from engine.atomic import publish_mode, temp_prefix
from engine.timeline import Timeline
from pipeline.settings import RenderSettings

HEAD_S = 0.5  # scenes.base.HEAD_S (not imported: that imports Manim); a segment's head, where fades play
HELD_FRAME = 0.55  # cost of a held frame relative to a moving one (see above)
SKIP_PHASE = 3.0  # cost of skipping one phase, in moving frames (see above): plan()'s skip_cost
STARTUP_S = 1.1  # wall seconds before a piece draws its first frame, skipping aside
SPLITTABLE = ("mp4", "gif", "webm", "mov")  # video formats (a GIF is made from the joined MP4)
PARTIAL_SUFFIX = ".partial"
MUXERS = {".mp4": "mp4", ".mov": "mov", ".webm": "webm"}


def phase_frames(timeline: Timeline, fps: int) -> list[int]:
    """Frames each phase writes: phase i starts at frame round(T_i * fps) (``TimelineScene._play_until``)."""
    ends = [round(t * fps) for t in [*timeline.segment_starts(), timeline.duration]]
    return [b - a for a, b in zip(ends, ends[1:])]


def phase_costs(timeline: Timeline, fps: int) -> list[float]:
    """Expected cost of each phase in moving frames: its head (fades) moves, and after it every frame
    costs 1 where the timeline moves and ``HELD_FRAME`` where it holds still (drawn once, repeated)."""
    costs = []
    for seg, t0, n in zip(timeline.segments, timeline.segment_starts(), phase_frames(timeline, fps)):
        head_end = round((t0 + min(HEAD_S, seg.duration / 2)) * fps)  # the frame the scene's clock is at
        head_frames = min(n, head_end - round(t0 * fps))
        rest = n - head_frames
        still = rest > 0 and timeline.holds_still(head_end / fps, t0 + seg.duration)
        costs.append(float(head_frames + rest * (HELD_FRAME if still else 1.0)))
    return costs


def plan(costs: Sequence[float], pieces: int, skip_cost: float) -> list[tuple[int, int]]:
    """Contiguous runs of phases, at most ``pieces`` of them, minimising the largest piece's cost, where
    a piece [a, b) costs ``skip_cost * a + sum(costs[a:b])`` (skipping to its start, then drawing).

    Ties go to fewer pieces (each has a fixed start-up the costs leave out; no piece draws nothing),
    then to the earliest cuts, so the same costs always give the same plan.
    """
    n = len(costs)
    if n == 0 or pieces < 1:
        raise ValueError(f"need at least one phase and one piece, not {n} phases and {pieces} pieces")
    k = min(pieces, n)
    prefix = [0.0]
    for c in costs:
        prefix.append(prefix[-1] + float(c))

    def cost(a: int, b: int) -> float:
        return skip_cost * a + prefix[b] - prefix[a]

    # best[m][j]: smallest largest-piece cost covering phases [0, j) with m pieces; cut[m][j]: last piece's start.
    best = [[math.inf] * (n + 1) for _ in range(k + 1)]
    cut = [[0] * (n + 1) for _ in range(k + 1)]
    best[0][0] = 0.0
    for m in range(1, k + 1):
        for j in range(m, n + 1):
            for i in range(m - 1, j):
                value = max(best[m - 1][i], cost(i, j))
                if value < best[m][j]:
                    best[m][j], cut[m][j] = value, i
    lowest = min(best[m][n] for m in range(1, k + 1))
    m = next(m for m in range(1, k + 1) if best[m][n] <= lowest * (1 + 1e-9))  # not more pieces for rounding noise
    runs, j = [], n
    while m > 0:
        i = cut[m][j]
        runs.append((i, j))
        j, m = i, m - 1
    return runs[::-1]


def _partial_dir(out_file: Path) -> Path:
    """Manim's private folder beside ``out_file``; no quote in its name (Manim's concat manifest leaves paths unquoted)."""
    name = out_file.name.replace("'", "_")
    return Path(tempfile.mkdtemp(prefix=temp_prefix(name), suffix=PARTIAL_SUFFIX, dir=out_file.parent))


def piece_suffix(settings: RenderSettings) -> str:
    """A piece's file type: the format's own, or MP4 for a GIF (made from the joined video)."""
    return ".mp4" if settings.format == "gif" else settings.extension


def render_piece(scene_cls_path: str, timeline_path: str | os.PathLike, settings: RenderSettings,
                 phases: tuple[int, int], out_file: str | os.PathLike,
                 progress: Callable[[float], None] | None = None, sections_dir: Path | None = None) -> Path:
    """Render phases [start, stop) of a scene to ``out_file`` (in this process, under its own Manim
    configuration); nothing appears under that name until it is complete. The piece is a video in the
    settings' format (an MP4 for a GIF: make the GIF from the joined MP4); subtitles and size fitting are
    the joined video's business. With ``sections_dir``, the piece's phases are also written there as one
    clip each, ``NN_phase.ext`` numbered as in the whole scene. ``progress`` hears the fraction done."""
    from manim import tempconfig

    from pipeline.catalogue import _resolve

    if settings.format not in SPLITTABLE:
        raise ValueError(f"only {', '.join(SPLITTABLE)} renders are split into pieces, not {settings.format}")
    out_file = Path(out_file)
    suffix = piece_suffix(settings)
    if out_file.suffix != suffix:
        raise ValueError(f"a {settings.format} render's piece is a {suffix} file, not {out_file.name}")
    timeline = Timeline.load(timeline_path)
    if not 0 <= phases[0] < phases[1] <= len(timeline.segments):
        raise ValueError(f"phases must be (start, stop) with 0 <= start < stop <= {len(timeline.segments)}, not {phases}")
    if not out_file.parent.is_dir():  # never re-create a staging folder the run has discarded (a piece failed)
        raise FileNotFoundError(f"the folder for piece {out_file.name} is gone: {out_file.parent}")
    report = None
    if progress is not None:
        starts = [*timeline.segment_starts(), timeline.duration]
        t0, t1 = float(starts[phases[0]]), float(starts[phases[1]])
        report = lambda fraction: progress(min(1.0, max(0.0, (fraction * timeline.duration - t0) / (t1 - t0))))
    tmp = _partial_dir(out_file)
    try:
        conf = settings.manim_config() | {"media_dir": str(tmp / "media"), "output_file": "piece",
                                          "save_sections": sections_dir is not None}
        with tempconfig(conf):
            scene = _resolve(scene_cls_path)(timeline=timeline, phases=tuple(phases), progress=report,
                                             **settings.scene_kwargs)
            scene.render()
            rendered = Path(scene.renderer.file_writer.movie_file_path)
            if sections_dir is not None:
                from pipeline.worker import _collect_sections
                shutil.rmtree(sections_dir, ignore_errors=True)  # a retried piece starts afresh
                sections_dir.mkdir(parents=True)
                _collect_sections(scene.renderer.file_writer, sections_dir, rendered.suffix, first=phases[0])
        _fsync(rendered)
        publish_mode(rendered)
        os.replace(rendered, out_file)  # same filesystem: atomic
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_file


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _frames(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return stream.frames or sum(1 for p in container.demux(stream) if p.size)


def join(pieces: Sequence[str | os.PathLike], dst: str | os.PathLike) -> Path:
    """Concatenate piece videos into ``dst`` by remuxing their packets, as Manim joins its partial files
    (FFmpeg's concat demuxer, decode timestamps recomputed), so nothing is decoded or re-encoded.
    Written through a temporary sibling; raises if the result's frame count is not the pieces' sum."""
    import av

    pieces, dst = [Path(p) for p in pieces], Path(dst)
    if not pieces:
        raise ValueError("nothing to join")
    muxer = MUXERS.get(dst.suffix.lower())
    if muxer is None:
        raise ValueError(f"join writes {', '.join(MUXERS)} files, not {dst.name}")
    expected = sum(_frames(p) for p in pieces)
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(dst.name), suffix=".tmp", dir=dst.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        manifest = "".join(f"file {_quoted('file:' + p.resolve().as_posix())}\n" for p in pieces).encode()
        written = 0
        with av.open(BytesIO(manifest), format="concat", options={"safe": "0", "an": "1"}) as src, \
                av.open(str(tmp), mode="w", format=muxer) as out:
            stream = src.streams.video[0]
            with av.open(str(pieces[0])) as first:
                out.metadata.update(first.metadata)  # Manim's "Rendered with" comment
            target = out.add_stream_from_template(template=stream)
            if stream.metadata.get("alpha_mode") == "1":  # transparent WebM: Manim's own join says so this way
                target.pix_fmt = "yuva420p"
            for packet in src.demux(stream):
                if packet.dts is None:  # the flushing packet demux ends with
                    continue
                packet.dts = None  # consecutive files' decode times need not increase: libav recomputes them
                packet.stream = target
                out.mux(packet)
                written += 1
        if written != expected:
            raise RuntimeError(f"joined {written} frames, but the pieces hold {expected}")
        _fsync(tmp)
        publish_mode(tmp)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dst


def _quoted(path: str) -> str:
    """A path quoted for FFmpeg's concat manifest (a quote inside is closed, escaped, reopened)."""
    return "'" + path.replace("'", "'\\''") + "'"
