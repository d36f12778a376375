"""`/dramas/{drama_id}/videos`: clips per storyboard, exports, concatenation and the final cut
(seed 000 ch. 5), served by the video service's VideoLibraryService over gRPC.

Metadata comes from the service; the files themselves are streamed from the object store
here: `export` with HTTP Range (players seek, downloads resume), `export-batch` as a ZIP built
while it is sent. Task results list videos with signed, expiring URLs.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from storyreel_core.drama_models import CameraMovement, Transition
from storyreel_core.errors import NotFound
from storyreel_core.proto.storyreel.v1 import videos_pb2
from storyreel_core.resolutions import RESOLUTION_PATTERN
from storyreel_core.rpc.clients import call
from storyreel_core.subtitle_templates import TemplateId
from storyreel_gateway.deps import CurrentUser, Paging, State, base_url
from storyreel_gateway.envelope import (
    ERROR_RESPONSES,
    Envelope,
    ErrorEnvelope,
    ListEnvelope,
    ok,
    paged,
)
from storyreel_gateway.fields import DramaId, VideoId
from storyreel_gateway.json_body import CheckedRoute
from storyreel_gateway.links import TASK_LINKS
from storyreel_gateway.media_signer import MediaSigner
from storyreel_gateway.routers.media import ranged_response
from storyreel_gateway.routers.pipeline import Accepted
from storyreel_gateway.zip_stream import ZipEntry, zip_stream

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/dramas/{drama_id}/videos",
    tags=["videos"],
    responses=ERROR_RESPONSES,
)

VideoKind = Literal["clip", "concat", "final"]
Resolution = Annotated[
    str,
    Field(
        min_length=2,
        max_length=20,
        pattern=RESOLUTION_PATTERN,
        description="360p | 480p | 540p | 720p | 1080p (vertical 9:16) or WxH, sides 64-4096",
        examples=["720p", "1080x1920"],
    ),
]
Colour = Annotated[
    str,
    Field(
        max_length=7,
        pattern=r"^(#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})|white|black|yellow|red|green|blue)$",
        examples=["#FFFFFF"],
    ),
]
BodyId = Annotated[str, Field(min_length=1, max_length=80)]


class ClipSettingsIn(BaseModel):
    resolution: Resolution = "1080p"
    frame_rate: int = Field(default=24, ge=1, le=60)
    duration: float | None = Field(
        default=None,
        ge=0.5,
        le=120,
        description="seconds for a shot without audio (default: the shot's own, else 5); "
        "a shot with audio lasts as long as its speech",
    )
    camera_movement: Literal["auto"] | CameraMovement = Field(
        default="auto", description="auto keeps each storyboard's own camera movement"
    )
    transition: Transition = Field(
        default="fade", description="recorded on each clip for when clips are joined"
    )
    subtitles: bool = Field(default=False, description="burn the shot's lines into its clip")


class GenerateVideosIn(BaseModel):
    storyboard_ids: list[BodyId] = Field(min_length=1, max_length=100)
    settings: ClipSettingsIn = Field(default_factory=ClipSettingsIn)
    video_provider: str | None = Field(
        default=None,
        max_length=64,
        description="a video provider of GET /providers for each clip's motion; unset ="
        " camera motion over the still",
    )
    video_model: str | None = Field(
        default=None, max_length=200, description="one of the provider's video models"
    )


class GenerateAccepted(Accepted):
    storyboard_count: int


class OutputSettingsIn(BaseModel):
    format: Literal["mp4"] = "mp4"
    resolution: Literal["same_as_input"] | Resolution = Field(
        default="same_as_input", description="same_as_input: the first video's size"
    )
    transition: Transition = "none"
    frame_rate: int | None = Field(default=None, ge=1, le=60, description="default: the first's")


class ConcatenateIn(BaseModel):
    video_ids: list[BodyId] = Field(
        min_length=1, max_length=200, description="in play order; repeats allowed"
    )
    output_settings: OutputSettingsIn = Field(default_factory=OutputSettingsIn)


class ExportBatchIn(BaseModel):
    video_ids: list[BodyId] = Field(min_length=1, max_length=100)


class SubtitleStyleIn(BaseModel):
    font_size: int | None = Field(default=None, ge=8, le=200, description="px; default scaled")
    color: Colour = "#FFFFFF"
    outline_color: Colour = "#000000"
    outline: float | None = Field(default=None, ge=0, le=20, description="px; default scaled")


class SubtitlesIn(BaseModel):
    enabled: bool = Field(default=True, description="burn them in (the SRT is written anyway)")
    style: SubtitleStyleIn = Field(default_factory=SubtitleStyleIn)
    position: Literal["bottom", "middle", "top"] = "bottom"


class MusicIn(BaseModel):
    enabled: bool = True
    asset_id: str | None = Field(
        default=None,
        max_length=80,
        description="an uploaded audio asset of this drama; default: the built-in bed",
    )
    volume: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="the bed's level against the voices (1 = as loud; default ≈ 0.18)",
    )
    fade_in: float | None = Field(default=None, ge=0, le=60, description="seconds")
    fade_out: float | None = Field(default=None, ge=0, le=60, description="seconds")


class RenderIn(BaseModel):
    storyboard_ids: list[BodyId] | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="default: every storyboard of the drama, in position order",
    )
    subtitles: SubtitlesIn = Field(default_factory=SubtitlesIn)
    music: MusicIn = Field(default_factory=MusicIn)
    resolution: Resolution = "720p"
    frame_rate: int = Field(default=24, ge=1, le=60)
    transition: Transition = "crossfade"
    video_provider: str | None = Field(
        default=None,
        max_length=64,
        description="a video provider of GET /providers for each shot's motion; unset ="
        " camera motion over the stills. A shot whose clip fails keeps camera motion and the"
        " result's `motion.kept_camera_motion` names it",
        examples=["offline"],
    )
    video_model: str | None = Field(
        default=None, max_length=200, description="one of the provider's video models"
    )
    subtitle_template: TemplateId | None = Field(
        default=None,
        description="a dynamic subtitle template of GET /dynamic-subtitles/templates for the"
        " burned-in subtitles (karaoke, pop_in, …); unset = classic",
    )


class VideoOut(BaseModel):
    id: str
    drama_id: str
    kind: VideoKind
    storyboard_id: str | None = Field(default=None, description="the shot of a clip")
    source_ids: list[str] = Field(
        description="video ids of a concatenation, storyboard ids of a clip or final cut"
    )
    url: str = Field(description="signed, expiring; HTTP Range supported")
    thumbnail_url: str | None = None
    subtitle_url: str | None = Field(default=None, description="SRT of a final cut")
    ass_url: str | None = Field(default=None, description="ASS of a final cut, as burned in")
    duration: float
    resolution: str = Field(examples=["720x1280"])
    width: int
    height: int
    fps: int
    file_size: int
    camera_movement: str | None = None
    transition: str | None = None
    task_id: str | None = None
    created_at: str
    updated_at: str


def _sign(signer: MediaSigner, key: str, base: str) -> str | None:
    return signer.sign(key, base) if key else None


def video_out(msg: videos_pb2.Video, signer: MediaSigner, base: str) -> dict[str, Any]:
    return {
        "id": msg.id,
        "drama_id": msg.drama_id,
        "kind": msg.kind,
        "storyboard_id": msg.storyboard_id or None,
        "source_ids": list(msg.source_ids),
        "url": signer.sign(msg.key, base),
        "thumbnail_url": _sign(signer, msg.thumbnail_key, base),
        "subtitle_url": _sign(signer, msg.subtitle_key, base),
        "ass_url": _sign(signer, msg.ass_key, base),
        "duration": round(msg.duration, 3),
        "resolution": f"{msg.width}x{msg.height}",
        "width": msg.width,
        "height": msg.height,
        "fps": msg.fps,
        "file_size": msg.file_size,
        "camera_movement": msg.camera_movement or None,
        "transition": msg.transition or None,
        "task_id": msg.task_id or None,
        "created_at": msg.created_at,
        "updated_at": msg.updated_at,
    }


def _accepted(ref: Any) -> dict[str, Any]:
    return {"task_id": ref.task_id, "status": ref.status, "estimated_time": ref.estimated_time}


_BINARY = {"schema": {"type": "string", "format": "binary"}}
_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The MP4 file", "content": {"video/mp4": _BINARY}},
    206: {"description": "The requested byte range (`Range: bytes=start-end`)"},
    416: {
        "description": "The range is outside the file (`Content-Range: bytes */size`)",
        "model": ErrorEnvelope,
    },
}
_ZIP_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "A ZIP of the MP4 files", "content": {"application/zip": _BINARY}},
}


@router.post(
    "/generate",
    status_code=202,
    response_model=Envelope[GenerateAccepted],
    responses=TASK_LINKS,
)
async def generate_videos(
    drama_id: DramaId, body: GenerateVideosIn, state: State, user: CurrentUser
) -> dict[str, Any]:
    """One clip per storyboard: its frame with the camera move, its speech (the clip lasts as
    long as the speech needs), optionally its lines burned in. A storyboard's new clip replaces
    its previous one. Progress counts shots: `{total, completed, processing, pending,
    percentage}` with `current_item {storyboard_id, status}`; the result is `{videos: [{id,
    storyboard_id, url, thumbnail_url, duration, file_size}], total_count, success_count,
    failed_count}`."""
    s = body.settings
    ref = await call(
        state.stubs.videos.GenerateVideos,
        videos_pb2.GenerateVideosRequest(
            drama_id=drama_id,
            storyboard_ids=body.storyboard_ids,
            settings=videos_pb2.ClipSettings(
                resolution=s.resolution,
                frame_rate=s.frame_rate,
                duration=s.duration or 0.0,
                camera_movement=s.camera_movement,
                transition=s.transition,
                subtitles=s.subtitles,
            ),
            video_provider=body.video_provider or "",
            video_model=body.video_model or "",
        ),
        user_id=user["_id"],
    )
    unique = len(dict.fromkeys(i.strip() for i in body.storyboard_ids if i.strip()))
    return ok({**_accepted(ref), "storyboard_count": unique})


@router.get("", response_model=ListEnvelope[VideoOut])
async def list_videos(
    drama_id: DramaId,
    request: Request,
    state: State,
    user: CurrentUser,
    paging: Paging,
    kind: Annotated[VideoKind | None, Query(description="clip, concat or final")] = None,
) -> dict[str, Any]:
    msg = await call(
        state.stubs.videos.ListVideos,
        videos_pb2.ListVideosRequest(
            drama_id=drama_id, page=paging.page, per_page=paging.per_page, kind=kind or ""
        ),
        user_id=user["_id"],
    )
    base = base_url(request)
    return paged(
        [video_out(v, state.signer, base) for v in msg.videos],
        page=paging.page,
        per_page=paging.per_page,
        total=msg.total,
    )


@router.post("/export-batch", response_class=StreamingResponse, responses=_ZIP_RESPONSES)
async def export_batch(
    drama_id: DramaId, body: ExportBatchIn, state: State, user: CurrentUser
) -> StreamingResponse:
    """A ZIP holding each video's MP4 (`<video id>.mp4`), streamed as it is built. Any id
    that is not one of the caller's videos of this drama answers 404 before anything is sent."""
    msg = await call(
        state.stubs.videos.BatchGetVideos,
        videos_pb2.VideoIdsRequest(drama_id=drama_id, ids=body.video_ids),
        user_id=user["_id"],
    )
    entries: list[ZipEntry] = []
    for video in msg.videos:
        info = await state.objects.stat(video.key) if video.key else None
        if info is None:
            raise NotFound(f"the file of video {video.id} is gone", field="video_ids")
        entries.append(ZipEntry(f"{video.id}.mp4", video.key, info.size))
    return StreamingResponse(
        zip_stream(state.objects, entries),
        media_type="application/zip",
        headers={
            # The drama id is a real one by now (the service found its videos): a safe name.
            "Content-Disposition": f'attachment; filename="{drama_id}-videos.zip"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/concatenate", status_code=202, response_model=Envelope[Accepted], responses=TASK_LINKS
)
async def concatenate_videos(
    drama_id: DramaId, body: ConcatenateIn, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Join videos in order into a new one (`kind: concat`); its duration is the sum of theirs
    (less the overlaps of a transition). The result is `{video: {id, url, thumbnail_url,
    duration, file_size, …}}`."""
    out = body.output_settings
    ref = await call(
        state.stubs.videos.ConcatenateVideos,
        videos_pb2.ConcatenateVideosRequest(
            drama_id=drama_id,
            video_ids=body.video_ids,
            format=out.format,
            resolution=out.resolution,
            transition=out.transition,
            frame_rate=out.frame_rate or 0,
        ),
        user_id=user["_id"],
    )
    return ok(_accepted(ref))


@router.post("/render", status_code=202, response_model=Envelope[Accepted], responses=TASK_LINKS)
async def render_final_cut(
    drama_id: DramaId, body: RenderIn, state: State, user: CurrentUser
) -> dict[str, Any]:
    """The final cut (`kind: final`): every shot's frame with its camera move, transitions, the
    voices, subtitles (ASS burned in when enabled, SRT always), a music bed ducked under the
    voices, loudness normalised to −16 LUFS, H.264/AAC with `+faststart`, and a thumbnail.
    The result is `{video: {id, url, thumbnail_url, subtitle_url, ass_url, duration, …}}`."""
    subs, style, music = body.subtitles, body.subtitles.style, body.music
    ref = await call(
        state.stubs.videos.RenderFinalCut,
        videos_pb2.RenderFinalCutRequest(
            storyboards=videos_pb2.DramaStoryboards(
                drama_id=drama_id, storyboard_ids=body.storyboard_ids or []
            ),
            subtitles=videos_pb2.SubtitleOptions(
                enabled=subs.enabled,
                font_size=style.font_size or 0,
                color=style.color,
                outline_color=style.outline_color,
                outline=style.outline or 0.0,
                position=subs.position,
            ),
            music=videos_pb2.MusicOptions(
                enabled=music.enabled,
                asset_id=music.asset_id or "",
                volume=music.volume,
                fade_in=music.fade_in,
                fade_out=music.fade_out,
            ),
            resolution=body.resolution,
            frame_rate=body.frame_rate,
            transition=body.transition,
            video_provider=body.video_provider or "",
            video_model=body.video_model or "",
            subtitle_template=body.subtitle_template or "",
        ),
        user_id=user["_id"],
    )
    return ok(_accepted(ref))


@router.get("/{video_id}", response_model=Envelope[VideoOut])
async def get_video(
    drama_id: DramaId, video_id: VideoId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    msg = await call(
        state.stubs.videos.GetVideo,
        videos_pb2.VideoRef(drama_id=drama_id, video_id=video_id),
        user_id=user["_id"],
    )
    return ok(video_out(msg, state.signer, base_url(request)))


@router.get("/{video_id}/export", response_class=StreamingResponse, responses=_EXPORT_RESPONSES)
async def export_video(
    drama_id: DramaId,
    video_id: VideoId,
    state: State,
    user: CurrentUser,
    range_header: Annotated[str | None, Header(alias="range")] = None,
) -> Response:
    """The MP4 itself, as an attachment; `Range: bytes=…` answers 206 with that part."""
    msg = await call(
        state.stubs.videos.GetVideo,
        videos_pb2.VideoRef(drama_id=drama_id, video_id=video_id),
        user_id=user["_id"],
    )
    info = await state.objects.stat(msg.key) if msg.key else None
    if info is None:
        raise NotFound(f"the file of video {msg.id} is gone", field="video_id")
    disposition = {"Content-Disposition": f'attachment; filename="{msg.id}.mp4"'}
    return ranged_response(
        state.objects,
        msg.key,
        info,
        range_header,
        media_type="video/mp4",
        extra_headers=disposition,
    )
