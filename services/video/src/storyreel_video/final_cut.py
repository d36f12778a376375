"""The composer: shots in, one vertical MP4 (plus SRT, ASS and a thumbnail) out.

Speed is the design constraint: the final cut must cost little more than encoding its frames
once. So there is exactly one ffmpeg process and one x264 encode. Python generates every frame
(camera motion and transitions, in yuv420p) on a thread and streams it into ffmpeg's stdin,
while the same ffmpeg reads the speech WAVs and the music bed, mixes/ducks/normalises them
(`audio_mix`), burns the ASS subtitles with libass and muxes H.264 + AAC with `+faststart`.
No per-shot intermediate encodes, no second decode.

Timing: with an overlap `td` per transition (clamped, see `timeline.effective_transition`),
the video lasts sum(durations) − (n − 1)·td; each shot's speech and subtitle cues start at
that shot's start on this timeline.

Outputs are written under temporary names in `out_dir` and renamed into place only when
everything succeeded; on failure or cancellation (ffmpeg is killed) they are removed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path

from storyreel_core.drama_models import Transition
from storyreel_core.logging import get_logger
from storyreel_video.audio_mix import AAC_ARGS, MusicBed, VoicePlacement, write_soundtrack
from storyreel_video.errors import RenderFailed
from storyreel_video.ffmpeg_runner import ProgressCallback, run_ffmpeg
from storyreel_video.frame_source import FrameSource
from storyreel_video.specs import ClipSpec, FinalCut
from storyreel_video.subtitles import SubtitleStyle, cues_from_segments, write_subtitles
from storyreel_video.thumbnail import save_thumbnail
from storyreel_video.timeline import Timeline, effective_transition

__all__ = [
    "ClipSpec",
    "FinalCut",
    "MusicBed",
    "RenderFailed",
    "SubtitleStyle",
    "compose_final_cut",
    "render_clip",
    "save_thumbnail",
]

log = get_logger(__name__)

CRF = 23  # x264's own default; peers.raw_x264_encode uses the same so timings compare


def _check_geometry(width: int, height: int, fps: int) -> None:
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError(f"width and height must be positive and even, got {width}x{height}")
    if fps <= 0:
        raise ValueError(f"fps must be positive, got {fps}")


def _video_input_args(width: int, height: int, fps: int) -> list[str]:
    return [
        "-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", f"{width}x{height}",
        "-framerate", str(fps), "-color_range", "tv", "-colorspace", "bt709",
        "-color_primaries", "bt709", "-color_trc", "bt709", "-i", "pipe:0",
    ]  # fmt: skip


def encode_args(fps: int, preset: str) -> list[str]:
    return [
        "-c:v", "libx264", "-preset", preset, "-crf", str(CRF), "-pix_fmt", "yuv420p",
        "-r", str(fps), "-color_range", "tv", "-colorspace", "bt709",
        "-color_primaries", "bt709", "-color_trc", "bt709",
        *AAC_ARGS, "-movflags", "+faststart", "-f", "mp4",
    ]  # fmt: skip


def _part(path: Path) -> Path:
    """A temporary sibling of `path` (same filesystem, so the final rename is atomic)."""
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")


def voice_placements(clips: Sequence[ClipSpec], timeline: Timeline) -> list[VoicePlacement]:
    """Each shot's speech at its shot start (absolute paths: ffmpeg runs in the work dir)."""
    return [
        VoicePlacement(Path(os.path.abspath(c.audio_path)), start, dur)
        for c, start, dur in zip(clips, timeline.starts, timeline.durations, strict=True)
        if c.audio_path is not None
    ]


async def _encode(
    clips: Sequence[ClipSpec],
    timeline: Timeline,
    out_path: Path,
    workdir: Path,
    *,
    width: int,
    height: int,
    fps: int,
    transition: Transition,
    music: bool,
    burn_ass: str | None,
    ffmpeg: str | None,
    preset: str,
    on_progress: ProgressCallback | None,
    bed: MusicBed | None = None,
) -> None:
    """The single ffmpeg run: raw frames on stdin + the mixed soundtrack → out_path."""
    voices = voice_placements(clips, timeline)
    soundtrack = await write_soundtrack(
        voices, timeline.total, workdir / "soundtrack.wav", music=music, workdir=workdir,
        ffmpeg=ffmpeg, bed=bed,
    )  # fmt: skip
    video = f"ass=filename={burn_ass}:fontsdir=fonts" if burn_ass else None
    args = [
        *_video_input_args(width, height, fps),
        "-i", soundtrack.name,
        *(["-vf", video] if video else []),
        "-map", "0:v", "-map", "1:a",
        *encode_args(fps, preset),
        "-y", str(out_path),
    ]  # fmt: skip
    source = FrameSource(clips, timeline, width=width, height=height, transition=transition)
    await run_ffmpeg(
        args,
        ffmpeg=ffmpeg,
        duration=timeline.total,
        on_progress=on_progress,
        feeder=source.feeder(),
        cwd=workdir,
    )


def _link_font(font_path: Path | None, fonts_dir: Path) -> None:
    fonts_dir.mkdir(exist_ok=True)
    if font_path is None:
        return
    target = fonts_dir / font_path.name
    try:
        target.symlink_to(font_path)
    except OSError:
        shutil.copyfile(font_path, target)


