"""The VideoLibraryService servicer: a drama's videos — clips, concatenations, final cuts.

Requests are checked here, before any task exists: the drama must be the caller's (script
service), the storyboards must exist and have frames (storyboard service), a music asset must be
an audio asset of the drama (asset service), videos to join must be the caller's. The job
payloads are snapshots of what was checked. A final cut of explicit shots (no drama: seed 002's
clips, seed 004's image → video) is checked against its shots' own bounds.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, TypeVar

import grpc
from pydantic import BaseModel, ValidationError

from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import common_pb2, videos_pb2, videos_pb2_grpc
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.render_cost import check_render_cost
from storyreel_core.resolutions import parse_resolution
from storyreel_core.rpc.messages import from_message, task_ref
from storyreel_core.rpc.server import StageTask, caller_id, stage_task
from storyreel_core.subtitle_templates import check_template
from storyreel_core.task_launcher import TaskLauncher
from storyreel_core.task_store import progress_doc
from storyreel_video.video_models import (
    VIDEO_KINDS,
    ClipsInput,
    ConcatInput,
    ConcatSource,
    CutShot,
    DramaCheck,
    FinalCutInput,
    MusicSource,
    MusicSpec,
    ShotRef,
    ShotSource,
    SubtitleSpec,
    parse_camera,
    parse_colour,
    parse_transition,
)
from storyreel_video.video_store import VideoStore

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
Model = TypeVar("Model", bound=BaseModel)
NO_STAGE: StageTask = {"task_id": None, "parent_id": None}
SERVICE = "video"
MAX_CLIPS = 100
MAX_JOIN = 200
MAX_SHOTS = 200  # of a final cut
DEFAULT_RESOLUTION = "720p"
DEFAULT_FPS = 24


def video_to_proto(doc: dict[str, Any]) -> videos_pb2.Video:
    return videos_pb2.Video(
        id=doc["_id"],
        drama_id=doc["drama_id"],
        kind=doc["kind"],
        storyboard_id=doc.get("storyboard_id", ""),
        source_ids=list(doc.get("source_ids", [])),
        key=doc.get("key", ""),
        thumbnail_key=doc.get("thumbnail_key", ""),
        subtitle_key=doc.get("subtitle_key", ""),
        ass_key=doc.get("ass_key", ""),
        duration=float(doc.get("duration", 0.0)),
        width=int(doc.get("width", 0)),
        height=int(doc.get("height", 0)),
        fps=int(doc.get("fps", 0)),
        file_size=int(doc.get("file_size", 0)),
        camera_movement=doc.get("camera_movement", ""),
        transition=doc.get("transition", ""),
        task_id=doc.get("task_id", ""),
        created_at=doc.get("created_at", ""),
        updated_at=doc.get("updated_at", ""),
    )


def _ids(values: Sequence[str], field: str, limit: int, *, unique: bool = True) -> list[str]:
    ids = [v.strip() for v in values if v.strip()]
    if unique:
        ids = list(dict.fromkeys(ids))
    if not ids:
        raise ValidationFailed(f"{field} must name at least one id", field=field)
    if len(ids) > limit:
        raise ValidationFailed(f"{field}: at most {limit} at a time", field=field)
    return ids


def _fps(value: int, field: str, default: int) -> int:
    if value == 0:
        return default
    if not 1 <= value <= 60:
        raise ValidationFailed(f"{field} must be 1-60", field=field)
    return value


def _with_frames(shots: list[ShotRef], field: str) -> list[ShotRef]:
    for shot in shots:
        if not shot.image_key:
            raise ValidationFailed(
                f"storyboard {shot.storyboard_id} has no frame yet; generate its image first",
                field=field,
            )
    return shots


def _seconds(value: float, field: str, low: float, high: float) -> float:
    if not low <= value <= high:
        raise ValidationFailed(f"{field} must be {low:g}-{high:g} seconds", field=field)
    return value


class VideoLibraryServicer(videos_pb2_grpc.VideoLibraryServiceServicer):
    def __init__(
        self,
        videos: VideoStore,
        dramas: DramaCheck,
        shots: ShotSource,
        music: MusicSource,
        launcher: TaskLauncher,
        *,
        max_pixel_frames: int = 0,
        providers: ProviderRegistry | None = None,
    ) -> None:
        self.max_pixel_frames = max_pixel_frames
        self.providers = providers
        self.videos = videos
        self.dramas = dramas
        self.shot_source = shots
        self.music = music
        self.launcher = launcher

    def _check_video_provider(self, provider: str, model: str) -> None:
        """400 (1001) naming the configured ones, before any task or provider call."""
        if self.providers is not None:
            self.providers.resolve(
                "video", provider, model, field="video_provider", model_field="video_model"
            )

    async def _owner(self, context: Ctx, drama_id: str) -> str:
        owner = caller_id(context)
        if not drama_id:
            raise ValidationFailed("drama_id is required", field="drama_id")
        await self.dramas.require(owner, drama_id)
        return owner

    async def _start(
        self, owner: str, drama_id: str | None, kind: str, payload: dict[str, Any], *, total: int,
        estimate: int, progress: dict[str, Any] | None = None, context: Ctx | None = None,
    ) -> common_pb2.TaskRef:  # fmt: skip
        task = await self.launcher.start(
            service=SERVICE,
            kind=kind,
            owner_id=owner,
            payload=payload,
            drama_id=drama_id,
            total=total,
            progress=progress,
            **(stage_task(context) if context is not None else NO_STAGE),
        )
        return task_ref(task, estimate)

    async def GenerateVideos(
        self, request: videos_pb2.GenerateVideosRequest, context: Ctx
    ) -> common_pb2.TaskRef:
        owner = await self._owner(context, request.drama_id)
        ids = _ids(request.storyboard_ids, "storyboard_ids", MAX_CLIPS)
        settings = request.settings
        width, height = parse_resolution(
            settings.resolution or DEFAULT_RESOLUTION, "settings.resolution"
        )
        fps = _fps(settings.frame_rate, "settings.frame_rate", DEFAULT_FPS)
        duration = None
        if settings.duration:
            duration = _seconds(settings.duration, "settings.duration", 0.5, 120)
        camera = parse_camera(settings.camera_movement, "settings.camera_movement")
        transition = parse_transition(settings.transition, "settings.transition", "fade")
        self._check_video_provider(request.video_provider, request.video_model)
        shots = await self.shot_source.shots(owner, request.drama_id, ids)
        spec = _checked(
            ClipsInput,
            drama_id=request.drama_id,
            shots=_with_frames(shots, "storyboard_ids"),
            width=width,
            height=height,
            fps=fps,
            duration=duration,
            camera_movement=camera,
            transition=transition,
            subtitles=settings.subtitles,
            video_provider=request.video_provider.strip(),
            video_model=request.video_model.strip(),
        )
        seconds = sum(s.seconds(fallback=duration, keep_planned=False) for s in spec.shots)
        check_render_cost(
            width, height, fps, seconds, self.max_pixel_frames, field="settings.resolution"
        )
        n = len(spec.shots)
        return await self._start(
            owner,
            request.drama_id,
            "clips",
            spec.model_dump(mode="json"),
            total=n,
            estimate=2 + 3 * n,
            progress=progress_doc(0, n, processing=0, pending=n),
            context=context,
        )

    async def ListVideos(
        self, request: videos_pb2.ListVideosRequest, context: Ctx
    ) -> videos_pb2.VideoList:
        owner = await self._owner(context, request.drama_id)
        if request.kind and request.kind not in VIDEO_KINDS:
            raise ValidationFailed(f"kind must be one of {', '.join(VIDEO_KINDS)}", field="kind")
        items, total = await self.videos.list_page(
            owner,
            request.drama_id,
            page=max(request.page, 1),
            per_page=min(max(request.per_page or 20, 1), 100),
            kind=request.kind,
        )
        return videos_pb2.VideoList(videos=[video_to_proto(d) for d in items], total=total)

    async def GetVideo(self, request: videos_pb2.VideoRef, context: Ctx) -> videos_pb2.Video:
        owner = await self._owner(context, request.drama_id)
        return video_to_proto(await self.videos.get(owner, request.drama_id, request.video_id))

    async def BatchGetVideos(
        self, request: videos_pb2.VideoIdsRequest, context: Ctx
    ) -> videos_pb2.VideoList:
        owner = await self._owner(context, request.drama_id)
        ids = _ids(request.ids, "video_ids", MAX_CLIPS)
        docs = await self.videos.many(owner, request.drama_id, ids)
        return videos_pb2.VideoList(videos=[video_to_proto(d) for d in docs], total=len(docs))

    async def ConcatenateVideos(
        self, request: videos_pb2.ConcatenateVideosRequest, context: Ctx
    ) -> common_pb2.TaskRef:
        owner = await self._owner(context, request.drama_id)
        if (request.format or "mp4").lower() != "mp4":
            raise ValidationFailed("output_settings.format: only mp4 is supported", field="format")
        ids = _ids(request.video_ids, "video_ids", MAX_JOIN, unique=False)
        transition = parse_transition(request.transition, "output_settings.transition", "none")
        docs = await self.videos.many(owner, request.drama_id, ids)
        first = docs[0]
        resolution = request.resolution.strip().lower()
        if resolution in ("", "same_as_input"):
            width, height = int(first["width"]), int(first["height"])
        else:
            width, height = parse_resolution(resolution, "output_settings.resolution")
        spec = _checked(
            ConcatInput,
            drama_id=request.drama_id,
            sources=[
                ConcatSource(
                    video_id=d["_id"],
                    key=d["key"],
                    duration=d["duration"],
                    width=d["width"],
                    height=d["height"],
                    fps=d["fps"],
                )
                for d in docs
            ],
            width=width,
            height=height,
            fps=_fps(request.frame_rate, "output_settings.frame_rate", int(first["fps"])),
            transition=transition,
        )
        seconds = sum(s.duration for s in spec.sources)
        check_render_cost(
            width, height, spec.fps, seconds, self.max_pixel_frames,
            field="output_settings.resolution",
        )  # fmt: skip
        return await self._start(
            owner,
            request.drama_id,
            "concatenate",
            spec.model_dump(mode="json"),
            total=100,
            estimate=max(2, round(seconds / 4)),
            context=context,
        )

    async def RenderFinalCut(
        self, request: videos_pb2.RenderFinalCutRequest, context: Ctx
    ) -> common_pb2.TaskRef:
        """The `final_cut` task of a drama's storyboards or of explicit shots (module doc)."""
        source = request.WhichOneof("shots")
        if source is None:
            raise ValidationFailed(
                "a final cut takes a drama's storyboards or cut_shots", field="storyboards"
            )
        # A drama's owner first: another user's drama is 404 whatever else the request holds.
        drama_id = request.storyboards.drama_id if source == "storyboards" else None
        owner = None if drama_id is None else await self._owner(context, drama_id)
        width, height = parse_resolution(request.resolution or DEFAULT_RESOLUTION, "resolution")
        subtitles = _subtitles(request.subtitles) if request.HasField("subtitles") else None
        template = check_template(request.subtitle_template)
        if template is not None:
            subtitles = (subtitles or SubtitleSpec()).model_copy(update={"template": template})
        music = _music(request.music) if request.HasField("music") else MusicSpec()
        self._check_video_provider(request.video_provider, request.video_model)
        options: dict[str, Any] = {
            "width": width,
            "height": height,
            "fps": _fps(request.frame_rate, "frame_rate", DEFAULT_FPS),
            "transition": parse_transition(request.transition, "transition", "crossfade"),
            "subtitles": subtitles or SubtitleSpec(),
            "music": music,
            "video_provider": request.video_provider.strip(),
            "video_model": request.video_model.strip(),
            "budget": _budget(request),
            "title": request.title.strip()[:200],
        }
        if request.HasField("transition_duration"):
            options["transition_duration"] = _seconds(
                request.transition_duration, "transition_duration", 0, 5
            )
        language = request.language.strip()
        if owner is not None:
            spec = await self._storyboards(owner, request.storyboards, music, language, options)
            seconds = sum(s.seconds(fallback=None, keep_planned=True) for s in spec.storyboards)
        else:
            owner = caller_id(context)
            if music.asset_id:
                raise ValidationFailed(
                    "music.asset_id names a drama's audio asset: only a cut of storyboards has one",
                    field="music.asset_id",
                )
            shots = _cut_shots(request.cut_shots)
            spec = _checked(FinalCutInput, shots=shots, language=language or "en", **options)
            seconds = sum(s.duration for s in spec.shots)
        check_render_cost(width, height, spec.fps, seconds, self.max_pixel_frames)
        return await self._start(
            owner,
            drama_id,
            "final_cut",
            spec.model_dump(mode="json"),
            total=100,
            estimate=max(3, round(seconds / 3)),
            context=context,
        )

    async def _storyboards(
        self,
        owner: str,
        picked: videos_pb2.DramaStoryboards,
        music: MusicSpec,
        language: str,
        options: dict[str, Any],
    ) -> FinalCutInput:
        """The job input of a cut of the owner's drama's storyboards: they must exist and have
        frames; a music asset must be an audio asset of the drama."""
        drama_id = picked.drama_id
        ids = (
            _ids(picked.storyboard_ids, "storyboard_ids", MAX_SHOTS)
            if picked.storyboard_ids
            else None
        )
        shots = await self.shot_source.shots(owner, drama_id, ids)
        if not shots:
            raise ValidationFailed("the drama has no storyboards to render", field="storyboard_ids")
        if music.enabled and music.asset_id:
            music.key = await self.music.audio_key(owner, drama_id, music.asset_id)
        return _checked(
            FinalCutInput,
            drama_id=drama_id,
            storyboards=_with_frames(shots, "storyboard_ids"),
            language=language or shots[0].language,
            **options,
        )


