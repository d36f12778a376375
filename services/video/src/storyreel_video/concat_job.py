"""The `concatenate` job: videos joined in order into one new video.

One ffmpeg run decodes every input, fits each to the output size (cover: scale, centre-crop)
and rate, and joins them — a plain `concat` for hard cuts, or chained `xfade`/`acrossfade`
for transitions — into one H.264/AAC encode with `+faststart`. Each input's audio is padded
or trimmed to its picture's length first, so sound stays on its picture however many clips
are joined. Duration: sum(durations) − (n − 1)·td, td clamped as in the final cut.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import Transition
from storyreel_video.ffmpeg_runner import ProgressCallback, run_ffmpeg
from storyreel_video.final_cut import encode_args
from storyreel_video.job_progress import percent_reporter
from storyreel_video.library_job import LibraryJob
from storyreel_video.shot_clips import video_result
from storyreel_video.timeline import effective_transition
from storyreel_video.video_models import ConcatInput, ConcatSource
from storyreel_video.video_store import MediaFile

TRANSITION_SECONDS = 0.5
# Our transition names → ffmpeg's xfade names ("crossfade" is xfade's "fade").
XFADE = {
    "crossfade": "fade",
    "fade": "fadeblack",
    "wipeleft": "wipeleft",
    "wiperight": "wiperight",
    "slideup": "slideup",
    "dissolve": "dissolve",
}


def concat_filter(
    durations: list[float], *, width: int, height: int, fps: int, transition: Transition, td: float
) -> str:
    """The filtergraph joining inputs 0..n-1 into [v] and [a]."""
    parts: list[str] = []
    for i, d in enumerate(durations):
        parts.append(
            f"[{i}:v:0]scale={width}:{height}:force_original_aspect_ratio=increase,"
            f"crop={width}:{height},setsar=1,fps={fps},format=yuv420p,"
            f"trim=duration={d:.6f},setpts=PTS-STARTPTS,settb=AVTB[v{i}]"
        )
        parts.append(
            f"[{i}:a:0]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,"
            f"apad,atrim=duration={d:.6f},asetpts=PTS-STARTPTS[a{i}]"
        )
    n = len(durations)
    if n == 1:
        parts.append("[v0]null[v];[a0]anull[a]")
    elif td <= 0 or transition == "none":
        joined = "".join(f"[v{i}][a{i}]" for i in range(n))
        parts.append(f"{joined}concat=n={n}:v=1:a=1[v][a]")
    else:
        kind = XFADE.get(transition, "fade")
        video, audio, length = "v0", "a0", durations[0]
        for i in range(1, n):
            out_v = "v" if i == n - 1 else f"xv{i}"
            out_a = "a" if i == n - 1 else f"xa{i}"
            offset = length - td
            parts.append(
                f"[{video}][v{i}]xfade=transition={kind}:duration={td:.6f}:"
                f"offset={offset:.6f}[{out_v}]"
            )
            parts.append(f"[{audio}][a{i}]acrossfade=d={td:.6f}:c1=tri:c2=tri[{out_a}]")
            video, audio, length = out_v, out_a, length + durations[i] - td
    return ";".join(parts)


async def concatenate(
    inputs: list[Path],
    durations: list[float],
    out_path: Path,
    *,
    width: int,
    height: int,
    fps: int,
    transition: Transition,
    ffmpeg: str | None,
    preset: str,
    on_progress: ProgressCallback | None = None,
) -> float:
    """Join `inputs` into `out_path`; returns the output's duration in seconds."""
    td = effective_transition(durations, TRANSITION_SECONDS, transition)
    graph = concat_filter(
        durations, width=width, height=height, fps=fps, transition=transition, td=td
    )
    total = sum(durations) - (len(durations) - 1) * td
    args: list[str] = []
    for path in inputs:
        args += ["-i", str(path)]
    args += ["-filter_complex", graph, "-map", "[v]", "-map", "[a]"]
    args += [*encode_args(fps, preset), "-y", str(out_path)]
    await run_ffmpeg(args, ffmpeg=ffmpeg, duration=total, on_progress=on_progress)
    return round(total * fps) / fps


async def grab_thumbnail(
    video: Path, duration: float, out_path: Path, *, ffmpeg: str | None
) -> Path:
    """A JPEG of the frame about a second in (30% in for short videos)."""
    at = min(1.0, 0.3 * duration)
    await run_ffmpeg(
        ["-ss", f"{at:.3f}", "-i", str(video), "-frames:v", "1", "-q:v", "3", "-y", str(out_path)],
        ffmpeg=ffmpeg,
    )
    return out_path


class ConcatJob(LibraryJob):
    async def _fetch(self, sources: list[ConcatSource], scratch: Path) -> list[Path]:
        local: dict[str, Path] = {}
        for source in sources:  # a video joined twice is downloaded once
            if source.video_id not in local:
                path = scratch / f"{source.video_id}.mp4"
                local[source.video_id] = await self.videos.objects.download(source.key, path)
        return [local[s.video_id] for s in sources]

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = ConcatInput.model_validate(job.payload)
        on_progress = percent_reporter(ctx, "joining videos", every=10)

        with self.scratch.for_task(job.task_id) as tmp:
            scratch = Path(tmp)
            await ctx.progress(0, 100, "fetching videos")
            inputs = await self._fetch(spec.sources, scratch)
            out = scratch / "joined.mp4"
            duration = await concatenate(
                inputs,
                [s.duration for s in spec.sources],
                out,
                width=spec.width,
                height=spec.height,
                fps=spec.fps,
                transition=spec.transition,
                ffmpeg=self.ffmpeg,
                preset=self.preset,
                on_progress=on_progress,
            )
            thumb = await grab_thumbnail(out, duration, scratch / "thumb.jpg", ffmpeg=self.ffmpeg)
            await self.dramas.require(job.owner_id, spec.drama_id)
            doc = await self.videos.save(
                job.owner_id,
                spec.drama_id,
                slot=f"concat:{job.task_id}",
                task_id=job.task_id,
                files=[
                    MediaFile("key", out, ".mp4", "video/mp4"),
                    MediaFile("thumbnail_key", thumb, ".jpg", "image/jpeg"),
                ],
                fields={
                    "kind": "concat",
                    "storyboard_id": "",
                    "source_ids": [s.video_id for s in spec.sources],
                    "duration": duration,
                    "width": spec.width,
                    "height": spec.height,
                    "fps": spec.fps,
                    "camera_movement": "",
                    "transition": spec.transition,
                    "has_audio": True,
                },
            )
        return {"video": video_result(doc)}
