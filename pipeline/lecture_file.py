"""A lecture file (TOML): scenes and title cards in order, each with its settings, checked whole before
anything is built or written.

Each part becomes the ``render.py`` arguments that would render it alone (``--scene NAME --set K=V ...
--sections``) and is checked by the command line's own checks (:func:`pipeline.cli.plan`), so a lecture
accepts exactly what the command line accepts. Every mistake is one line naming the file and the part:
``FILE: part 3 (grid_minilm): <what is wrong>; <fix>``. The format is documented at the top of
``lectures/superposition.toml``.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.text_safety import printable
from pipeline import catalogue
from pipeline.cli import Plan, UsageError, _render_settings, build_parser, plan
from pipeline.options import OptionError
from pipeline.settings import QUALITIES, RenderSettings

CARD = "title_card"  # the catalogue entry that renders cards
TOP_KEYS = ("quality", "resolution", "fps", "format", "theme", "captions", "part")
SCENE_KEYS = ("scene", "duration", "set", "objects", "source", "activations", "colours")
CARD_KEYS = ("card", "subtitle", "seconds")
CHOICES = {"format": ("mp4",), "theme": ("dark", "light"), "captions": ("burned", "none")}
_FLAGS = re.compile(r"--(resolution|fps|duration|set|objects|source|activations|colours)\b")


class LectureError(ValueError):
    """A lecture file that cannot be rendered as written; one line naming the file (and the part)."""


@dataclass(frozen=True)
class Part:
    """One part of a lecture: a scene or a title card, as the command line would render it alone."""

    index: int  # 1-based, as the user counts
    label: str  # the scene's name, or 'card "TITLE"'
    argv: tuple[str, ...]  # render.py arguments, without --out
    plan: Plan
    card_title: str | None = None  # a card's chapter is its title alone
    duration: float | None = None  # the part's length if the file sets it (a card always does)

    @property
    def entry(self) -> catalogue.Entry:
        return self.plan.entries[0]

    @property
    def settings(self) -> object:
        return self.plan.scene_settings[self.entry.name]

    @property
    def folder(self) -> str:
        """Named by what the part renders, not by its place: reordering a lecture reuses every part."""
        digest = hashlib.sha256(json.dumps(self.argv).encode()).hexdigest()[:10]
        return f"{self.entry.name}-{digest}"


@dataclass(frozen=True)
class Lecture:
    path: Path
    name: str  # the file's stem: NAME.mp4, NAME.srt, NAME.vtt, slides/NAME.json
    render: RenderSettings
    parts: list[Part]

    def planned_seconds(self) -> float | None:
        """The lecture's length if every part's length is set in the file (None otherwise)."""
        if any(p.duration is None for p in self.parts):
            return None
        return sum(p.duration for p in self.parts)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _text(value: Any) -> str:
    """A TOML value as a command-line value: lists join with commas (tuple settings split them again)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, str)):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list) and all(isinstance(v, (int, float, str)) for v in value):
        return ",".join(_text(v) for v in value)
    raise TypeError


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        raise LectureError(f"{path}: no such lecture file; give the path of a .toml file "
                           "(e.g. lectures/superposition.toml)") from None
    except IsADirectoryError:
        raise LectureError(f"{path}: is a folder; give the path of a .toml lecture file") from None
    except OSError as e:
        raise LectureError(f"{path}: cannot be read ({e.strerror or e}); fix its permissions") from None
    except UnicodeDecodeError:
        raise LectureError(f"{path}: is not UTF-8 text; save it as UTF-8") from None
    except tomllib.TOMLDecodeError as e:
        raise LectureError(f"{path}: not valid TOML: {e}; fix the syntax there "
                           "(the format is described at the top of lectures/superposition.toml)") from None


def _choice(doc: dict, key: str, default: str, choices: tuple[str, ...]) -> str:
    value = doc.get(key, default)
    if value not in choices:
        extra = " (a lecture is one MP4 with chapters and subtitles; render single scenes with render.py " \
                "--scene NAME --format gif, webm or mov)" if key == "format" else ""
        raise ValueError(f"{key} = {printable(json.dumps(value))} is not one of: {', '.join(choices)}{extra}")
    return value


