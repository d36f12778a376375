"""The final cut, rendered as segments (`segments`) by any video worker and stitched here.

The `final_cut` job (of a drama's storyboards or of explicit shots) composes through
`compose_segmented_cut`: plan one segment per shot, look each up in the object store by its
content key, start a `segment` task for each one missing (a task id keyed by that content, so
two cuts needing the same segment share one encode), and meanwhile write the subtitles, mix the
soundtrack once for the whole cut (or reuse it) and draw the thumbnail. When every segment is
there, the stitch joins them and the soundtrack by stream copy. A second render of an unchanged cut
encodes nothing; after a one-shot edit it encodes the one or two segments drawing that shot,
and the soundtrack (cached by content too, `soundtrack_cache`) only if the sound changed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pysubs2

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.drama_models import Transition
from storyreel_core.logging import get_logger
from storyreel_core.stores.object_store import ObjectStore
from storyreel_core.task_launcher import TaskLauncher
from storyreel_core.task_store import TERMINAL, TaskStore
from storyreel_core.task_watch import wait_for_tasks
from storyreel_video.audio_mix import MusicBed
from storyreel_video.downloads import download_all
from storyreel_video.errors import RenderFailed
from storyreel_video.ffmpeg_runner import ProgressCallback
from storyreel_video.final_cut import save_thumbnail, voice_placements
from storyreel_video.segment_job import file_sha256, produce_segment
from storyreel_video.segments import (
    SegmentInput,
    SegmentShot,
    encode_cost,
    encoder_version,
    plan_windows,
    segment_key,
    stitch,
    window_ass,
)
from storyreel_video.soundtrack_cache import cached_soundtrack
from storyreel_video.specs import ClipSpec, FinalCut
from storyreel_video.subtitles import SubtitleStyle, cues_from_segments, write_subtitles
from storyreel_video.timeline import Timeline, effective_transition

log = get_logger(__name__)

SEGMENT_KIND = "segment"
STITCH_SHARE = 0.1  # of the progress bar: the stitch after the segments


@dataclass(frozen=True)
class SegmentCounts:
    """How a cut's segments were obtained: `encoded` by tasks started now, the rest reused."""

    total: int
    encoded: int

    @property
    def reused(self) -> int:
        return self.total - self.encoded


class SegmentRunner(Protocol):
    """Gets every segment of a cut into the object store (encoding the missing ones)."""

    objects: ObjectStore

    async def ensure(
        self,
        specs: Sequence[SegmentInput],
        *,
        owner_id: str,
        parent_id: str | None,
        on_done: Callable[[int], Awaitable[None]],
        drama_id: str | None = None,
    ) -> SegmentCounts: ...


def segment_task_id(owner_id: str, key: str) -> str:
    """The task of a segment, keyed by its content (shaped like `ids.new_id`'s ids)."""
    return "task_" + hashlib.sha256(f"{owner_id}\n{key}".encode()).hexdigest()[:28]


class SegmentFarm:
    """`SegmentRunner` over JetStream: one `segment` task (`jobs.video.segment`) per missing
    segment, started through the task launcher and awaited on its task record."""

    def __init__(
        self, objects: ObjectStore, launcher: TaskLauncher, bus: JetStreamBus, tasks: TaskStore
    ) -> None:
        self.objects = objects
        self.launcher = launcher
        self.bus = bus
        self.tasks = tasks

    async def _start(
        self, spec: SegmentInput, owner_id: str, parent_id: str | None, drama_id: str | None
    ) -> str:
        payload = spec.model_dump(mode="json")
        task_id: str | None = segment_task_id(owner_id, spec.key)
        for _ in range(2):
            task = await self.launcher.start(
                service="video",
                kind=SEGMENT_KIND,
                owner_id=owner_id,
                payload=payload,
                parent_id=parent_id,
                drama_id=drama_id,
                task_id=task_id,
            )
            if task["status"] not in TERMINAL:
                return str(task["_id"])
            # An earlier task for this content ended (failed, or its segment was deleted
            # since): a fresh task encodes it again.
            task_id = None
        return str(task["_id"])

    async def ensure(
        self,
        specs: Sequence[SegmentInput],
        *,
        owner_id: str,
        parent_id: str | None,
        on_done: Callable[[int], Awaitable[None]],
        drama_id: str | None = None,
    ) -> SegmentCounts:
        present = await asyncio.gather(*(self.objects.stat(s.key) for s in specs))
        missing = [s for s, info in zip(specs, present, strict=True) if info is None]
        done = len(specs) - len(missing)
        await on_done(done)
        # Queued dearest first, one after another (workers take jobs in queue order, and the
        # first is encoding while the rest are queued): a cheap segment left for last idles
        # the other workers for less time than a dear one would.
        missing.sort(key=encode_cost, reverse=True)
        task_ids = [await self._start(spec, owner_id, parent_id, drama_id) for spec in missing]

        async def finished(doc: dict[str, Any]) -> None:
            nonlocal done
            if doc["status"] != "completed":
                error = doc.get("error") or {}
                raise RenderFailed(
                    f"segment task {doc['_id']} {doc['status']}: {error.get('reason', '')}"
                )
            done += task_ids.count(doc["_id"])  # identical segments share one task
            await on_done(done)

        await wait_for_tasks(self.bus, self.tasks, task_ids, finished)
        return SegmentCounts(total=len(specs), encoded=len(missing))


