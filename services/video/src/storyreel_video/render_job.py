"""The `render` job: a drama's final cut from its storyboards, saved as a `final` video.

Everything is the final-cut composer's (`compose_segmented_cut`: camera motion, transitions,
the voices, ASS subtitles burned in and SRT written, the music bed ducked under the speech,
loudness to −16 LUFS, H.264 segments stitched with `+faststart`, a thumbnail), the same one the
pipeline's `final_cut` stage uses; this job only fetches the media, turns the request's options
into the composer's, and stores the outputs. A shot's motion is, first found: the video the
user uploaded for it (`uploaded_clips`), the request's video model's clip (`model_motion`),
camera motion over its still. A storyboard with narration or lines but no audio is spoken
first (`cut_speech`: the shot-audio task of `POST …/storyboards/{id}/audio`), so the cut has
its voices and the subtitles their timing; the result's `spoken` lists those storyboards.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.scratch import ScratchSpace
from storyreel_video.audio_mix import MusicBed
from storyreel_video.cut_speech import CutSpeech
from storyreel_video.job_progress import percent_reporter
from storyreel_video.library_job import LibraryJob
from storyreel_video.model_motion import MotionShot, motion_for_job, motion_prompt
from storyreel_video.segmented_cut import SegmentRunner, compose_segmented_cut
from storyreel_video.shot_clips import cut_shot, fetch_shot_clips, video_result
from storyreel_video.subtitles import SubtitleStyle
from storyreel_video.uploaded_clips import merged, play_uploads, uploads_result, without_uploads
from storyreel_video.video_models import DramaCheck, RenderInput
from storyreel_video.video_store import MediaFile, VideoStore, drama_prefix


def subtitle_style(spec: RenderInput) -> SubtitleStyle:
    subs = spec.subtitles
    return SubtitleStyle(
        font_size=subs.font_size,
        color=subs.color,
        outline_color=subs.outline_color,
        outline=subs.outline,
        position=subs.position,
        template=subs.template,
    )


class RenderJob(LibraryJob):
    def __init__(
        self,
        videos: VideoStore,
        dramas: DramaCheck,
        segments: SegmentRunner,
        *,
        ffmpeg: str | None,
        preset: str,
        scratch: ScratchSpace | None = None,
        providers: ProviderRegistry | None = None,
        speech: CutSpeech | None = None,
    ) -> None:
        super().__init__(
            videos, dramas, ffmpeg=ffmpeg, preset=preset, scratch=scratch, providers=providers
        )
        self.segments = segments
        self.speech = speech  # None: shots are cut as they are (tools without the services)

    async def _music(self, spec: RenderInput, scratch: Path) -> MusicBed:
        music = spec.music
        path = None
        if music.enabled and music.key:
            path = await self.videos.objects.download(music.key, scratch / "music")
        return MusicBed(
            path=path, volume=music.volume, fade_in=music.fade_in, fade_out=music.fade_out
        )

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = RenderInput.model_validate(job.payload)
        on_progress = percent_reporter(ctx, "encoding")
        spoken: list[str] = []
        if self.speech is not None:

            async def speaking(done: int, total: int) -> None:
                await ctx.progress(0, 100, f"speaking storyboards {done}/{total}")

            shots, spoken = await self.speech.ensure(
                job.owner_id, spec.drama_id, spec.shots, parent_id=job.task_id, on_done=speaking
            )
            spec = spec.model_copy(update={"shots": shots})

        with self.scratch.for_task(job.task_id) as tmp:
            scratch = Path(tmp)
            await ctx.progress(0, 100, "fetching media")
            cuts = [cut_shot(s, fallback=None, keep_planned=True) for s in spec.shots]
            clips = await fetch_shot_clips(self.videos.objects, spec.shots, cuts, scratch / "in")
            prefix = f"{drama_prefix(spec.drama_id)}clips/"  # with the drama's media
            uploads = await play_uploads(
                self.videos.objects,
                clips,
                [s.video_key for s in spec.shots],
                [s.storyboard_id for s in spec.shots],
                width=spec.width,
                height=spec.height,
                fps=spec.fps,
                scratch=scratch / "uploads",
                store_prefix=prefix,
                ffmpeg=self.ffmpeg,
            )
            rest = without_uploads(uploads)
            moved = await motion_for_job(
                ctx,
                self.providers,
                self.videos.objects,
                [uploads.clips[i] for i in rest],
                [
                    MotionShot(s.storyboard_id, motion_prompt(s.prompt, s.narration, *s.dialogue))
                    for s in (spec.shots[i] for i in rest)
                ],
                video_provider=spec.video_provider if rest else "",
                video_model=spec.video_model,
                budget=spec.budget,
                width=spec.width,
                height=spec.height,
                fps=spec.fps,
                scratch=scratch / "motion",
                store_prefix=prefix,
                ffmpeg=self.ffmpeg,
            )
            shot_clips, motion = merged(uploads, rest, moved)
            rendered = await compose_segmented_cut(
                shot_clips,
                [cut.frame_key for cut in cuts],
                scratch / "out",
                runner=self.segments,
                owner_id=job.owner_id,
                parent_id=job.task_id,
                cache_prefix=f"{drama_prefix(spec.drama_id)}segments/",
                drama_id=spec.drama_id,
                width=spec.width,
                height=spec.height,
                fps=spec.fps,
                transition=spec.transition,
                music=spec.music.enabled,
                music_bed=await self._music(spec, scratch),
                subtitle_style=subtitle_style(spec),
                burn_subtitles=spec.subtitles.enabled,
                language=spec.language,
                ffmpeg=self.ffmpeg,
                on_progress=on_progress,
                preset=self.preset,
                motion=motion,
                title=spec.title,
            )
            cut = rendered.cut
            await self.dramas.require(job.owner_id, spec.drama_id)
            doc = await self.videos.save(
                job.owner_id,
                spec.drama_id,
                slot=f"final:{job.task_id}",
                task_id=job.task_id,
                files=[
                    MediaFile("key", cut.video_path, ".mp4", "video/mp4"),
                    MediaFile("thumbnail_key", cut.thumbnail_path, ".jpg", "image/jpeg"),
                    MediaFile("subtitle_key", cut.srt_path, ".srt", "application/x-subrip"),
                    MediaFile("ass_key", cut.ass_path, ".ass", "text/x-ssa"),
                ],
                fields={
                    "kind": "final",
                    "storyboard_id": "",
                    "source_ids": [s.storyboard_id for s in spec.shots],
                    "duration": cut.duration,
                    "width": spec.width,
                    "height": spec.height,
                    "fps": spec.fps,
                    "camera_movement": "",
                    "transition": spec.transition,
                    "has_audio": True,
                    "subtitles": spec.subtitles.model_dump(mode="json"),
                    "subtitle_cues": cut.subtitle_cues,
                    "music": spec.music.model_dump(mode="json", exclude={"key"}),
                },
            )
        segments = {"total": rendered.segments.total, "encoded": rendered.segments.encoded}
        return {
            **moved.result,
            **uploads_result(uploads),
            "video": video_result(doc),
            "segments": segments,
            "soundtrack": rendered.soundtrack,
            "spoken": spoken,
        }