def _global_argv(doc: dict) -> list[str]:
    """The render settings every part shares (one size, rate and codec, so parts join without re-encoding)."""
    unknown = [k for k in doc if k not in TOP_KEYS]
    if unknown:
        raise ValueError(f"unknown key '{printable(unknown[0])}'; a lecture file's top-level keys are: "
                         f"{', '.join(TOP_KEYS)} (parts go in [[part]] tables)")
    quality = _choice(doc, "quality", "low", tuple(QUALITIES))
    argv = ["--quality", quality, "--sections"]
    for key in ("format", "theme", "captions"):
        argv += [f"--{key}", _choice(doc, key, CHOICES[key][0], CHOICES[key])]
    if "resolution" in doc:
        if not isinstance(doc["resolution"], str):
            raise ValueError(f"resolution takes text like \"1280x720\", not {printable(json.dumps(doc['resolution']))}")
        argv += ["--resolution", doc["resolution"]]
    if "fps" in doc:
        if not isinstance(doc["fps"], int) or isinstance(doc["fps"], bool):
            raise ValueError(f"fps takes a whole number (e.g. fps = 30), not {printable(json.dumps(doc['fps']))}")
        argv += ["--fps", str(doc["fps"])]
    return argv


def _scene_argv(part: dict, base: Path) -> list[str]:
    scene = part["scene"]
    if not isinstance(scene, str):
        raise ValueError(f"scene takes a scene's name in quotes, e.g. scene = \"toy_wtw\"")
    if scene == CARD:
        raise ValueError("a title card is written card = \"TITLE\" (with subtitle and seconds), not scene = \"title_card\"")
    if scene not in catalogue.names():
        raise ValueError(f"unknown scene '{printable(scene)}'; choose from: {', '.join(catalogue.names())} "
                         "(render.py --list describes them)")
    _known(part, SCENE_KEYS, "a scene part")
    argv = ["--scene", scene]
    if "duration" in part:
        d = part["duration"]
        if not _number(d) or not math.isfinite(d):
            raise ValueError(f"duration takes a number of seconds (e.g. duration = 30), not {printable(json.dumps(d))}")
        argv += ["--duration", repr(float(d))]
    settings = part.get("set", {})
    if not isinstance(settings, dict):
        raise ValueError("set takes a table of scene settings, e.g. set = { steps = 3000, seed = 1 }")
    for key, value in settings.items():
        try:
            argv += ["--set", f"{key}={_text(value)}"]
        except TypeError:
            raise ValueError(f"set.{printable(key)} takes a number, true/false, text, or a list of them, "
                             f"not {printable(json.dumps(value, default=str))}") from None
    for key in ("objects", "source", "activations", "colours"):
        if key not in part:
            continue
        value = part[key]
        if not (isinstance(value, str) or key in ("objects", "colours") and isinstance(value, list)
                and all(isinstance(v, str) for v in value)):
            kind = "text or a list of texts" if key in ("objects", "colours") else "text"
            raise ValueError(f"{key} takes {kind}, not {printable(json.dumps(value, default=str))}")
        value = _text(value)
        if key == "activations" and not Path(value).is_absolute():
            value = str(base / value)  # a lecture's files are found beside it, wherever it is rendered from
        argv += [f"--{key}", value]
    return argv


def _card_argv(part: dict) -> list[str]:
    _known(part, CARD_KEYS, "a card part")
    title, subtitle, seconds = part["card"], part.get("subtitle", ""), part.get("seconds", 4.0)
    for key, value in (("card", title), ("subtitle", subtitle)):
        if not isinstance(value, str):
            raise ValueError(f"{key} takes text in quotes, not {printable(json.dumps(value, default=str))}")
    if not _number(seconds) or not math.isfinite(seconds):
        raise ValueError(f"seconds takes a number (e.g. seconds = 4), not {printable(json.dumps(seconds, default=str))}")
    return ["--scene", CARD, "--set", f"title={title}", "--set", f"subtitle={subtitle}",
            "--set", f"seconds={float(seconds)!r}"]


