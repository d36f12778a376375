"""`/dynamic-subtitles/*` (seed 003): subtitle templates drawn as ASS effects by libass.

The catalogue (ids, names, parameters) is `storyreel_core.subtitle_templates`; the video
service renders each template's preview once into the object store (signed here), reports
the burning engine, and runs `POST /dynamic-subtitles/process` as a task: a video the caller
owns + SRT text (or the video's own subtitles) + a template → a new MP4, polled on
`GET /tasks/{id}` (result `video_url`, `original_video_url`, `subtitle_url`, `ass_url`,
`processing_info`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request
from pydantic import AliasChoices, BaseModel, Field

from storyreel_core.proto.storyreel.v1 import common_pb2, subtitles_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.subtitle_templates import TEMPLATES, TemplateId
from storyreel_gateway.deps import CurrentUser, State, base_url
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.json_body import BODY_LIMIT_KEY, CheckedRoute
from storyreel_gateway.links import TASK_LINKS

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/dynamic-subtitles",
    tags=["subtitles"],
    responses=ERROR_RESPONSES,
)
# A 500,000-character SRT, JSON-escaped (\\uXXXX is six bytes), and the rest.
PROCESS_BODY = 4 * 1024 * 1024

Colour = Annotated[
    str,
    Field(
        max_length=7,
        pattern=r"^(#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})|white|black|yellow|red|green|blue)$",
        examples=["#FFD400"],
    ),
]
Id = Annotated[str, Field(min_length=1, max_length=80)]


class TemplateParameterOut(BaseModel):
    name: str
    type: str
    default: Any = None
    description: str


class TemplateOut(BaseModel):
    id: str = Field(examples=["karaoke"])
    name: str
    description: str
    parameters: list[TemplateParameterOut]
    preview_url: str = Field(description="a PNG drawn by libass from a sample line (signed)")


class TemplatesOut(BaseModel):
    templates: list[TemplateOut]
    total: int


class EngineOut(BaseModel):
    enabled: bool = Field(description="the ffmpeg that burns has libass (`ass` filter)")
    engine: str = Field(examples=["libass"])
    version: str = Field(description="the ffmpeg build's version line")
    supported_formats: list[str]
    available_templates: int


class ConfigOut(BaseModel):
    config: EngineOut


class LookIn(BaseModel):
    font_size: int | None = Field(default=None, ge=8, le=200, description="px; default scaled")
    color: Colour | None = Field(default=None, description="text colour; default white")
    highlight_color: Colour | None = Field(
        default=None, description="karaoke: the spoken word's colour; default #FFD400"
    )
    outline_color: Colour | None = None
    box_color: Colour | None = Field(default=None, description="boxed: the box; default black")
    position: Literal["bottom", "middle", "top"] = "bottom"


class ProcessIn(BaseModel):
    template: TemplateId = Field(
        validation_alias=AliasChoices("template", "template_id"), examples=["karaoke"]
    )
    video_asset_id: Id | None = Field(
        default=None, description="an uploaded video asset of `drama_id`"
    )
    video_id: Id | None = Field(default=None, description="a video of `drama_id` (a final cut)")
    task_id: Id | None = Field(
        default=None,
        description="a completed task with a video: a render (/pipeline/render, videos/render)"
        " or an earlier dynamic-subtitles task",
    )
    drama_id: Id | None = None
    srt: str | None = Field(
        default=None,
        max_length=500_000,
        description="SRT text; default: the video's own subtitles (a task's or drama video's)",
    )
    options: LookIn = Field(default_factory=LookIn)


class Accepted(BaseModel):
    task_id: str
    status: str
    estimated_time: int


@router.get("/templates", response_model=Envelope[TemplatesOut])
async def list_templates(request: Request, state: State, user: CurrentUser) -> dict[str, Any]:
    """Every template with its parameters and a preview image URL (signed, expiring)."""
    previews = await call(
        state.stubs.subtitles.ListSubtitlePreviews, common_pb2.Empty(), user_id=user["_id"]
    )
    keys = {p.template: p.key for p in previews.previews}
    url = base_url(request)
    templates = [
        {
            "id": t.id,
            "name": t.name,
            "description": t.description,
            "parameters": [asdict(p) for p in t.parameters],
            "preview_url": state.signer.sign(keys[t.id], url) if t.id in keys else "",
        }
        for t in TEMPLATES
    ]
    return ok({"templates": templates, "total": len(templates)})


@router.get("/config", response_model=Envelope[ConfigOut])
async def get_config(state: State, user: CurrentUser) -> dict[str, Any]:
    """The burning engine: libass inside the service's ffmpeg, and whether it is there."""
    engine = await call(
        state.stubs.subtitles.GetSubtitleEngine, common_pb2.Empty(), user_id=user["_id"]
    )
    return ok(
        {
            "config": {
                "enabled": engine.available,
                "engine": engine.engine,
                "version": engine.ffmpeg_version,
                "supported_formats": list(engine.supported_formats),
                "available_templates": len(TEMPLATES),
            }
        }
    )


@router.post(
    "/process",
    status_code=202,
    response_model=Envelope[Accepted],
    responses=TASK_LINKS,
    openapi_extra={BODY_LIMIT_KEY: PROCESS_BODY},
)
async def process(body: ProcessIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """Burn `srt` (or the video's own subtitles) onto one video with `template`: a task whose
    result holds `video_url` (the new MP4), `original_video_url`, `subtitle_url`, `ass_url`
    and `processing_info`. Exactly one of `video_asset_id`, `video_id` (each with
    `drama_id`) or `task_id`; another user's or an unknown one is a 404."""
    look = body.options
    ref = await call(
        state.stubs.subtitles.ProcessDynamicSubtitles,
        subtitles_pb2.ProcessSubtitlesRequest(
            drama_id=body.drama_id or "",
            video_asset_id=body.video_asset_id or "",
            video_id=body.video_id or "",
            task_id=body.task_id or "",
            srt=body.srt or "",
            template=body.template,
            options=subtitles_pb2.SubtitleLook(
                font_size=look.font_size or 0,
                color=look.color or "",
                highlight_color=look.highlight_color or "",
                outline_color=look.outline_color or "",
                box_color=look.box_color or "",
                position=look.position,
            ),
        ),
        user_id=user["_id"],
    )
    return ok({"task_id": ref.task_id, "status": ref.status, "estimated_time": ref.estimated_time})
