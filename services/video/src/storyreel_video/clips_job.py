"""The `clips` job: one MP4 per storyboard — its frame with the camera move, its speech, and
optionally its lines burned in — saved as the storyboard's clip (replacing any earlier one).

Progress counts shots in seed 000's shape: `{total, completed, processing, pending,
percentage}` with `current_item {storyboard_id, status}`. A shot that cannot be rendered is
reported in the result (`failed`) and the others still render; only when every shot fails does
the task fail, with the first shot's error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.errors import AppError
from storyreel_core.logging import get_logger
from storyreel_video.final_cut import render_clip, save_thumbnail
from storyreel_video.library_job import LibraryJob
from storyreel_video.shot_clips import cut_shot, fetch_shot_clips, video_result
from storyreel_video.subtitles import SubtitleStyle
from storyreel_video.video_models import ClipsInput, ShotRef
from storyreel_video.video_store import MediaFile, clip_slot

log = get_logger("storyreel.video.clips")

PROGRESS_STEP = 0.25  # report a shot's encode at quarters: each report is a write and an event


class ClipsJob(LibraryJob):
    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = ClipsInput.model_validate(job.payload)
        total = len(spec.shots)
        made: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        first_error: BaseException | None = None
        with self.scratch.for_task(job.task_id) as tmp:
            for index, shot in enumerate(spec.shots):
                done = len(made) + len(failed)

                async def report(fraction: float, shot: ShotRef = shot, done: int = done) -> None:
                    await ctx.progress(
                        done,
                        total,
                        "rendering clips",
                        current_item={"storyboard_id": shot.storyboard_id, "status": "processing"},
                        processing=1,
                        pending=total - done - 1,
                        percentage=100.0 * (done + fraction) / total,
                    )

                await report(0.0)
                try:
                    doc = await self._render(job, spec, shot, Path(tmp) / str(index), report)
                except (AppError, OSError, ValueError) as exc:
                    log.warning(
                        "video.clip.failed", storyboard_id=shot.storyboard_id, error=str(exc)
                    )
                    first_error = first_error or exc
                    failed.append({"storyboard_id": shot.storyboard_id, "reason": str(exc)[:300]})
                    continue
                made.append(video_result(doc))
        if not made and first_error is not None:
            raise first_error
        return {
            "videos": made,
            "failed": failed,
            "total_count": total,
            "success_count": len(made),
            "failed_count": len(failed),
        }

    async def _render(
        self,
        job: Job,
        spec: ClipsInput,
        shot: ShotRef,
        scratch: Path,
        report: Callable[[float], Awaitable[None]],
    ) -> dict[str, Any]:
        cut = cut_shot(
            shot, fallback=spec.duration, keep_planned=False, movement=spec.camera_movement
        )
        (clip,) = await fetch_shot_clips(self.videos.objects, [shot], [cut], scratch)
        last = 0.0

        async def on_progress(fraction: float) -> None:
            nonlocal last
            if fraction - last >= PROGRESS_STEP and fraction < 1.0:
                last = fraction
                await report(fraction)

        out = await render_clip(
            clip,
            scratch / "clip.mp4",
            width=spec.width,
            height=spec.height,
            fps=spec.fps,
            ffmpeg=self.ffmpeg,
            preset=self.preset,
            on_progress=on_progress,
            subtitle_style=SubtitleStyle() if spec.subtitles else None,
            language=shot.language,
        )
        thumb = await asyncio.to_thread(
            save_thumbnail, [clip], spec.width, spec.height, scratch / "thumb.jpg"
        )
        # The drama may have been deleted while this shot rendered: store nothing then.
        await self.dramas.require(job.owner_id, spec.drama_id)
        frames = max(1, round(clip.duration * spec.fps))
        return await self.videos.save(
            job.owner_id,
            spec.drama_id,
            slot=clip_slot(shot.storyboard_id),
            task_id=job.task_id,
            files=[
                MediaFile("key", out, ".mp4", "video/mp4"),
                MediaFile("thumbnail_key", thumb, ".jpg", "image/jpeg"),
            ],
            fields={
                "kind": "clip",
                "storyboard_id": shot.storyboard_id,
                "position": shot.position,
                "source_ids": [shot.storyboard_id],
                "duration": frames / spec.fps,
                "width": spec.width,
                "height": spec.height,
                "fps": spec.fps,
                "camera_movement": clip.camera_movement,
                "transition": spec.transition,
                "has_audio": clip.audio_path is not None,
                "subtitles": spec.subtitles,
            },
        )
