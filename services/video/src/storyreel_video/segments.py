"""The final cut as segments: one independently decodable H.264 piece per shot, joined by copy.

Segment i holds output frames [b_i, b_(i+1)) of the cut: shot i from the end of the transition
into it, through the transition into shot i+1 (so it draws the start of shot i+1). With shot
starts S_i and overlap td (see `timeline`),

    b_0 = 0,  b_i = ceil((S_i + td) · fps)  (0 < i < n),  b_n = round(total · fps)

so the first frame of segment i shows shot i alone, the segments' frame counts add up to the
single-pass count exactly, and each frame is sampled at the same time k/fps as in one pass.
A segment's pixels are a pure function of what `SegmentInput` holds (its one or two stills by
content hash, their moves and durations, the transition, where it starts in shot i, its frame
count, its subtitle events, size, fps, preset and the encoder), so a hash of that is its cache
key (`segment_key`): a render after a one-shot edit encodes the one or two segments that
draw that shot and reuses the rest.

Every segment is encoded with identical x264 settings and starts with an IDR frame (x264's GOPs
are closed), so the concat demuxer can join them with stream copy; the stitch (`stitch`) adds
the soundtrack, mixed once for the whole cut, and `+faststart`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pysubs2
from pydantic import BaseModel, Field

from storyreel_core.drama_models import CameraMovement, Transition
from storyreel_video.ffmpeg_runner import ProgressCallback, resolve_ffmpeg, run_ffmpeg
from storyreel_video.frame_source import FrameSource
from storyreel_video.specs import ClipSpec
from storyreel_video.timeline import Timeline

SEGMENT_FORMAT = 2
"""Bumped whenever how a segment is drawn or encoded changes: old cache entries then miss."""

CRF = 23  # x264's default, as the single-pass encode (final_cut.CRF)


class SegmentShot(BaseModel):
    """A shot a segment draws: its still (by key, and by content for the cache), move, length,
    and, when a video model animated it, its conformed clip (by key and content), drawn
    instead of the camera move."""

    frame_key: str
    frame_sha256: str = Field(min_length=64, max_length=64)
    duration: float = Field(gt=0, le=120)
    camera_movement: CameraMovement = "static"
    clip_key: str = ""
    clip_sha256: str = Field(default="", pattern=r"^([0-9a-f]{64})?$")


class SegmentInput(BaseModel):
    """The `segment` job: encode frames [first_frame, first_frame + frame_count) of a cut.

    `shots` is shot i and, when the segment ends in a transition, shot i+1; `start` is the
    time of the segment's first frame in seconds from shot i's start; `ass` is an ASS script
    holding the subtitle events visible in the segment at cut time ("" burns nothing), which
    libass renders from cut frame `ass_from` on (see `window_ass`).
    The encoded MP4 (video only) is published under `key`.
    """

    key: str
    shots: list[SegmentShot] = Field(min_length=1, max_length=2)
    transition: Transition = "crossfade"
    transition_seconds: float = Field(default=0.0, ge=0)
    first_frame: int = Field(ge=0)
    start: float = Field(ge=0)
    frame_count: int = Field(ge=1, le=200_000)
    width: int = Field(ge=16, le=4096)
    height: int = Field(ge=16, le=4096)
    fps: int = Field(ge=1, le=60)
    preset: str = "veryfast"
    ass: str = ""
    ass_from: int = Field(default=0, ge=0)
    font_path: str = ""


STILL_COST = 0.5
"""What a frame of a still shot (no camera move, no clip) costs to draw and encode, as a share
of a moving shot's frame: it is drawn once and x264 finds nothing moving in it. Measured on
one core at 720×1280, veryfast, 96 frames: 1.06 CPU s still, 1.8–2.5 s under a camera move."""


def encode_cost(spec: SegmentInput) -> float:
    """A segment's encoding cost in moving-frame units: its frames, libass's priming frames,
    each at the cost of the shot it mostly shows (the segment's first). For ordering work,
    not for billing: the dearest segments are queued first so the last one is cheap."""
    first = spec.shots[0]
    moving = first.camera_movement != "static" or bool(first.clip_key)
    frames = spec.frame_count + (max(0, spec.first_frame - spec.ass_from) if spec.ass else 0)
    return frames * (1.0 if moving else STILL_COST)


@dataclass(frozen=True)
class SegmentWindow:
    """Where segment `index` sits in the cut: frames [first_frame, first_frame + frame_count),
    the first one `start` seconds into shot `index`."""

    index: int
    first_frame: int
    frame_count: int
    start: float


def plan_windows(timeline: Timeline) -> list[SegmentWindow]:
    """One window per shot, frame-exact (see the module docstring); windows of very short
    shots may be empty only if a shot is shorter than one frame, which `Timeline` forbids."""
    fps, td, starts = timeline.fps, timeline.transition, timeline.starts
    n = len(starts)
    bounds = [0]
    for i in range(1, n):
        # The small slack keeps a boundary that falls exactly on a frame on that frame.
        bounds.append(math.ceil((starts[i] + td) * fps - 1e-6))
    bounds.append(timeline.frame_count)
    windows = []
    for i in range(n):
        first, end = bounds[i], max(bounds[i], bounds[i + 1])
        # Microsecond precision: the value the key hashes is the value the frames are drawn at.
        start = round(max(0.0, first / fps - starts[i]), 6)
        windows.append(SegmentWindow(i, first, end - first, start))
    return windows


@functools.cache
def encoder_version(ffmpeg: str | None = None) -> str:
    """ffmpeg's version line (it names the libx264 build it carries): part of every key."""
    exe = resolve_ffmpeg(ffmpeg)
    try:
        out = subprocess.run(
            [exe, "-hide_banner", "-version"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return Path(exe).name
    return out.splitlines()[0] if out else Path(exe).name


def segment_key(spec: SegmentInput, *, prefix: str, encoder: str) -> str:
    """The object key of the segment `spec` describes: a SHA-256 of everything that decides
    its pixels (stills by content, never by key) under `prefix` (the cache's folder, which
    ends with "/")."""
    material = spec.model_dump(mode="json", exclude={"key", "font_path"})
    for shot in material["shots"]:
        shot.pop("frame_key")
        shot.pop("clip_key")
        if not shot["clip_sha256"]:
            shot.pop("clip_sha256")  # a still's segment keeps the key it had before clips
    material["encoder"] = encoder
    material["format"] = SEGMENT_FORMAT
    digest = hashlib.sha256(
        json.dumps(material, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return f"{prefix}{digest}.mp4"


def window_ass(
    full: pysubs2.SSAFile, first_frame: int, frame_count: int, fps: int
) -> tuple[str, int]:
    """The subtitle events of `full` (cut time) a window needs, with the header and styles,
    as ASS text ("" when none shows in it), and the frame libass must start rendering from.

    Times stay cut time and the segment's frames are stamped at cut time, so every line is
    laid out and timed as in one pass. libass places a line once, on the first frame it
    shows, clear of the lines already on screen then (and keeps it there), so the events kept
    are those visible in the window plus, transitively, every event on screen when one of
    them first showed; rendering starts at the first frame of the earliest of them (those
    priming frames are dropped before the encoder). Lines that never share the screen (the
    usual case: speech ends before its shot's transition) keep each segment to its own.
    """
    begin_ms = first_frame * 1000 / fps
    end_ms = (first_frame + frame_count) * 1000 / fps
    events = sorted(full.events, key=lambda e: (e.start, e.end))

    def first_shown_ms(e: pysubs2.SSAEvent) -> float:
        return math.ceil(e.start * fps / 1000 - 1e-9) * 1000 / fps

    keep = {i for i, e in enumerate(events) if e.end > begin_ms and e.start < end_ms}
    if not keep:
        return "", first_frame
    todo = list(keep)
    while todo:
        shown = first_shown_ms(events[todo.pop()])
        for j, f in enumerate(events):
            if j not in keep and f.start <= shown < f.end:
                keep.add(j)
                todo.append(j)
    chosen = [events[i] for i in sorted(keep)]
    part = pysubs2.SSAFile()
    part.info.update(full.info)
    part.styles = {name: style.copy() for name, style in full.styles.items()}
    part.events = [e.copy() for e in chosen]
    text: str = part.to_string("ass")
    prime_from = min(first_frame, max(0, math.floor(min(e.start for e in chosen) * fps / 1000)))
    return text, prime_from


def _video_args(width: int, height: int, fps: int) -> list[str]:
    return [
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", f"{width}x{height}",
        "-framerate", str(fps), "-color_range", "tv", "-colorspace", "bt709",
        "-color_primaries", "bt709", "-color_trc", "bt709", "-i", "pipe:0",
    ]  # fmt: skip


def segment_encode_args(fps: int, preset: str) -> list[str]:
    """x264 settings shared by every segment (what lets the stitch copy them end to end).
    x264's GOPs are closed by default, and each encode starts with an IDR frame.

    One x264 thread per segment: segments are encoded side by side, one per usable core (the
    video service's segment slots), and a short encode spends ~16 % more CPU per frame with
    frame threads (the pipeline fills and drains every 84 frames) — measured at 720×1280,
    veryfast: 23.0 ms/frame with x264's default threads, 19.4 ms with one. A single-threaded
    encode is also deterministic, so a segment's bytes depend on its input alone, whichever
    machine encoded it."""
    return [
        "-c:v", "libx264", "-threads", "1", "-preset", preset, "-crf", str(CRF),
        "-pix_fmt", "yuv420p",
        "-r", str(fps), "-x264-params", "open-gop=0", "-color_range", "tv",
        "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
        "-an", "-f", "mp4",
    ]  # fmt: skip


async def encode_segment(
    spec: SegmentInput,
    stills: Sequence[Path],
    out_path: Path,
    *,
    workdir: Path,
    ffmpeg: str | None = None,
    on_progress: ProgressCallback | None = None,
    videos: Sequence[Path | None] = (),
) -> Path:
    """Draw and encode the segment `spec` describes from local `stills` (one per spec shot,
    each the picture its `frame_sha256` names: `produce_segment` checks, and the camera keeps
    decoded stills by that hash) and, for shots a model animated, their local conformed
    clips (`videos`, None elsewhere).

    With subtitles, `workdir` must hold `subs.ass` and a `fonts/` folder (libass reads them).
    Raises `RenderFailed` when ffmpeg or the frames fail; `out_path` may then be partial, so
    callers write to a temporary name and publish only on success.
    """
    durations = [s.duration for s in spec.shots]
    timeline = Timeline.build(durations, spec.transition_seconds, spec.fps)
    local = list(videos) or [None] * len(stills)
    clips = [
        ClipSpec(
            image_path=path,
            duration=s.duration,
            camera_movement=s.camera_movement,
            video_path=v,
            image_sha256=s.frame_sha256,
        )
        for path, s, v in zip(stills, spec.shots, local, strict=True)
    ]
    source = FrameSource(
        clips,
        timeline,
        width=spec.width,
        height=spec.height,
        transition=spec.transition,
        start=spec.start,
        count=spec.frame_count,
    )
    filters = []
    priming = 0
    if spec.ass:
        # Frames stamped at cut time for libass, the priming frames dropped, then back to 0
        # for the segment's own clock.
        priming = max(0, spec.first_frame - spec.ass_from)
        filters = [
            f"setpts=PTS+{spec.first_frame - priming}/(FRAME_RATE*TB)",
            "ass=filename=subs.ass:fontsdir=fonts",
            *([f"trim=start_frame={priming}"] if priming else []),
            "setpts=PTS-STARTPTS",
        ]
    args = [
        *_video_args(spec.width, spec.height, spec.fps),
        *(["-vf", ",".join(filters)] if filters else []),
        *segment_encode_args(spec.fps, spec.preset),
        "-y",
        str(out_path),
    ]
    await run_ffmpeg(
        args,
        ffmpeg=ffmpeg,
        duration=spec.frame_count / spec.fps,
        on_progress=on_progress,
        feeder=source.feeder(lead=priming),
        cwd=workdir,
    )
    return out_path


def concat_list(paths: Sequence[Path], frame_counts: Sequence[int], fps: int) -> str:
    """The concat demuxer's script naming `paths` (absolute; quotes escaped), each with its
    exact duration. The demuxer offsets each file by the durations before it, in
    microseconds; read from the files (whose B-frame edit lists it measures loosely) they can
    be off by a fraction of a frame, so each is given as the difference of the rounded frame
    times of its ends: every offset is then its exact frame time to half a microsecond, which
    lands on the exact tick of the stream's time base."""
    lines = ["ffconcat version 1.0"]
    frame = 0
    for path, count in zip(paths, frame_counts, strict=True):
        quoted = str(Path(path).resolve()).replace("'", "'\\''")
        begin_us = round(frame * 1_000_000 / fps)
        frame += count
        micros = round(frame * 1_000_000 / fps) - begin_us
        lines.append(f"file '{quoted}'")
        lines.append(f"duration {micros // 1_000_000}.{micros % 1_000_000:06d}")
    return "\n".join(lines) + "\n"


async def stitch(
    segments: Sequence[Path],
    frame_counts: Sequence[int],
    soundtrack: Path,
    out_path: Path,
    *,
    fps: int,
    duration: float,
    workdir: Path,
    ffmpeg: str | None = None,
    on_progress: ProgressCallback | None = None,
) -> Path:
    """Join encoded segments (`frame_counts[i]` frames each, at `fps`) and the soundtrack
    (AAC, `soundtrack_cache`) with stream copy — nothing is encoded — into one MP4 with
    `+faststart`; `duration` (seconds) scales progress. Raises `RenderFailed`."""
    listing = workdir / "segments.ffconcat"
    listing.write_text(concat_list(segments, frame_counts, fps), encoding="utf-8")
    args = [
        "-f", "concat", "-safe", "0", "-i", str(listing),
        "-i", str(soundtrack),
        "-map", "0:v", "-map", "1:a",
        "-c:v", "copy", "-c:a", "copy",
        "-movflags", "+faststart", "-f", "mp4", "-y", str(out_path),
    ]  # fmt: skip
    await run_ffmpeg(args, ffmpeg=ffmpeg, duration=duration, on_progress=on_progress, cwd=workdir)
    return out_path