def _known(part: dict, keys: tuple[str, ...], what: str) -> None:
    unknown = [k for k in part if k not in keys]
    if unknown:
        raise ValueError(f"unknown key '{printable(unknown[0])}'; {what} takes: {', '.join(keys)}")


def _as_keys(error: Exception, scene: Any = None) -> str:
    """A command-line message in the lecture file's words: its keys, not the flags they become."""
    message = _FLAGS.sub(r"\1", str(error))
    if scene == CARD:
        return message.removeprefix(f"{CARD}: ").replace(f"{CARD}.", "").replace(
            f"scene '{CARD}' has no setting", "a card has no setting")
    if isinstance(scene, str):
        return message.removeprefix(f"{scene}: ").replace(f"{scene}.", "set.")
    return message


def _label(part: Any) -> str:
    if isinstance(part, dict) and isinstance(part.get("scene"), str):
        return printable(part["scene"])
    if isinstance(part, dict) and isinstance(part.get("card"), str):
        return f'card "{printable(part["card"])}"'
    return ""


def _plan(argv: list[str]) -> Plan:
    """The command line's own checks of a part (nothing built, nothing written)."""
    args: argparse.Namespace = build_parser().parse_args(argv)
    return plan(args)


def _check_name(path: Path) -> str:
    from pipeline.slides import check_deck_name
    name = path.stem
    try:
        check_deck_name(name)
    except ValueError:
        raise LectureError(f"{path}: the lecture is named after its file, and '{printable(name)}' is not a plain name "
                           "(letters, digits, '.', '_' or '-'); rename the file") from None
    if name in catalogue.CATALOGUE:
        raise LectureError(f"{path}: '{name}' is a scene's name, so the lecture's video would replace the scene's "
                           f"{name}.mp4; rename the file (e.g. {name}_lecture.toml)")
    return name


def load(path: str | Path, out: str = "media") -> Lecture:
    """The lecture in ``path``, every part checked; LectureError (one line) at the first mistake."""
    path = Path(path)
    doc = _read(path)
    name = _check_name(path)
    try:
        shared = _global_argv(doc)
        render = _render_settings(build_parser().parse_args(shared + ["--scene", CARD]))
    except (ValueError, UsageError, OptionError) as e:
        raise LectureError(f"{path}: {_as_keys(e)}") from None
    raw = doc.get("part", [])
    if not isinstance(raw, list) or not all(isinstance(p, dict) for p in raw):
        raise LectureError(f"{path}: part must be a list of tables: write each part under [[part]]")
    if not raw:
        raise LectureError(f"{path}: the lecture has no parts; add [[part]] tables, each with scene = \"NAME\" "
                           "or card = \"TITLE\"")
    parts = []
    for i, part in enumerate(raw, 1):
        where = f"{path}: part {i}" + (f" ({_label(part)})" if _label(part) else "")
        try:
            if ("scene" in part) == ("card" in part):
                raise ValueError("give either scene = \"NAME\" (a scene) or card = \"TITLE\" (a title card)")
            own = _scene_argv(part, path.parent) if "scene" in part else _card_argv(part)
            argv = tuple(own + shared)
            checked = _plan(list(argv) + ["--out", out])
        except (ValueError, UsageError, OptionError) as e:
            raise LectureError(f"{where}: {_as_keys(e, part.get('scene') if 'scene' in part else CARD)}") from None
        if "card" in part:
            duration = float(checked.scene_settings[CARD].seconds)
        else:
            duration = float(part["duration"]) if "duration" in part else None
        parts.append(Part(i, _label(part), argv, checked, card_title=part.get("card"), duration=duration))
    return Lecture(path, name, render, parts)
