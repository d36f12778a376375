"""`/dramas/{drama_id}/storyboards`: shots, their frames and their audio (seed 000 ch. 4).

Served by the storyboard service's StoryboardLibraryService over gRPC; frame, thumbnail and
audio keys come back as signed, expiring URLs. Generation, a new frame and generated speech
are tasks (202); an audio upload streams through `uploads.staged_upload` like every upload.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from storyreel_core.drama_models import CameraMovement, ShotType
from storyreel_core.errors import AppError, Code, ValidationFailed
from storyreel_core.ids import MAX_ID_LENGTH, id_pattern
from storyreel_core.proto.storyreel.v1 import drama_pb2, storyboards_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import message_to_dict, object_to_dict, to_object
from storyreel_gateway.deps import CurrentUser, Paging, State, base_url
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ListEnvelope, ok, paged
from storyreel_gateway.fields import (
    NOT_BLANK,
    DramaId,
    ExpectedVersion,
    FreeObject,
    ImageModel,
    ImageProvider,
    Seed,
    StoryboardId,
)
from storyreel_gateway.json_body import BODY_LIMIT_KEY, UPLOAD, CheckedRoute, read_json
from storyreel_gateway.links import TASK_LINKS
from storyreel_gateway.media_signer import MediaSigner
from storyreel_gateway.routers.pipeline import Accepted
from storyreel_gateway.uploads import staged_upload

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/dramas/{drama_id}/storyboards",
    tags=["storyboards"],
    responses=ERROR_RESPONSES,
)

MAX_JSON_BODY = 64 * 1024
IdStr = Annotated[str, Field(min_length=1, max_length=80)]
# The storyboard service keeps character ids of at most 80 characters (storyboard_fields.MAX_ID).
CharacterRef = Annotated[str, Field(max_length=80, pattern=id_pattern("char"))]
StoryboardRef = Annotated[str, Field(max_length=MAX_ID_LENGTH, pattern=id_pattern("sb"))]
ScriptRef = Annotated[str, Field(max_length=MAX_ID_LENGTH, pattern=id_pattern("script"))]


class GenerateOptions(BaseModel):
    shot_type: Literal["auto"] | ShotType = Field(
        default="auto", description="auto: chosen per shot by film grammar"
    )
    image_style: str = Field(
        default="", max_length=200, examples=["realistic"], description="default: the script's"
    )
    count_per_scene: int = Field(default=1, ge=1, le=6)
    aspect_ratio: Literal["9:16", "16:9", "1:1"] = "9:16"
    seed: Seed = 0
    image_provider: ImageProvider = ""
    image_model: ImageModel = ""


class GenerateIn(BaseModel):
    script_id: ScriptRef
    options: GenerateOptions = Field(default_factory=GenerateOptions)


class DialogueLineIO(BaseModel):
    character_id: str = Field(
        default="",
        max_length=80,
        pattern=f"^$|{id_pattern('char')}",
        description='a character of the drama, "" for no one in particular',
    )
    text: str = Field(min_length=1, max_length=1000, pattern=NOT_BLANK, description="not blank")


class DialogueLineOut(BaseModel):
    character_id: str = Field(description='"" for no one in particular')
    text: str


class StoryboardUpdate(BaseModel):
    """Fields present replace the stored ones; absent (or null) ones stay, but a null
    `video_asset_id` clears it."""

    description: str | None = Field(default=None, max_length=5000)
    shot_type: ShotType | None = None
    composition: FreeObject | None = Field(default=None, examples=[{"subject": "left third"}])
    character_ids: list[CharacterRef] | None = Field(
        default=None, max_length=20, description="characters of this drama (404 otherwise)"
    )
    dialogue: list[DialogueLineIO] | None = Field(default=None, max_length=50)
    narration: str | None = Field(default=None, max_length=5000)
    duration: float | None = Field(default=None, ge=0.5, le=60, description="seconds")
    camera_movement: CameraMovement | None = None
    prompt: str | None = Field(default=None, max_length=2000)
    video_asset_id: str | None = Field(
        default=None,
        max_length=MAX_ID_LENGTH,
        description="a video asset of this drama (404 otherwise) the shot plays as its clip,"
        " conformed to the cut; null or '' clears it (camera motion over the frame again)",
    )
    image_asset_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ID_LENGTH,
        description="an image asset of this drama (404 otherwise) that becomes the shot's"
        " frame, as if drawn for it (copied; the renderers cover-fit any size)",
    )
    version: ExpectedVersion = None


class RegenerateIn(BaseModel):
    prompt: str = Field(default="", max_length=2000, description="default: the storyboard's")
    image_style: str = Field(default="", max_length=200, description="default: the storyboard's")
    fix_face: bool = False
    seed: Annotated[Seed, Field(description="0: a new one each time")] = 0
    image_provider: ImageProvider = ""
    image_model: ImageModel = ""


class ReorderEntry(BaseModel):
    id: StoryboardRef
    position: int = Field(ge=1, le=100_000)


class ReorderIn(BaseModel):
    order: list[ReorderEntry] = Field(
        min_length=1,
        max_length=1000,
        description="every storyboard of the drama once (409 otherwise), sorted by position",
    )


class LinkSceneIn(BaseModel):
    scene_id: IdStr
    script_id: str = Field(default="", max_length=80, description="default: the storyboard's")


class AudioIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    text: str = Field(default="", max_length=5000, description="default: narration + dialogue")
    voice: str = Field(
        default="",
        max_length=80,
        validation_alias=AliasChoices("voice", "voice_id"),
        description="a voice id from GET /voices (also accepted as `voice_id`)",
    )
    audio_provider: str = Field(
        default="",
        max_length=80,
        validation_alias=AliasChoices("audio_provider", "provider"),
        description="a speech provider from GET /voices (also `provider`); default offline",
    )
    speed: float = Field(default=1.0, ge=0.5, le=2.0)


class AudioUpload(BaseModel):
    file: bytes = Field(description="WAV, MP3, OGG or M4A audio (by content)")


class SpeechSegmentOut(BaseModel):
    speaker: str
    text: str
    start: float
    end: float


class StoryboardOut(BaseModel):
    id: str
    drama_id: str
    script_id: str
    scene_id: str
    scene_number: int
    position: int
    shot_type: str
    camera_movement: str
    description: str
    prompt: str
    composition: dict[str, Any]
    character_ids: list[str]
    location: str
    time: str
    narration: str
    dialogue: list[DialogueLineOut]
    duration: float
    image_url: str | None = None
    thumbnail_url: str | None = None
    image_style: str
    image_status: str
    aspect_ratio: str
    image_width: int
    image_height: int
    audio_url: str | None = None
    audio_duration: float
    audio_source: str
    voice: str
    speed: float
    audio_segments: list[SpeechSegmentOut]
    language: str
    video_asset_id: str = Field(description="the uploaded video the shot plays; '' for none")
    version: int
    created_at: str
    updated_at: str


def _sign(signer: MediaSigner, key: str, base: str) -> str | None:
    return signer.sign(key, base) if key else None


def storyboard_out(
    msg: storyboards_pb2.Storyboard, signer: MediaSigner, base: str
) -> dict[str, Any]:
    return {
        "id": msg.id,
        "drama_id": msg.drama_id,
        "script_id": msg.script_id,
        "scene_id": msg.scene_id,
        "scene_number": msg.scene_number,
        "position": msg.position,
        "shot_type": msg.shot_type,
        "camera_movement": msg.camera_movement,
        "description": msg.description,
        "prompt": msg.prompt,
        "composition": object_to_dict(msg.composition),
        "character_ids": list(msg.character_ids),
        "location": msg.location,
        "time": msg.time,
        "narration": msg.narration,
        "dialogue": [{"character_id": d.character_id, "text": d.text} for d in msg.dialogue],
        "duration": msg.duration,
        "image_url": _sign(signer, msg.image_key, base),
        "thumbnail_url": _sign(signer, msg.thumbnail_key, base),
        "image_style": msg.image_style,
        "image_status": msg.image_status,
        "aspect_ratio": msg.aspect_ratio,
        "image_width": msg.image_width,
        "image_height": msg.image_height,
        "audio_url": _sign(signer, msg.audio_key, base),
        "audio_duration": msg.audio_duration,
        "audio_source": msg.audio_source,
        "voice": msg.voice,
        "speed": msg.speed,
        "audio_segments": [message_to_dict(s) for s in msg.audio_segments],
        "language": msg.language,
        "video_asset_id": msg.video_asset_id,
        "version": msg.version,
        "created_at": msg.created_at,
        "updated_at": msg.updated_at,
    }


def _accepted(ref: Any) -> dict[str, Any]:
    return ok({"task_id": ref.task_id, "status": ref.status, "estimated_time": ref.estimated_time})


class GenerateAccepted(Accepted):
    scene_count: int = Field(description="scenes of the script the shots are planned from")


@router.post(
    "/generate",
    status_code=202,
    response_model=Envelope[GenerateAccepted],
    responses=TASK_LINKS,
)
async def generate_storyboards(
    drama_id: DramaId, body: GenerateIn, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Plan shots from a script's scenes and draw a frame for each (a task).

    The task result is `{storyboards: [{id, scene_id, scene_number, position, shot_type,
    description, image_url, thumbnail_url, status}], total_count, success_count,
    failed_count}`. Generating again from the same script replaces that script's earlier
    storyboards: the new ones take their place in the order.
    """
    options = body.options
    request = storyboards_pb2.GenerateStoryboardsRequest(
        drama_id=drama_id,
        script_id=body.script_id,
        shot_type=options.shot_type,
        image_style=options.image_style,
        count_per_scene=options.count_per_scene,
        aspect_ratio=options.aspect_ratio,
        seed=options.seed,
        image_provider=options.image_provider,
        image_model=options.image_model,
    )
    ref = await call(
        state.stubs.storyboards.GenerateStoryboards, request, user_id=user["_id"], timeout=30.0
    )
    return ok(
        {
            "task_id": ref.task_id,
            "status": ref.status,
            "estimated_time": ref.estimated_time,
            "scene_count": ref.scene_count,
        }
    )


