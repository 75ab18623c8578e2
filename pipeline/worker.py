"""Render one scene in the current process, under its own Manim configuration.

Nothing appears under a final name until it is complete: Manim writes into a private temporary
folder inside the output folder (``.NAME.PID.XXXXXXXX.partial``), and finished files are renamed
into place. The PID in the name tells whose folder it is: an interrupted run removes its own, and a
later run removes those whose process is gone (``stale_partials``), never anyone else's.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from engine.atomic import leftover_owner, publish_dir, remove, remove_stale, temp_prefix
from pipeline import interrupts
from pipeline.settings import RenderSettings

PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True)
class RenderJob:
    name: str
    scene: str  # "module:SceneClass"
    timeline_path: str
    out_dir: str
    settings: RenderSettings
    # A piece of a split scene (pipeline/split.py): phases [start, stop), written into piece_dir.
    phases: tuple[int, int] | None = None
    piece_dir: str | None = None

    @property
    def task(self) -> str:
        """What the pool tracks (retries, progress): the scene, or one piece of it."""
        return self.name if self.phases is None else f"{self.name}#{self.phases[0]}-{self.phases[1]}"

    @property
    def output_name(self) -> str:
        return f"{self.name}{self.settings.extension}"

    @property
    def sections_dir(self) -> str:
        return f"sections/{self.name}"


@dataclass(frozen=True)
class RenderResult:
    name: str
    ok: bool
    seconds: float
    file: str | None = None
    error: str | None = None
    reused: bool = False
    sections: tuple[str, ...] = ()
    extras: tuple[str, ...] = ()  # files beside the video: NAME.srt, NAME.vtt
    note: str | None = None  # what --max-size chose
    pieces: int = 1  # rendered as this many pieces on separate workers (pipeline/split.py)


_publish_dir = publish_dir  # the name callers in the pipeline use


def _partial_folders(out_dir: Path) -> list[Path]:
    """Where partial folders live: the output folder and the sections folder."""
    return [out_dir, out_dir / "sections"]


def remove_partials(out_dir: Path, names: Iterable[str], pids: Iterable[int]) -> None:
    """Remove the partial folders of scenes ``names`` made by processes ``pids`` (a run's own, or a dead worker's)."""
    names, pids = set(names), set(pids)
    for folder in _partial_folders(out_dir):
        for p in folder.glob(f".*{PARTIAL_SUFFIX}") if folder.is_dir() else ():
            owner = leftover_owner(p, names)
            if owner is not None and owner[1] in pids:
                remove(p)


def remove_stale_partials(out_dir: Path, names: Iterable[str]) -> None:
    """Remove partial folders of scenes ``names`` whose process is gone (killed runs); others are kept."""
    for folder in _partial_folders(out_dir):
        remove_stale(folder, PARTIAL_SUFFIX, names)


def _collect_sections(writer, staged_root: Path, ext: str, first: int = 0) -> list[Path]:
    """Move Manim's per-section clips to ``NN_phase.ext`` names, in order (NN from ``first``: a piece's
    first phase; skipped phases write no clip)."""
    src_dir = Path(writer.sections_output_dir)
    out = []
    for i, section in enumerate((s for s in writer.sections if s.video), start=first):
        target = staged_root / f"{i:02d}_{section.name}{ext}"
        shutil.move(src_dir / section.video, target)
        out.append(target)
    return out


SUBTITLE_ROOM = 16_384  # bytes kept free under --max-size for the subtitle track and chapters


def _subtitle_room(settings: RenderSettings) -> int:
    return SUBTITLE_ROOM if settings.subtitles else 0


def _add_subtitles(video: Path, timeline, fps: int, folder: Path) -> list[Path]:
    """Embed the phase captions (soft track) and phases (chapters) in ``video``; return NAME.srt and NAME.vtt."""
    from pipeline import subtitles

    phases = subtitles.phases_from_segments(timeline.segments)
    cues, chapters = subtitles.cues(phases, fps), subtitles.chapters(phases, fps)
    subtitles.embed(video, cues, chapters, video)
    return [subtitles.write_srt(cues, folder / f"{video.stem}.srt"), subtitles.write_vtt(cues, folder / f"{video.stem}.vtt")]


def _ignore_progress(task: str, fraction: float) -> None:
    pass


def render(job: RenderJob, progress: Callable[[str, float], None] | None = None) -> RenderResult:
    """Render ``job`` to ``out_dir/NAME.EXT`` (a piece: to its piece folder); failures come back as results."""
    # Always listen: the scene's progress updater changes how Manim updates mobjects during waits, so a
    # render with no listener could end on another closing frame (seen in toy_phase); pieces the same.
    progress = progress or _ignore_progress
    if job.phases is not None:
        return render_piece(job, progress)
    start = time.perf_counter()
    out_dir = Path(job.out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(job.name), suffix=PARTIAL_SUFFIX, dir=out_dir))
    try:
        from manim import tempconfig

        from engine.timeline import Timeline
        from pipeline.catalogue import _resolve

        timeline = Timeline.load(job.timeline_path)
        scene_cls = _resolve(job.scene)
        settings = job.settings
        conf = settings.manim_config() | {"media_dir": str(tmp / "media"), "output_file": job.name}
        report = None if progress is None else (lambda fraction: progress(job.task, fraction))
        with tempconfig(conf):
            scene = scene_cls(timeline=timeline, progress=report, **settings.scene_kwargs)
            scene.render()
            writer = scene.renderer.file_writer
            rendered = Path(writer.image_file_path if settings.is_image else writer.movie_file_path)
            section_files = []
            if settings.sections and not settings.is_image:
                (tmp / "sections").mkdir()
                section_files = _collect_sections(writer, tmp / "sections", rendered.suffix)
        return finish(job, timeline, rendered, section_files, tmp, start)
    except Exception as e:  # one failing scene must not stop the others
        interrupts.reraise(e)  # unless it is a Ctrl+C that a C extension turned into another exception
        return RenderResult(job.name, False, time.perf_counter() - start, error=f"{type(e).__name__}: {e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def finish(job: RenderJob, timeline, rendered: Path, section_files: list[Path], tmp: Path,
           start: float) -> RenderResult:
    """From Manim's video (whole, or joined from pieces) in ``tmp`` to published outputs: the format
    (GIF, or a size budget), subtitles and chapters, section clips; each renamed into place."""
    from pipeline.formats import mp4_to_gif

    settings, out_dir = job.settings, Path(job.out_dir)
    staged = tmp / job.output_name
    note = None
    if settings.max_size:
        from pipeline.fit import describe, fit
        note = describe(fit(rendered, staged, settings.format, settings.max_size - _subtitle_room(settings)))
    elif settings.format == "gif":
        mp4_to_gif(rendered, staged)
    elif rendered != staged:
        shutil.move(rendered, staged)
    extras = _add_subtitles(staged, timeline, settings.fps, tmp) if settings.subtitles else []
    if section_files:
        staged_sections = tmp / "sections"
        if section_files[0].parent != staged_sections:
            staged_sections.mkdir(exist_ok=True)
            section_files = [Path(shutil.move(f, staged_sections / f.name)) for f in section_files]
        _publish_dir(staged_sections, out_dir / job.sections_dir)
    for extra in extras:  # sidecars first: a video under its final name has its subtitles beside it
        extra.replace(out_dir / extra.name)
    staged.replace(out_dir / job.output_name)  # same filesystem: atomic
    return RenderResult(job.name, True, time.perf_counter() - start, file=job.output_name,
                        sections=tuple(f"{job.sections_dir}/{p.name}" for p in section_files),
                        extras=tuple(p.name for p in extras), note=note)


def render_piece(job: RenderJob, progress: Callable[[str, float], None] | None = None) -> RenderResult:
    """One piece of a split scene: its video (and section clips) into ``job.piece_dir``, for the run to join."""
    from pipeline import pieces

    start = time.perf_counter()
    try:
        report = None if progress is None else (lambda fraction: progress(job.task, fraction))
        first, _ = job.phases
        out_file = Path(job.piece_dir) / f"{first:03d}{pieces.piece_suffix(job.settings)}"
        sections = Path(job.piece_dir) / f"{first:03d}.sections" if job.settings.sections else None
        pieces.render_piece(job.scene, job.timeline_path, job.settings, job.phases, out_file, progress=report,
                            sections_dir=sections)
        return RenderResult(job.task, True, time.perf_counter() - start, file=str(out_file))
    except Exception as e:
        interrupts.reraise(e)
        return RenderResult(job.task, False, time.perf_counter() - start, error=f"{type(e).__name__}: {e}")