async def compose_final_cut(
    clips: Sequence[ClipSpec],
    out_dir: Path,
    *,
    width: int,
    height: int,
    fps: int,
    transition: Transition = "crossfade",
    transition_duration: float = 0.5,
    music: bool = True,
    subtitle_style: SubtitleStyle | None = None,
    language: str = "en",
    ffmpeg: str | None = None,
    on_progress: ProgressCallback | None = None,
    preset: str = "veryfast",
    burn_subtitles: bool = True,
    music_bed: MusicBed | None = None,
    title: str = "",
) -> FinalCut:
    """Render the final cut into `out_dir` (final.mp4, final.srt, final.ass, thumbnail.jpg).

    Duration = sum(shot durations) − (n − 1)·td, where td is `transition_duration` clamped to
    45% of the shortest shot (0 for "none"). `on_progress` gets 0..1 while encoding.
    The subtitles are always written (SRT and ASS) and burned in unless `burn_subtitles` is
    False; `music_bed` picks the music (an uploaded track, its level and fades) when `music`.
    The thumbnail is the shot showing most of its characters, with `title` on it.
    Raises `RenderFailed` (with ffmpeg's stderr tail) if the render fails.
    """
    _check_geometry(width, height, fps)
    if not clips:
        raise ValueError("compose_final_cut needs at least one clip")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    durations = [c.duration for c in clips]
    td = effective_transition(durations, transition_duration, transition)
    timeline = Timeline.build(durations, td, fps)

    finals = {
        "video": out_dir / "final.mp4",
        "srt": out_dir / "final.srt",
        "ass": out_dir / "final.ass",
        "thumb": out_dir / "thumbnail.jpg",
    }
    parts = {key: _part(path) for key, path in finals.items()}
    workdir = Path(tempfile.mkdtemp(prefix=".render-", dir=out_dir))
    try:
        cues = cues_from_segments(
            timeline.starts,
            [c.segments for c in clips],
            timeline.total,
            [c.figures for c in clips],
        )
        burn = workdir / "subs.ass"
        subs = await asyncio.to_thread(
            write_subtitles,
            cues,
            srt_path=parts["srt"],
            ass_path=burn,
            width=width,
            height=height,
            style=subtitle_style,
            language=language,
        )
        shutil.copyfile(burn, parts["ass"])
        _link_font(subs.font.path, workdir / "fonts")
        thumb = asyncio.create_task(
            asyncio.to_thread(
                save_thumbnail,
                clips,
                width,
                height,
                parts["thumb"],
                title=title,
                language=language,
            )
        )
        try:
            await _encode(
                clips,
                timeline,
                parts["video"],
                workdir,
                width=width,
                height=height,
                fps=fps,
                transition=transition,
                music=music,
                burn_ass=burn.name if cues and burn_subtitles else None,
                ffmpeg=ffmpeg,
                preset=preset,
                on_progress=on_progress,
                bed=music_bed,
            )
        finally:
            # The thumbnail thread cannot be interrupted; let it finish before cleaning up.
            await asyncio.wait({thumb})
        if (exc := thumb.exception()) is not None:
            raise RenderFailed(f"thumbnail failed: {exc!r}") from exc
        for key, final in finals.items():
            os.replace(parts[key], final)
    finally:
        for part in parts.values():
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
        shutil.rmtree(workdir, ignore_errors=True)
    duration = timeline.frame_count / fps
    log.info(
        "video.final_cut.done",
        path=str(finals["video"]),
        shots=len(clips),
        duration=round(duration, 3),
        cues=subs.count,
    )
    return FinalCut(
        video_path=finals["video"],
        srt_path=finals["srt"],
        ass_path=finals["ass"],
        thumbnail_path=finals["thumb"],
        duration=duration,
        subtitle_cues=subs.count,
    )


async def render_clip(
    clip: ClipSpec,
    out_path: Path,
    *,
    width: int,
    height: int,
    fps: int,
    ffmpeg: str | None = None,
    preset: str = "veryfast",
    on_progress: ProgressCallback | None = None,
    subtitle_style: SubtitleStyle | None = None,
    language: str = "en",
) -> Path:
    """Render one shot (camera motion + its speech, loudness-normalised; no music) to
    `out_path`, atomically. With a `subtitle_style` the shot's segments are burned in.
    Used by the per-shot clip API."""
    _check_geometry(width, height, fps)
    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    timeline = Timeline.build([clip.duration], 0.0, fps)
    part = _part(out_path)
    workdir = Path(tempfile.mkdtemp(prefix=".render-", dir=out_path.parent))
    try:
        burn: str | None = None
        if subtitle_style is not None:
            cues = cues_from_segments(
                timeline.starts, [clip.segments], timeline.total, [clip.figures]
            )
            if cues:
                subs = await asyncio.to_thread(
                    write_subtitles,
                    cues,
                    srt_path=workdir / "subs.srt",
                    ass_path=workdir / "subs.ass",
                    width=width,
                    height=height,
                    style=subtitle_style,
                    language=language,
                )
                _link_font(subs.font.path, workdir / "fonts")
                burn = "subs.ass"
        await _encode(
            [clip],
            timeline,
            part,
            workdir,
            width=width,
            height=height,
            fps=fps,
            transition="none",
            music=False,
            burn_ass=burn,
            ffmpeg=ffmpeg,
            preset=preset,
            on_progress=on_progress,
        )
        os.replace(part, out_path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
        shutil.rmtree(workdir, ignore_errors=True)
    return out_path