@router.get("", response_model=ListEnvelope[StoryboardOut])
async def list_storyboards(
    drama_id: DramaId,
    request: Request,
    state: State,
    user: CurrentUser,
    paging: Paging,
    script_id: Annotated[str, Query(max_length=80, description="only this script's")] = "",
) -> dict[str, Any]:
    """In play order (`position` 1..n across the drama)."""
    msg = await call(
        state.stubs.storyboards.ListStoryboards,
        storyboards_pb2.ListStoryboardsRequest(
            drama_id=drama_id, page=paging.page, per_page=paging.per_page, script_id=script_id
        ),
        user_id=user["_id"],
    )
    base = base_url(request)
    return paged(
        [storyboard_out(s, state.signer, base) for s in msg.storyboards],
        page=paging.page,
        per_page=paging.per_page,
        total=msg.total,
    )


@router.put("/reorder", response_model=Envelope[list[StoryboardOut]])
async def reorder_storyboards(
    drama_id: DramaId, body: ReorderIn, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Set the whole order: every storyboard of the drama exactly once, positions exactly
    1..n (400 otherwise; an unknown id is 404). Answers the storyboards in their new order."""
    msg = await call(
        state.stubs.storyboards.ReorderStoryboards,
        storyboards_pb2.ReorderStoryboardsRequest(
            drama_id=drama_id,
            order=[storyboards_pb2.ReorderEntry(id=e.id, position=e.position) for e in body.order],
        ),
        user_id=user["_id"],
    )
    base = base_url(request)
    return ok([storyboard_out(s, state.signer, base) for s in msg.storyboards])


@router.get("/{storyboard_id}", response_model=Envelope[StoryboardOut])
async def get_storyboard(
    drama_id: DramaId,
    storyboard_id: StoryboardId,
    request: Request,
    state: State,
    user: CurrentUser,
) -> dict[str, Any]:
    msg = await call(
        state.stubs.storyboards.GetStoryboard,
        storyboards_pb2.StoryboardRef(drama_id=drama_id, storyboard_id=storyboard_id),
        user_id=user["_id"],
    )
    return ok(storyboard_out(msg, state.signer, base_url(request)))


@router.put(
    "/{storyboard_id}",
    response_model=Envelope[StoryboardOut],
    openapi_extra={BODY_LIMIT_KEY: 1024 * 1024},
)
async def update_storyboard(
    drama_id: DramaId,
    storyboard_id: StoryboardId,
    body: StoryboardUpdate,
    request: Request,
    state: State,
    user: CurrentUser,
) -> dict[str, Any]:
    """Replace the fields given; with `version`, a stale copy answers 409 (code 1003).

    `video_asset_id` names an uploaded video of the drama the final cut and the studio clips
    play for this shot (any size, fps or codec; conformed to the cut); null clears it.
    `image_asset_id` makes an uploaded image of the drama the shot's frame."""
    rpc = storyboards_pb2.UpdateStoryboardRequest(
        drama_id=drama_id, storyboard_id=storyboard_id, expected_version=body.version or 0
    )
    for name in ("description", "shot_type", "narration", "duration", "camera_movement", "prompt"):
        value = getattr(body, name)
        if value is not None:
            setattr(rpc, name, value)
    if "video_asset_id" in body.model_fields_set:  # null clears, unlike the other fields
        rpc.video_asset_id = body.video_asset_id or ""
    if body.image_asset_id is not None:
        rpc.image_asset_id = body.image_asset_id
    if body.composition is not None:
        rpc.composition.CopyFrom(to_object(body.composition))
    if body.character_ids is not None:
        rpc.set_character_ids = True
        rpc.character_ids.extend(body.character_ids)
    if body.dialogue is not None:
        rpc.set_dialogue = True
        rpc.dialogue.extend(
            drama_pb2.DialogueLine(character_id=d.character_id, text=d.text) for d in body.dialogue
        )
    msg = await call(state.stubs.storyboards.UpdateStoryboard, rpc, user_id=user["_id"])
    return ok(storyboard_out(msg, state.signer, base_url(request)))


@router.delete("/{storyboard_id}", response_model=Envelope[None])
async def delete_storyboard(
    drama_id: DramaId, storyboard_id: StoryboardId, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Delete it with its frame and audio; the storyboards after it move up one place."""
    await call(
        state.stubs.storyboards.DeleteStoryboard,
        storyboards_pb2.StoryboardRef(drama_id=drama_id, storyboard_id=storyboard_id),
        user_id=user["_id"],
    )
    return ok(None)


@router.post(
    "/{storyboard_id}/regenerate-image",
    status_code=202,
    response_model=Envelope[Accepted],
    responses=TASK_LINKS,
)
async def regenerate_image(
    drama_id: DramaId,
    storyboard_id: StoryboardId,
    body: RegenerateIn,
    state: State,
    user: CurrentUser,
) -> dict[str, Any]:
    """Draw the frame again (a task whose result is `{storyboard: {…, image_url}}`).

    A different seed or prompt gives a different frame; the old frame is deleted.
    """
    ref = await call(
        state.stubs.storyboards.RegenerateImage,
        storyboards_pb2.RegenerateImageRequest(
            drama_id=drama_id, storyboard_id=storyboard_id, **body.model_dump()
        ),
        user_id=user["_id"],
    )
    return _accepted(ref)


@router.put("/{storyboard_id}/link-scene", response_model=Envelope[StoryboardOut])
async def link_scene(
    drama_id: DramaId,
    storyboard_id: StoryboardId,
    body: LinkSceneIn,
    request: Request,
    state: State,
    user: CurrentUser,
) -> dict[str, Any]:
    """Link to a script scene: the storyboard takes the scene's characters, location and time
    (and its narration when it has none). An unknown scene or script is 404."""
    msg = await call(
        state.stubs.storyboards.LinkScene,
        storyboards_pb2.LinkSceneRequest(
            drama_id=drama_id,
            storyboard_id=storyboard_id,
            scene_id=body.scene_id,
            script_id=body.script_id,
        ),
        user_id=user["_id"],
    )
    return ok(storyboard_out(msg, state.signer, base_url(request)))


_AUDIO_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": AudioIn.model_json_schema()},
        "multipart/form-data": {"schema": AudioUpload.model_json_schema()},
    },
}


async def _audio_json(request: Request) -> AudioIn:
    data = await read_json(request, MAX_JSON_BODY)
    if not isinstance(data, dict):
        raise ValidationFailed("request body must be a JSON object", field="body")
    try:
        return AudioIn.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc


@router.post(
    "/{storyboard_id}/audio",
    status_code=202,
    response_model=Envelope[Accepted],
    responses={
        201: {"model": Envelope[StoryboardOut], "description": "the uploaded audio"},
        **TASK_LINKS,
    },
    openapi_extra={"requestBody": _AUDIO_BODY, BODY_LIMIT_KEY: UPLOAD},
)
async def shot_audio(
    drama_id: DramaId,
    storyboard_id: StoryboardId,
    request: Request,
    state: State,
    user: CurrentUser,
) -> Any:
    """The shot's voice, generated or uploaded.

    JSON `{text, voice, audio_provider, speed}` speaks it through the named speech provider
    (default `offline`: Piper for English, eSpeak NG for Mandarin; an unknown provider or voice
    is 400) (202, a task whose result is
    `{storyboard: {…, audio_url, audio_duration}}`): without `text`, the shot's narration in
    `voice` and each line in its character's voice. Multipart `file` (WAV, MP3, OGG or M4A by
    content; 415 otherwise, 413 over the upload limit) is kept as WAV with its measured
    duration (201 with the storyboard). A shot shorter than its audio is lengthened to fit.
    """
    content_type = request.headers.get("content-type", "").lower()
    if content_type.startswith("multipart/form-data"):
        async with staged_upload(
            request,
            state.objects,
            user_id=user["_id"],
            file_field="file",
            limit=state.settings.max_upload_bytes,
        ) as upload:
            msg = await call(
                state.stubs.storyboards.UploadShotAudio,
                storyboards_pb2.UploadShotAudioRequest(
                    drama_id=drama_id,
                    storyboard_id=storyboard_id,
                    staging_key=upload.key,
                    filename=upload.filename,
                ),
                user_id=user["_id"],
                timeout=max(state.settings.grpc_deadline_s, 120.0),
            )
        body = ok(storyboard_out(msg, state.signer, base_url(request)))
        return JSONResponse(body, status_code=201)
    if content_type and not content_type.startswith("application/json"):
        raise AppError(
            "send application/json or multipart/form-data",
            code=Code.UNSUPPORTED_FILE,
            field="content-type",
        )
    audio = await _audio_json(request)
    ref = await call(
        state.stubs.storyboards.GenerateShotAudio,
        storyboards_pb2.GenerateShotAudioRequest(
            drama_id=drama_id,
            storyboard_id=storyboard_id,
            text=audio.text,
            voice=audio.voice,
            speed=audio.speed,
            audio_provider=audio.audio_provider,
        ),
        user_id=user["_id"],
    )
    return _accepted(ref)
