"""pipeline.subtitles: frame-exact cues and chapters, SRT/WebVTT files that parse back, and a remux that
adds a soft subtitle track and chapters without touching a single video frame."""
from __future__ import annotations

import html
import json
import subprocess
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest
import srt
import webvtt

from pipeline import subtitles as S

AWKWARD = 'Neurons --> features: "cat" & <dog> é → ok'
MULTILINE = "line one\n\n  \nline two -->"
BRACES = r"set {x} in C:\new"

# fps 15: phase i starts at frame round(T_i * 15): 0, 15 (15.45), 23 (22.95), 36 (36.45), 52 (51.9),
# 52 (52.2: "blink" shows no frame), and the video has round(59.25) + 1 = 60 frames.
TIMING = [S.Phase("intro", 1.03, "A"), S.Phase("hold", 0.5, "A"), S.Phase("pause", 0.9, ""),
          S.Phase("detail", 1.03, "B"), S.Phase("blink", 0.02, "C"), S.Phase("recap", 0.47, "B")]


def ffprobe(path: Path) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-show_streams", "-of", "json", str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def track_cues(path: Path) -> list[tuple[int, int, str]]:
    """(start_ms, end_ms, text) of the first subtitle stream's packets, read raw (no ffmpeg text path)."""
    out = []
    with av.open(str(path)) as c:
        st = c.streams.subtitles[0]
        for p in c.demux(st):
            if not p.size:
                continue
            data = bytes(p)
            if st.codec_context.name == "mov_text":  # 16-bit length, text, then optional style boxes
                data = data[2:2 + int.from_bytes(data[:2], "big")]
            if data:
                out.append((round(p.pts * p.time_base * 1000), round((p.pts + p.duration) * p.time_base * 1000),
                            data.decode("utf-8")))
    return out


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """3 s at 10 fps: 30 frames."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=10", "-t", "3",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", str(path)], check=True)
    return path


# Timed for the clip: frames 0, 10, 15, 19, and round(2.9 * 10) + 1 = 30 frames in all.
CLIP_PHASES = S.phases_from_manifest([
    {"name": "sparsity_0.9", "duration_s": 1.03, "caption": AWKWARD},
    {"name": "hold", "duration_s": 0.5, "caption": AWKWARD},
    {"name": "all_together", "duration_s": 0.4, "caption": ""},
    {"name": "recap", "duration_s": 0.97, "caption": MULTILINE},
])


def test_cues_are_frame_exact_and_merge_held_captions():
    assert S.frame_bounds(TIMING, 15) == [0, 15, 23, 36, 52, 52, 60]
    assert S.cues(TIMING, 15) == [S.Cue(0.0, 23 / 15, "A"), S.Cue(36 / 15, 60 / 15, "B")]
    assert S.video_duration_s(TIMING, 15) == 4.0
    assert [S.to_ms(t) for t in (23 / 15, 36 / 15, 52 / 15, 60 / 15)] == [1533, 2400, 3466, 4000]


def test_chapters_titles_offsets_and_lecture():
    assert [(c.start_s * 15, c.end_s * 15, c.title) for c in S.chapters(TIMING, 15)] == [
        (0, 15, "Intro"), (15, 23, "Hold"), (23, 36, "Pause"), (36, 52, "Detail"), (52, 60, "Recap")]
    assert S.chapter_title("sparsity_0.9") == "Sparsity 0.9"
    assert S.chapters(TIMING[:1], 15, offset_s=10, prefix="Grid")[0] == S.Chapter(10.0, 10 + 16 / 15, "Grid: Intro")
    cues, chapters = S.lecture([("Grid", TIMING, 15), ("Toy", CLIP_PHASES, 10)])
    assert chapters[5] == S.Chapter(4.0, 5.0, "Toy: Sparsity 0.9") and chapters[-1].end_s == 7.0
    assert [(c.start_s, c.text) for c in cues[2:]] == [(4.0, AWKWARD), (4.0 + 1.9, "line one\nline two -->")]


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="fps"):
        S.cues(TIMING, 0)
    with pytest.raises(ValueError, match="'bad'"):
        S.cues([S.Phase("bad", float("nan"), "x")], 15)


def test_srt_and_vtt_parse_back_with_awkward_text(tmp_path):
    cues = S.cues(TIMING[:3] + [S.Phase("odd", 1.0, AWKWARD), S.Phase("multi", 1.0, MULTILINE)], 15)
    texts = ["A", AWKWARD, "line one\nline two -->"]
    srt_path = S.write_srt(cues, tmp_path / "a.srt")
    subs = list(srt.parse(srt_path.read_text(encoding="utf-8")))
    assert [s.content for s in subs] == texts
    assert [(s.start, s.end) for s in subs] == [(timedelta(milliseconds=S.to_ms(c.start_s)),
                                                 timedelta(milliseconds=S.to_ms(c.end_s))) for c in cues]
    vtt_path = S.write_vtt(cues, tmp_path / "a.vtt")
    caps = webvtt.read(str(vtt_path))
    assert [html.unescape(c.raw_text) for c in caps] == texts
    assert [c.start for c in caps] == ["00:00:00.000", "00:00:02.400", "00:00:03.400"]
    assert "-->" not in "".join(c.raw_text for c in caps)  # escaped, so no line can pose as a timing line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.srt", "a.vtt"]  # no temporaries left


def test_embed_mp4_adds_track_and_chapters_and_keeps_frames(clip, tmp_path):
    cues, chapters = S.cues(CLIP_PHASES, 10), S.chapters(CLIP_PHASES, 10)
    dst = S.embed(clip, cues, chapters, tmp_path / "out.mp4")
    info = ffprobe(dst)
    subs = [s for s in info["streams"] if s["codec_type"] == "subtitle"]
    assert [(s["codec_name"], s["tags"]["language"]) for s in subs] == [("mov_text", "eng")]
    assert [(c["start"], c["end"], c["tags"]["title"]) for c in info["chapters"]] == [
        (0, 1000, "Sparsity 0.9"), (1000, 1500, "Hold"), (1500, 1900, "All together"), (1900, 3000, "Recap")]
    assert track_cues(dst) == [(S.to_ms(c.start_s), S.to_ms(c.end_s), c.text) for c in cues]
    assert [c.text for c in cues] == [AWKWARD, "line one\nline two -->"]
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(dst), "-map", "0:s:0", str(tmp_path / "back.srt")], check=True)
    back = list(srt.parse((tmp_path / "back.srt").read_text(encoding="utf-8")))
    assert [(b.start, b.end, b.content) for b in back] == [
        (timedelta(milliseconds=S.to_ms(c.start_s)), timedelta(milliseconds=S.to_ms(c.end_s)), c.text) for c in cues]
    before, after = decoded(clip), decoded(dst)
    assert len(after) == len(before) == 30 and np.array_equal(after[17], before[17])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["back.srt", "out.mp4"]


def test_embed_in_place_replaces_track_and_maps_ffmpeg_quirks(clip, tmp_path):
    video = tmp_path / "v.mov"
    S.embed(clip, S.cues(CLIP_PHASES, 10), S.chapters(CLIP_PHASES, 10), video)
    cues = [S.Cue(0.0, 1.0, BRACES)]
    S.embed(video, cues, S.chapters(CLIP_PHASES[:1], 10, prefix="Lecture"), video)
    info = ffprobe(video)
    assert [s["codec_name"] for s in info["streams"] if s["codec_type"] == "subtitle"] == ["mov_text"]
    assert [c["tags"]["title"] for c in info["chapters"]] == ["Lecture: Sparsity 0.9"]
    assert track_cues(video) == [(0, 1000, "set \uff5bx\uff5d in C:\\\u2060new")] == [(0, 1000, S.track_text(BRACES))]


def test_embed_webm_writes_valid_webvtt_track(tmp_path):
    src = tmp_path / "clip.webm"
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x90:rate=10", "-t", "1",
                    "-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", str(src)], check=True)
    dst = S.embed(src, [S.Cue(0.0, 0.5, AWKWARD)], [S.Chapter(0.0, 1.1, "Only")], tmp_path / "out.webm")
    info = ffprobe(dst)
    assert [(s["codec_name"], s["tags"]["language"], s["tags"]["title"])
            for s in info["streams"] if s["codec_type"] == "subtitle"] == [("webvtt", "eng", "Captions")]
    assert [c["tags"]["title"] for c in info["chapters"]] == ["Only"]
    (text,) = [t for _, _, t in track_cues(dst)]
    assert "<" not in text and "-->" not in text and html.unescape(text) == AWKWARD


def test_failing_ffmpeg_raises_one_line_and_leaves_nothing(clip, tmp_path):
    with pytest.raises(S.SubtitleError) as err:
        S.embed(tmp_path / "missing.mp4", [S.Cue(0, 1, "x")], [S.Chapter(0, 1, "x")], tmp_path / "out.mp4")
    message = str(err.value)
    assert "\n" not in message and "out.mp4" in message and "No such file or directory" in message
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(S.SubtitleError, match="Only VP8 or VP9 or AV1 video") as err:  # ffmpeg's cause, not its wrapper
        S.embed(clip, [S.Cue(0, 1, "x")], [], tmp_path / "out.webm")
    assert "\n" not in str(err.value) and list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="out.gif"):
        S.embed(tmp_path / "missing.mp4", [], [], tmp_path / "out.gif")