def _checked(model: type[Model], **fields: Any) -> Model:
    """The job input, or 400: every field was checked above, this only guards the rest."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise ValidationFailed(f"invalid request: {exc}"[:300]) from exc


def _cut_shots(msg: videos_pb2.CutShots) -> list[CutShot]:
    """Each explicit shot, validated by its model; 400 naming the first broken field."""
    if not 1 <= len(msg.shots) <= MAX_SHOTS:
        raise ValidationFailed(f"cut_shots.shots: 1-{MAX_SHOTS} shots", field="cut_shots.shots")
    out = []
    for i, shot in enumerate(msg.shots):
        try:
            out.append(from_message(shot, CutShot))
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(p) for p in ("cut_shots.shots", i, *first["loc"]))
            raise ValidationFailed(f"{field}: {first['msg']}", field=field) from exc
    return out


def _budget(request: videos_pb2.RenderFinalCutRequest) -> float | None:
    """`budget` in US dollars (None when unset); 400 when negative."""
    if not request.HasField("budget"):
        return None
    if request.budget < 0:
        raise ValidationFailed("budget must be at least 0", field="budget")
    return request.budget


def _subtitles(msg: videos_pb2.SubtitleOptions) -> SubtitleSpec:
    position = msg.position.strip().lower() or "bottom"
    if position not in ("bottom", "middle", "top"):
        raise ValidationFailed(
            "subtitles.position must be bottom, middle or top", field="subtitles.position"
        )
    if msg.font_size and not 8 <= msg.font_size <= 200:
        raise ValidationFailed("subtitles.font_size must be 8-200", field="subtitles.font_size")
    if not 0 <= msg.outline <= 20:
        raise ValidationFailed("subtitles.outline must be 0-20", field="subtitles.outline")
    return SubtitleSpec.model_validate(
        {
            "enabled": msg.enabled,
            "font_size": msg.font_size or None,
            "color": parse_colour(msg.color, "subtitles.color", (255, 255, 255)),
            "outline_color": parse_colour(msg.outline_color, "subtitles.outline_color", (0, 0, 0)),
            "outline": msg.outline or None,
            "position": position,
        }
    )


def _music(msg: videos_pb2.MusicOptions) -> MusicSpec:
    volume = msg.volume if msg.HasField("volume") else None
    if volume is not None and not 0 <= volume <= 1:
        raise ValidationFailed("music.volume must be 0-1", field="music.volume")
    fade_in = msg.fade_in if msg.HasField("fade_in") else None
    fade_out = msg.fade_out if msg.HasField("fade_out") else None
    for name, value in (("fade_in", fade_in), ("fade_out", fade_out)):
        if value is not None:
            _seconds(value, f"music.{name}", 0, 60)
    return MusicSpec(
        enabled=msg.enabled,
        asset_id=msg.asset_id.strip(),
        volume=volume,
        fade_in=fade_in,
        fade_out=fade_out,
    )
