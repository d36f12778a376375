"""The `final_cut` job: stills + speech → one MP4 with motion, transitions, subtitles, music.

Inputs are fetched from the object store into a scratch folder (ffmpeg reads only local files);
the picture is rendered as segments by any video worker and stitched here
(`segmented_cut.compose_segmented_cut`); outputs go back under keys derived from the task, so a
rerun overwrites rather than duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import CameraMovement, FigureBox, SpeechSegment, Transition
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.scratch import ScratchSpace
from storyreel_core.stores.object_store import ObjectStore
from storyreel_core.subtitle_templates import TemplateId
from storyreel_video.job_progress import percent_reporter
from storyreel_video.model_motion import MotionShot, motion_for_job, motion_prompt
from storyreel_video.segmented_cut import SegmentRunner, compose_segmented_cut
from storyreel_video.specs import ClipSpec
from storyreel_video.subtitles import SubtitleStyle


class CutShot(BaseModel):
    shot_id: str
    frame_key: str
    audio_key: str | None = None
    duration: float = Field(gt=0.2, le=120)
    camera_movement: CameraMovement = "static"
    segments: list[SpeechSegment] = Field(default_factory=list)
    figures: list[FigureBox] = Field(default_factory=list, max_length=32)
    prompt: str = Field(default="", max_length=4000)  # what a video model is told to animate


class FinalCutInput(BaseModel):
    shots: list[CutShot] = Field(min_length=1, max_length=200)
    width: int = Field(default=720, ge=64, le=4096)
    height: int = Field(default=1280, ge=64, le=4096)
    fps: int = Field(default=24, ge=1, le=60)
    transition: Transition = "crossfade"
    # Seconds two neighbouring shots overlap (capped by the shortest shot, `timeline`).
    transition_duration: float = Field(default=0.5, ge=0, le=5)
    music: bool = True
    language: str = "en"
    title: str = ""  # set on the thumbnail (at most three lines are drawn)
    # A configured video provider (GET /providers) and model: each shot's motion comes from
    # it (`model_motion`); empty = camera motion over the stills.
    video_provider: str = Field(default="", max_length=64)
    video_model: str = Field(default="", max_length=200)
    budget: float | None = Field(default=None, ge=0)
    # A dynamic subtitle template (`storyreel_core.subtitle_templates`); "classic" = none.
    subtitle_template: TemplateId = "classic"


OUTPUTS = {
    "video_key": ("final.mp4", "video/mp4"),
    "subtitle_key": ("final.srt", "application/x-subrip"),
    "ass_key": ("final.ass", "text/x-ssa"),
    "thumbnail_key": ("thumbnail.jpg", "image/jpeg"),
}


async def fetch_clips(
    objects: ObjectStore, shots: Sequence[CutShot], scratch: Path
) -> list[ClipSpec]:
    """Download each shot's still (and speech) into `scratch`: ffmpeg reads local files only."""
    clips = []
    for shot in shots:
        image = await objects.download(shot.frame_key, scratch / f"{shot.shot_id}.png")
        audio = None
        if shot.audio_key:
            audio = await objects.download(shot.audio_key, scratch / f"{shot.shot_id}.wav")
        clips.append(
            ClipSpec(
                image_path=image,
                duration=shot.duration,
                camera_movement=shot.camera_movement,
                audio_path=audio,
                segments=shot.segments,
                figures=tuple(shot.figures),
            )
        )
    return clips


class FinalCutJob:
    def __init__(
        self,
        objects: ObjectStore,
        segments: SegmentRunner,
        *,
        ffmpeg: str | None,
        preset: str,
        scratch: ScratchSpace | None = None,
        providers: ProviderRegistry | None = None,
    ) -> None:
        self.objects = objects
        self.segments = segments
        self.ffmpeg = ffmpeg
        self.preset = preset
        self.scratch = scratch or ScratchSpace.in_temp("video")
        self.providers = providers

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = FinalCutInput.model_validate(job.payload)
        on_progress = percent_reporter(ctx, "encoding")

        # Under the data dir, by task: a SIGKILL leaves it where start-up clears it.
        with self.scratch.for_task(job.task_id) as scratch:
            await ctx.progress(0, 100, "fetching media")
            clips = await fetch_clips(self.objects, spec.shots, scratch)
            moved = await motion_for_job(
                ctx,
                self.providers,
                self.objects,
                clips,
                [
                    MotionShot(s.shot_id, motion_prompt(s.prompt, *(g.text for g in s.segments)))
                    for s in spec.shots
                ],
                video_provider=spec.video_provider,
                video_model=spec.video_model,
                budget=spec.budget,
                width=spec.width,
                height=spec.height,
                fps=spec.fps,
                scratch=scratch / "motion",
                store_prefix=f"cache/clips/{job.owner_id}/",
                ffmpeg=self.ffmpeg,
            )
            rendered = await compose_segmented_cut(
                moved.clips,
                [shot.frame_key for shot in spec.shots],
                scratch / "out",
                runner=self.segments,
                owner_id=job.owner_id,
                parent_id=job.task_id,
                width=spec.width,
                height=spec.height,
                fps=spec.fps,
                transition=spec.transition,
                transition_duration=spec.transition_duration,
                music=spec.music,
                language=spec.language,
                subtitle_style=SubtitleStyle(template=spec.subtitle_template),
                title=spec.title,
                ffmpeg=self.ffmpeg,
                on_progress=on_progress,
                preset=self.preset,
                motion=moved.keys,
            )
            cut = rendered.cut
            files = {
                "video_key": cut.video_path,
                "subtitle_key": cut.srt_path,
                "ass_key": cut.ass_path,
                "thumbnail_key": cut.thumbnail_path,
            }
            result: dict[str, Any] = {
                **moved.result,
                "duration": cut.duration,
                "width": spec.width,
                "height": spec.height,
                "fps": spec.fps,
                "segments": {
                    "total": rendered.segments.total,
                    "encoded": rendered.segments.encoded,
                    # Segment i: shot i with its motion, through the transition into shot
                    # i+1 (video only); POST /pipeline/clips hands them out as the clips.
                    "keys": list(rendered.keys),
                    "frame_counts": list(rendered.frame_counts),
                },
                "soundtrack": rendered.soundtrack,
            }
            for field, path in files.items():
                name, content_type = OUTPUTS[field]
                key = f"renders/{job.task_id}/{name}"
                info = await self.objects.put_file(key, path, content_type)
                result[field] = key
                if field == "video_key":
                    result["file_size"] = info.size
        return result
