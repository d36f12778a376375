"""The `clips` job: one MP4 per storyboard — its frame with the camera move, its speech, and
optionally its lines burned in — saved as the storyboard's clip (replacing any earlier one).

Progress counts shots in seed 000's shape: `{total, completed, processing, pending,
percentage}` with `current_item {storyboard_id, status}`. A shot that cannot be rendered is
reported in the result (`failed`) and the others still render; only when every shot fails does
the task fail, with the first shot's error.

A shot whose storyboard names an uploaded video plays it (`uploaded_clips`; the result's
`uploads`). Otherwise, with `video_provider`, its motion comes from that video model
(`model_motion`; the first half of the shot's progress), else camera motion over the still; a
shot whose model clip failed keeps camera motion and is listed in the result's
`motion.kept_camera_motion`; `motion.shot_clips` names who made each clip
(`model_motion.motion_result`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.errors import AppError
from storyreel_core.logging import get_logger
from storyreel_core.providers.ports import VideoModel
from storyreel_core.providers.registry import ModelChoice
from storyreel_core.providers.usage import UsageLedger
from storyreel_video.final_cut import render_clip, save_thumbnail
from storyreel_video.library_job import LibraryJob
from storyreel_video.model_motion import (
    Motion,
    MotionShot,
    animate,
    motion_prompt,
    motion_result,
)
from storyreel_video.shot_clips import cut_shot, fetch_shot_clips, video_result
from storyreel_video.subtitles import SubtitleStyle
from storyreel_video.uploaded_clips import play_uploads, uploads_result
from storyreel_video.video_models import ClipsInput, ShotRef
from storyreel_video.video_store import MediaFile, clip_slot, drama_prefix

log = get_logger("storyreel.video.clips")

PROGRESS_STEP = 0.25  # report a shot's encode at quarters: each report is a write and an event
MOTION_SHARE = 0.5  # of a shot's progress: its clip from the video model, when there is one


class ClipsJob(LibraryJob):
    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = ClipsInput.model_validate(job.payload)
        total = len(spec.shots)
        made: list[dict[str, Any]] = []
        failed: list[dict[str, Any]] = []
        first_error: BaseException | None = None
        ledger = UsageLedger()
        choice, model = self._video_model(spec, ledger)
        animated: list[Motion] = []
        uploads: list[Motion] = []
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
                    doc = await self._render(
                        job, spec, shot, Path(tmp) / str(index), report, model, animated, uploads
                    )
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
        extra: dict[str, Any] = {}
        played = Motion(
            clips=[],
            keys=[k for u in uploads for k in u.keys],
            fell_back=[f for u in uploads for f in u.fell_back],
        )
        if choice is not None:
            kept = [f for m in animated for f in m.fell_back]
            attempts = [a for m in animated for a in m.failed_attempts]
            # A shot whose clip was made but whose render failed later is in `failed`.
            shot_clips = [c for m in animated for c in m.made if c["shot_id"] in _ids(made)]
            motion = motion_result(choice.provider, choice.model, shot_clips, kept, attempts)
            extra = {"motion": motion, **ledger.summary()}
        extra.update(uploads_result(played))
        return {
            **extra,
            "videos": made,
            "failed": failed,
            "total_count": total,
            "success_count": len(made),
            "failed_count": len(failed),
        }

    def _video_model(
        self, spec: ClipsInput, ledger: UsageLedger
    ) -> tuple[ModelChoice | None, VideoModel | None]:
        """The request's video model (managed), or (None, None) for camera motion."""
        if self.providers is None or not spec.video_provider:
            return None, None
        choice = self.providers.resolve(
            "video",
            spec.video_provider,
            spec.video_model,
            field="video_provider",
            model_field="video_model",
        )
        if choice.offline:
            return None, None
        return choice, self.providers.video_model(choice, ledger)

    async def _render(
        self,
        job: Job,
        spec: ClipsInput,
        shot: ShotRef,
        scratch: Path,
        report: Callable[[float], Awaitable[None]],
        model: VideoModel | None = None,
        animated: list[Motion] | None = None,
        uploaded: list[Motion] | None = None,
    ) -> dict[str, Any]:
        cut = cut_shot(
            shot, fallback=spec.duration, keep_planned=False, movement=spec.camera_movement
        )
        (clip,) = await fetch_shot_clips(self.videos.objects, [shot], [cut], scratch)
        store_prefix = f"{drama_prefix(spec.drama_id)}clips/"
        uploads = await play_uploads(
            self.videos.objects,
            [clip],
            [shot.video_key],
            [shot.storyboard_id],
            width=spec.width,
            height=spec.height,
            fps=spec.fps,
            scratch=scratch / "upload",
            store_prefix=store_prefix,
            ffmpeg=self.ffmpeg,
        )
        clip = uploads.clips[0]
        if uploaded is not None:
            uploaded.append(uploads)
        share = 0.0
        if model is not None and clip.video_path is None:
            share = MOTION_SHARE

            async def motion_progress(_shot: str, fraction: float, _done: int) -> None:
                await report(MOTION_SHARE * fraction)

            moved: Motion = await animate(
                model,
                self.videos.objects,
                [clip],
                [MotionShot(shot.storyboard_id, motion_prompt(shot.prompt, shot.narration))],
                width=spec.width,
                height=spec.height,
                fps=spec.fps,
                scratch=scratch / "motion",
                store_prefix=store_prefix,
                ffmpeg=self.ffmpeg,
                on_progress=motion_progress,
            )
            clip = moved.clips[0]
            if animated is not None:
                animated.append(moved)
        last = 0.0

        async def on_progress(fraction: float) -> None:
            nonlocal last
            if fraction - last >= PROGRESS_STEP and fraction < 1.0:
                last = fraction
                await report(share + (1.0 - share) * fraction)

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


def _ids(videos: list[dict[str, Any]]) -> set[str]:
    return {str(v.get("storyboard_id", "")) for v in videos}
