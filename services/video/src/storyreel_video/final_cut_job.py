"""The `final_cut` job: shots → one vertical MP4 with motion, transitions, voices, subtitles,
music and a thumbnail, from either source of `FinalCutInput`.

Everything common is done once here: fetch the media into a scratch folder (ffmpeg reads only
local files), play uploaded videos (`uploaded_clips`), ask the request's video model for the
other shots' motion (`model_motion`), then compose through `segmented_cut.compose_segmented_cut`
(segments rendered by any video worker, cached by content, stitched here; subtitles in the
request's style, the music bed ducked under the speech, loudness to −16 LUFS). What differs
by source is small:

- a drama's storyboards: a storyboard with narration or lines but no audio is spoken first
  (`cut_speech`: the shot-audio task of `POST …/storyboards/{id}/audio`; the result's `spoken`
  lists them); each plays as long as its speech needs; media and segments are kept with the
  drama's; the cut is saved as the drama's `final` video (result `video`);
- explicit shots: played as given; the files go under `renders/<task>/`, keys derived from the
  task so a rerun overwrites rather than duplicates (result `video_key`, …, and the segments'
  keys, which `POST /pipeline/clips` hands out as the clips).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.scratch import ScratchSpace
from storyreel_core.stores.object_store import ObjectStore
from storyreel_video.audio_mix import MusicBed
from storyreel_video.cut_speech import CutSpeech
from storyreel_video.job_progress import percent_reporter
from storyreel_video.library_job import LibraryJob
from storyreel_video.model_motion import MotionShot, motion_for_job, motion_prompt
from storyreel_video.segmented_cut import SegmentedCut, SegmentRunner, compose_segmented_cut
from storyreel_video.shot_clips import cut_shot, fetch_clips, fetch_shot_clips, video_result
from storyreel_video.specs import ClipSpec
from storyreel_video.subtitles import SubtitleStyle
from storyreel_video.uploaded_clips import merged, play_uploads, uploads_result, without_uploads
from storyreel_video.video_models import CutShot, DramaCheck, FinalCutInput
from storyreel_video.video_store import MediaFile, VideoStore, drama_prefix

# A drama-less cut's files: result field → (name under renders/<task>/, content type).
OUTPUTS = {
    "video_key": ("final.mp4", "video/mp4"),
    "subtitle_key": ("final.srt", "application/x-subrip"),
    "ass_key": ("final.ass", "text/x-ssa"),
    "thumbnail_key": ("thumbnail.jpg", "image/jpeg"),
}


def subtitle_style(spec: FinalCutInput) -> SubtitleStyle:
    subs = spec.subtitles
    return SubtitleStyle(
        font_size=subs.font_size,
        color=subs.color,
        outline_color=subs.outline_color,
        outline=subs.outline,
        position=subs.position,
        template=subs.template,
    )


@dataclass(frozen=True)
class FetchedShots:
    """The cut's shots, fetched: as the composer takes them, their local media, an uploaded
    video's object key per shot ("" = none) and what a video model is told for each."""

    cuts: list[CutShot]
    clips: list[ClipSpec]
    uploads: list[str]
    prompts: list[str]


async def _shots(objects: ObjectStore, spec: FinalCutInput, scratch: Path) -> FetchedShots:
    """A drama's storyboards play as long as their speech needs (measured from the WAV when
    the storyboard did not record it) and may play an upload; explicit shots play as given."""
    if spec.drama_id:
        boards = spec.storyboards
        cuts = [cut_shot(s, fallback=None, keep_planned=True) for s in boards]
        return FetchedShots(
            cuts,
            await fetch_shot_clips(objects, boards, cuts, scratch),
            [s.video_key for s in boards],
            [motion_prompt(s.prompt, s.narration, *s.dialogue) for s in boards],
        )
    return FetchedShots(
        spec.shots,
        await fetch_clips(objects, spec.shots, scratch),
        [""] * len(spec.shots),
        [motion_prompt(s.prompt, *(g.text for g in s.segments)) for s in spec.shots],
    )


