"""The `dynamic_subtitles` job: a video + timed lines + a template → a new MP4 with them burned.

The request was checked by `subtitle_api` (the video is the caller's, the SRT parses, the
template exists); the job fetches the video (and the source's own SRT when no SRT was sent),
reads its size with ffmpeg, writes the ASS with the template through the one subtitle writer
(`subtitles.write_subtitles`: layout, escaping, fonts, face avoidance are the final cut's), and
re-encodes the picture with libass burning it (H.264, the audio as AAC, `+faststart`). Outputs
go under `renders/<task>/`, so a redelivered job overwrites them.
"""

from __future__ import annotations

import asyncio
import time
import unicodedata
from pathlib import Path
from typing import Any, Literal

import srt
from pydantic import BaseModel, Field

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.errors import ValidationFailed
from storyreel_core.scratch import ScratchSpace
from storyreel_core.stores.object_store import ObjectStore
from storyreel_core.subtitle_templates import TemplateId
from storyreel_video.errors import RenderFailed
from storyreel_video.ffmpeg_runner import run_ffmpeg
from storyreel_video.fonts import has_cjk
from storyreel_video.job_progress import percent_reporter
from storyreel_video.segment_job import link_fonts
from storyreel_video.subtitles import Cue, SubtitleStyle, split_words, write_subtitles

KIND = "dynamic_subtitles"
MAX_CUES = 5000
MAX_SECONDS = 24 * 3600  # no video we burn is longer than a day
RGB = tuple[int, int, int]


class TimedLine(BaseModel):
    """A subtitle line in video time (seconds)."""

    start: float = Field(ge=0)
    end: float = Field(gt=0)
    text: str = Field(min_length=1, max_length=2000)


class DynamicSubtitlesInput(BaseModel):
    video_key: str
    source: dict[str, str]  # what the caller named: {"asset_id", "drama_id"} | {"task_id"} | …
    # The SRT: the one the request sent (stored by `subtitle_api`: a job message stays small)
    # or the source's own.
    srt_key: str
    template: TemplateId
    font_size: int | None = Field(default=None, ge=8, le=200)
    color: RGB = (255, 255, 255)
    highlight_color: RGB = (255, 212, 0)
    outline_color: RGB = (0, 0, 0)
    box_color: RGB = (0, 0, 0)
    position: Literal["bottom", "middle", "top"] = "bottom"


def parse_srt(text: str, field: str = "srt") -> list[TimedLine]:
    """The cues of an SRT document as timed lines, in time order. Raises `ValidationFailed`
    (400 on `field`) when it does not parse, has no cue with text, or a cue ends before it
    starts. Markup players read (`<i>`, `{\\an8}`) is kept as text, as the writer escapes it."""
    try:
        subs = list(srt.parse(text.replace("\r\n", "\n").strip() + "\n"))
    except (srt.SRTParseError, ValueError, OverflowError) as exc:  # e.g. 99999999999:00:00
        raise ValidationFailed(f"{field} is not valid SRT: {exc}"[:300], field=field) from exc
    lines: list[TimedLine] = []
    for sub in subs:
        # Control characters (NUL, ESC …) are nothing a viewer reads.
        content = " ".join(
            "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in sub.content).split()
        )
        if not content:
            continue
        start, end = sub.start.total_seconds(), sub.end.total_seconds()
        if start < 0 or end > MAX_SECONDS:
            raise ValidationFailed(
                f"{field}: cue {sub.index} is outside 0-{MAX_SECONDS} s", field=field
            )
        if end <= start:
            raise ValidationFailed(
                f"{field}: cue {sub.index} ends ({sub.end}) before it starts ({sub.start})",
                field=field,
            )
        lines.append(TimedLine(start=start, end=end, text=content[:2000]))
    if not lines:
        raise ValidationFailed(f"{field} has no subtitle with text", field=field)
    if len(lines) > MAX_CUES:
        raise ValidationFailed(f"{field}: at most {MAX_CUES} cues", field=field)
    return sorted(lines, key=lambda line: line.start)