class LocalSegments:
    """`SegmentRunner` in this process: the missing segments one after another, through the
    same `produce_segment` the `segment` job runs (for tools and tests without a bus)."""

    def __init__(self, objects: ObjectStore, *, ffmpeg: str | None = None) -> None:
        self.objects = objects
        self.ffmpeg = ffmpeg
        self.encoded: list[SegmentInput] = []  # every segment this runner encoded, in order

    async def ensure(
        self,
        specs: Sequence[SegmentInput],
        *,
        owner_id: str,
        parent_id: str | None,
        on_done: Callable[[int], Awaitable[None]],
        drama_id: str | None = None,
    ) -> SegmentCounts:
        encoded = 0
        for n, spec in enumerate(specs):
            if await produce_segment(self.objects, spec, ffmpeg=self.ffmpeg) is not None:
                encoded += 1
                self.encoded.append(spec)
            await on_done(n + 1)
        return SegmentCounts(total=len(specs), encoded=encoded)


def _part(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.part")


def plan_segments(
    clips: Sequence[ClipSpec],
    frame_keys: Sequence[str],
    frame_hashes: Sequence[str],
    timeline: Timeline,
    *,
    motion: Sequence[tuple[str, str] | None] = (),
    cache_prefix: str,
    width: int,
    height: int,
    transition: Transition,
    preset: str,
    subtitles: pysubs2.SSAFile | None,
    font_path: str,
    encoder: str,
) -> list[SegmentInput]:
    """One `SegmentInput` per shot, keyed by content (see `segments`); `encoder` names the
    encoder build (`segments.encoder_version`); `motion[i]` is shot i's conformed clip as
    (object key, SHA-256), None for camera motion over its still."""
    n = len(clips)
    moving = [m or ("", "") for m in motion] or [("", "")] * n
    specs = []
    for window in plan_windows(timeline):
        i = window.index
        drawn = [i, i + 1] if i + 1 < n and timeline.transition > 0 else [i]
        shots = [
            SegmentShot(
                frame_key=frame_keys[j],
                frame_sha256=frame_hashes[j],
                duration=clips[j].duration,
                camera_movement=clips[j].camera_movement,
                clip_key=moving[j][0],
                clip_sha256=moving[j][1],
            )
            for j in drawn
        ]
        ass, ass_from = "", window.first_frame
        if subtitles is not None:
            ass, ass_from = window_ass(
                subtitles, window.first_frame, window.frame_count, timeline.fps
            )
        spec = SegmentInput(
            key="",
            shots=shots,
            transition=transition,
            transition_seconds=timeline.transition,
            first_frame=window.first_frame,
            start=window.start,
            frame_count=window.frame_count,
            width=width,
            height=height,
            fps=timeline.fps,
            preset=preset,
            ass=ass,
            ass_from=ass_from if ass else 0,
            font_path=font_path if ass else "",
        )
        specs.append(
            spec.model_copy(update={"key": segment_key(spec, prefix=cache_prefix, encoder=encoder)})
        )
    return specs


@dataclass(frozen=True)
class SegmentedCut:
    cut: FinalCut
    segments: SegmentCounts
    keys: tuple[str, ...] = ()  # each segment's object key, in play order
    frame_counts: tuple[int, ...] = ()  # and its frames
    soundtrack_reused: bool = False  # the mixed, encoded soundtrack came from the cache

    @property
    def soundtrack(self) -> str:
        """ "reused" or "mixed", for task results."""
        return "reused" if self.soundtrack_reused else "mixed"


async def compose_segmented_cut(
    clips: Sequence[ClipSpec],
    frame_keys: Sequence[str],
    out_dir: Path,
    *,
    runner: SegmentRunner,
    owner_id: str,
    parent_id: str | None,
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
    cache_prefix: str = "",
    drama_id: str | None = None,
    title: str = "",
    motion: Sequence[tuple[str, str] | None] = (),
) -> SegmentedCut:
    """Render the final cut into `out_dir` (final.mp4, final.srt, final.ass, thumbnail.jpg).

    `clips` are the shots with local stills and speech; `frame_keys[i]` is the object key of
    clip i's still (segment workers fetch it from there). Timing, subtitles and sound are as
    `final_cut.compose_final_cut` (the single-pass reference): duration = sum(shot durations)
    − (n − 1)·td to the nearest frame. Segments are cached under `cache_prefix` (default
    `cache/segments/<owner>/`; a drama's renders keep theirs with the drama's media, so they
    go when it goes). The thumbnail is the shot showing most of its characters, with `title`
    on it. `motion[i]` names shot i's clip from a video model (`model_motion`) as
    (object key, SHA-256); its frames replace the camera move. Raises `RenderFailed` (a
    segment task failed, ffmpeg
    failed) or `ValueError` (bad geometry, no clips).
    """
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise ValueError(f"width and height must be positive and even, got {width}x{height}")
    if not clips or len(frame_keys) != len(clips):
        raise ValueError("a cut needs at least one clip and one frame key per clip")
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

    async def report(fraction: float) -> None:
        if on_progress is not None:
            result = on_progress(fraction)
            if result is not None:
                await result

    try:
        cues = cues_from_segments(
            timeline.starts,
            [c.segments for c in clips],
            timeline.total,
            [c.figures for c in clips],
        )
        subs = await asyncio.to_thread(
            write_subtitles,
            cues,
            srt_path=parts["srt"],
            ass_path=parts["ass"],
            width=width,
            height=height,
            style=subtitle_style,
            language=language,
        )
        burned = None
        if cues and burn_subtitles:
            burned = await asyncio.to_thread(pysubs2.load, str(parts["ass"]))
        hashes = await asyncio.gather(
            *(asyncio.to_thread(file_sha256, c.image_path) for c in clips)
        )
        prefix = cache_prefix or f"cache/segments/{owner_id}/"
        encoder = await asyncio.to_thread(encoder_version, ffmpeg)
        specs = plan_segments(
            clips,
            frame_keys,
            hashes,
            timeline,
            cache_prefix=prefix,
            width=width,
            height=height,
            transition=transition,
            preset=preset,
            subtitles=burned,
            font_path=str(subs.font.path) if subs.font.path else "",
            encoder=encoder,
            motion=motion,
        )

        async def segment_done(count: int) -> None:
            await report((1.0 - STITCH_SHARE) * count / len(specs))

        # The soundtrack (mixed and encoded once per content) and the thumbnail are made here
        # while the workers encode.
        voices = voice_placements(clips, timeline)
        sound = asyncio.ensure_future(
            cached_soundtrack(
                runner.objects,
                voices,
                timeline.total,
                music=music,
                bed=music_bed,
                prefix=prefix,
                encoder=encoder,
                workdir=workdir,
                ffmpeg=ffmpeg,
            )
        )
        thumb = asyncio.ensure_future(
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
            counts = await runner.ensure(
                specs,
                owner_id=owner_id,
                parent_id=parent_id,
                on_done=segment_done,
                drama_id=drama_id,  # deleted with the drama's other tasks
            )
            soundtrack, soundtrack_reused = await sound
            await thumb
        finally:
            # Neither may outlive the scratch folder (a thread cannot be interrupted).
            sound.cancel()
            await asyncio.gather(sound, thumb, return_exceptions=True)
        local = await download_all(
            runner.objects,
            [(spec.key, workdir / f"segment{n:04d}.mp4") for n, spec in enumerate(specs)],
        )

        async def stitch_progress(fraction: float) -> None:
            await report(1.0 - STITCH_SHARE + STITCH_SHARE * fraction)

        await stitch(
            local,
            [spec.frame_count for spec in specs],
            soundtrack,
            parts["video"],
            fps=fps,
            duration=timeline.total,
            workdir=workdir,
            ffmpeg=ffmpeg,
            on_progress=stitch_progress,
        )
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
        segments=counts.total,
        encoded=counts.encoded,
        soundtrack_reused=soundtrack_reused,
    )
    cut = FinalCut(
        video_path=finals["video"],
        srt_path=finals["srt"],
        ass_path=finals["ass"],
        thumbnail_path=finals["thumb"],
        duration=duration,
        subtitle_cues=subs.count,
    )
    return SegmentedCut(
        cut=cut,
        segments=counts,
        soundtrack_reused=soundtrack_reused,
        keys=tuple(spec.key for spec in specs),
        frame_counts=tuple(spec.frame_count for spec in specs),
    )
