"""Render one scene in the current process, under its own Manim configuration.

Nothing appears under a final name until it is complete: Manim writes into a private
temporary folder inside the output folder, and the finished file is renamed into place.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pipeline.settings import RenderSettings


@dataclass(frozen=True)
class RenderJob:
    name: str
    scene: str  # "module:SceneClass"
    timeline_path: str
    out_dir: str
    settings: RenderSettings


@dataclass(frozen=True)
class RenderResult:
    name: str
    ok: bool
    seconds: float
    file: str | None = None
    error: str | None = None


def render(job: RenderJob) -> RenderResult:
    """Render ``job`` to ``out_dir/NAME.mp4``; returns failures as results rather than raising."""
    start = time.perf_counter()
    out_dir = Path(job.out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{job.name}.", suffix=".partial", dir=out_dir))
    try:
        from manim import tempconfig

        from engine.timeline import Timeline
        from pipeline.catalogue import _resolve

        timeline = Timeline.load(job.timeline_path)
        scene_cls = _resolve(job.scene)
        conf = job.settings.manim_config() | {"media_dir": str(tmp), "output_file": job.name}
        with tempconfig(conf):
            scene = scene_cls(timeline=timeline)
            scene.render()
            movie = Path(scene.renderer.file_writer.movie_file_path)
        final = out_dir / f"{job.name}.mp4"
        staged = tmp / final.name
        shutil.move(movie, staged)
        staged.replace(final)  # same folder tree, same filesystem: atomic
        return RenderResult(job.name, True, time.perf_counter() - start, file=final.name)
    except Exception as e:  # one failing scene must not stop the others
        return RenderResult(job.name, False, time.perf_counter() - start, error=f"{type(e).__name__}: {e}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