def probe_video(path: Path) -> tuple[int, int, float]:
    """(width, height, duration in seconds) of a video file, read in this process by PyAV
    (libavformat/libavcodec): the first video stream's first decoded frame gives the sides,
    swapped for a video stored turned by ±90° (its display matrix, `VideoFrame.rotation`) as
    ffmpeg's autorotation draws it; the container's duration (0.0 when it declares none).

    Raises `ValidationFailed` (400 on `video`) when the file holds no video stream or no frame
    that decodes: the caller's file is at fault. Raises `RenderFailed` (retried by the job
    runner) when the file could not be read for another reason (I/O, memory): no fault of the
    caller's, so no reason to fail the task for good.

    Why not `imageio_ffmpeg.read_frames`, as before: it starts a decoding ffmpeg with a
    pre-exec hook (a full fork of this multi-threaded service), a stderr-reader thread and a
    wall-clock deadline, and any failure of that machinery (the fork or the thread refused
    under load, the reader gone early) surfaced here as "the video could not be read", a
    permanent 400 for a file that was fine: the flaky karaoke e2e test.
    """
    import av  # here, not at the top: ~0.5 s that every start of the service would pay

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise ValidationFailed("the file holds no video stream", field="video")
            stream = container.streams.video[0]
            frame = next(container.decode(stream), None)
            if frame is None or not frame.width or not frame.height:
                raise ValidationFailed("the video has no frame that decodes", field="video")
            width, height = frame.width, frame.height
            if round(frame.rotation) % 180 == 90:  # ±90°, 270°: drawn turned on its side
                width, height = height, width
            if container.duration is not None and container.duration > 0:
                duration = container.duration / av.time_base
            elif stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)
            else:
                duration = 0.0
    except ValidationFailed:
        raise
    except (av.error.InvalidDataError, av.error.DecoderNotFoundError) as exc:
        raise ValidationFailed("the video could not be read", field="video") from exc
    except (OSError, MemoryError) as exc:  # av's own I/O and memory errors are these too
        raise RenderFailed(f"reading the video failed: {exc}"[:300]) from exc
    except av.error.FFmpegError as exc:  # any other decoding error: the file's content
        raise ValidationFailed("the video could not be read", field="video") from exc
    return width, height, float(duration)


class DynamicSubtitlesJob:
    def __init__(
        self,
        objects: ObjectStore,
        *,
        ffmpeg: str | None,
        preset: str,
        scratch: ScratchSpace | None = None,
    ) -> None:
        self.objects = objects
        self.ffmpeg = ffmpeg
        self.preset = preset
        self.scratch = scratch or ScratchSpace.in_temp("video")

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = DynamicSubtitlesInput.model_validate(job.payload)
        began = time.monotonic()
        with self.scratch.for_task(job.task_id) as tmp:
            work = Path(tmp)
            await ctx.progress(0, 100, "fetching video")
            source = await self.objects.download(spec.video_key, work / "source.mp4")
            text = (await self.objects.get_bytes(spec.srt_key)).decode("utf-8", "replace")
            lines = parse_srt(text, "srt")
            width, height, duration = await asyncio.to_thread(probe_video, source)
            if width % 2 or height % 2:  # yuv420p needs even sides: round down a pixel
                width, height = width - width % 2, height - height % 2
            cues = [Cue(line.start, line.end, line.text) for line in lines]
            if duration:
                cues = [c for c in cues if c.start < duration]
            style = SubtitleStyle(
                font_size=spec.font_size,
                color=spec.color,
                outline_color=spec.outline_color,
                position=spec.position,
                template=spec.template,
                highlight_color=spec.highlight_color,
                box_color=spec.box_color,
            )
            language = "zh" if has_cjk("".join(c.text for c in cues)) else "en"
            files = await asyncio.to_thread(
                write_subtitles,
                cues,
                srt_path=work / "subtitles.srt",
                ass_path=work / "subs.ass",
                width=width,
                height=height,
                style=style,
                language=language,
            )
            ass_text = (work / "subs.ass").read_text("utf-8")
            await asyncio.to_thread(
                link_fonts, str(files.font.path or ""), ass_text, work / "fonts"
            )
            await ctx.progress(5, 100, "burning subtitles")
            out = work / "subtitled.mp4"
            args = [
                "-i", "source.mp4", "-map", "0:v:0", "-map", "0:a:0?",
                "-vf", f"crop={width}:{height}:0:0,ass=filename=subs.ass:fontsdir=fonts",
                "-c:v", "libx264", "-preset", self.preset, "-crf", "20",
                "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "160k",
                "-movflags", "+faststart", "-y", out.name,
            ]  # fmt: skip
            report = percent_reporter(ctx, "burning subtitles")

            async def progress(fraction: float) -> None:
                await report(0.05 + 0.9 * fraction)

            try:
                await run_ffmpeg(
                    args, ffmpeg=self.ffmpeg, duration=duration or None,
                    on_progress=progress, cwd=work,
                )  # fmt: skip
            except RenderFailed as exc:
                raise RenderFailed(f"burning the subtitles failed: {exc}") from exc
            prefix = f"renders/{job.task_id}/"
            info = await self.objects.put_file(f"{prefix}subtitled.mp4", out, "video/mp4")
            await self.objects.put_file(
                f"{prefix}subtitled.srt", work / "subtitles.srt", "application/x-subrip"
            )
            await self.objects.put_file(f"{prefix}subtitled.ass", work / "subs.ass", "text/x-ssa")
        words = sum(len(split_words(c.text)) for c in cues)
        return {
            "video_key": f"{prefix}subtitled.mp4",
            "original_video_key": spec.video_key,
            "subtitle_key": f"{prefix}subtitled.srt",
            "ass_key": f"{prefix}subtitled.ass",
            "template": spec.template,
            "duration": duration,
            "width": width,
            "height": height,
            "file_size": info.size,
            "source": spec.source,
            "processing_info": {
                "segments_processed": len(cues),
                "subtitle_events": files.count,
                "words_generated": words,
                "processing_time_seconds": round(time.monotonic() - began, 3),
                "output_file_size_mb": round(info.size / 1e6, 2),
            },
        }