class FinalCutJob(LibraryJob):
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
        self.speech = speech  # None: storyboards are cut as they are (tools without the services)

    async def _music(self, spec: FinalCutInput, scratch: Path) -> MusicBed:
        music = spec.music
        path = None
        if music.enabled and music.key:
            path = await self.videos.objects.download(music.key, scratch / "music")
        return MusicBed(
            path=path, volume=music.volume, fade_in=music.fade_in, fade_out=music.fade_out
        )

    async def _speak(self, job: Job, ctx: JobContext, spec: FinalCutInput) -> list[str]:
        """Give the drama's silent storyboards with words their speech (in `spec`); their ids."""
        if not spec.drama_id or self.speech is None:
            return []

        async def speaking(done: int, total: int) -> None:
            await ctx.progress(0, 100, f"speaking storyboards {done}/{total}")

        boards, spoken = await self.speech.ensure(
            job.owner_id, spec.drama_id, spec.storyboards, parent_id=job.task_id, on_done=speaking
        )
        spec.storyboards = boards
        return spoken

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = FinalCutInput.model_validate(job.payload)
        spoken = await self._speak(job, ctx, spec)
        drama = spec.drama_id
        # A drama's clips and segments are kept with its media (they go when it goes); a
        # drama-less cut's in the owner's caches ("": the composer's, cache/segments/<owner>/).
        if drama:
            clip_prefix = f"{drama_prefix(drama)}clips/"
            segment_prefix = f"{drama_prefix(drama)}segments/"
        else:
            clip_prefix, segment_prefix = f"cache/clips/{job.owner_id}/", ""
        objects = self.videos.objects
        # Under the data dir, by task: a SIGKILL leaves it where start-up clears it.
        with self.scratch.for_task(job.task_id) as tmp:
            scratch = Path(tmp)
            await ctx.progress(0, 100, "fetching media")
            shots = await _shots(objects, spec, scratch / "in")
            uploads = await play_uploads(
                objects,
                shots.clips,
                shots.uploads,
                [c.shot_id for c in shots.cuts],
                width=spec.width,
                height=spec.height,
                fps=spec.fps,
                scratch=scratch / "uploads",
                store_prefix=clip_prefix,
                ffmpeg=self.ffmpeg,
            )
            rest = without_uploads(uploads)
            moved = await motion_for_job(
                ctx,
                self.providers,
                objects,
                [uploads.clips[i] for i in rest],
                [MotionShot(shots.cuts[i].shot_id, shots.prompts[i]) for i in rest],
                video_provider=spec.video_provider if rest else "",
                video_model=spec.video_model,
                budget=spec.budget,
                width=spec.width,
                height=spec.height,
                fps=spec.fps,
                scratch=scratch / "motion",
                store_prefix=clip_prefix,
                ffmpeg=self.ffmpeg,
            )
            clips, motion = merged(uploads, rest, moved)
            rendered = await compose_segmented_cut(
                clips,
                [c.frame_key for c in shots.cuts],
                scratch / "out",
                runner=self.segments,
                owner_id=job.owner_id,
                parent_id=job.task_id,
                cache_prefix=segment_prefix,
                drama_id=drama or None,
                width=spec.width,
                height=spec.height,
                fps=spec.fps,
                transition=spec.transition,
                transition_duration=spec.transition_duration,
                music=spec.music.enabled,
                music_bed=await self._music(spec, scratch),
                subtitle_style=subtitle_style(spec),
                burn_subtitles=spec.subtitles.enabled,
                language=spec.language,
                ffmpeg=self.ffmpeg,
                on_progress=percent_reporter(ctx, "encoding"),
                preset=self.preset,
                motion=motion,
                title=spec.title,
            )
            segments: dict[str, Any] = {
                "total": rendered.segments.total,
                "encoded": rendered.segments.encoded,
            }
            if drama:
                outputs = {"video": await self._save(job, spec, rendered), "spoken": spoken}
            else:
                outputs = await self._put(job, spec, rendered)
                # Segment i: shot i with its motion, through the transition into shot i+1
                # (video only); POST /pipeline/clips hands them out as the clips.
                segments["keys"] = list(rendered.keys)
                segments["frame_counts"] = list(rendered.frame_counts)
        return {
            **moved.result,
            **uploads_result(uploads),
            **outputs,
            "segments": segments,
            "soundtrack": rendered.soundtrack,
        }

    async def _save(self, job: Job, spec: FinalCutInput, rendered: SegmentedCut) -> dict[str, Any]:
        """The drama's `final` video (once the drama is checked to still be the owner's)."""
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
                "source_ids": [s.storyboard_id for s in spec.storyboards],
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
        return video_result(doc)

    async def _put(self, job: Job, spec: FinalCutInput, rendered: SegmentedCut) -> dict[str, Any]:
        """A drama-less cut's files under `renders/<task>/`, as result fields."""
        cut = rendered.cut
        files = {
            "video_key": cut.video_path,
            "subtitle_key": cut.srt_path,
            "ass_key": cut.ass_path,
            "thumbnail_key": cut.thumbnail_path,
        }
        result: dict[str, Any] = {
            "duration": cut.duration,
            "width": spec.width,
            "height": spec.height,
            "fps": spec.fps,
        }
        for field, path in files.items():
            name, content_type = OUTPUTS[field]
            key = f"renders/{job.task_id}/{name}"
            info = await self.videos.objects.put_file(key, path, content_type)
            result[field] = key
            if field == "video_key":
                result["file_size"] = info.size
        return result
