"""`/dramas/{id}/scripts`: scripts, their versions and AI generation, served by the script service.

Every save is a version; PUT takes an optional `version` for optimistic concurrency (409, code
1003, when stale). `generate` answers 202 with a task whose result is the stored script.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from storyreel_core.proto.storyreel.v1 import script_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import object_to_dict, objects_to_list, to_object, to_objects
from storyreel_gateway.default_budget import effective_budget
from storyreel_gateway.deps import CurrentUser, Paging, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ListEnvelope, ok, paged
from storyreel_gateway.fields import (
    NOT_BLANK,
    DramaId,
    ExpectedVersion,
    FreeObject,
    FreeObjectList,
    ScriptId,
    VersionId,
)
from storyreel_gateway.json_body import BODY_LIMIT_KEY, CheckedRoute
from storyreel_gateway.links import SCRIPT_LINKS, TASK_LINKS
from storyreel_gateway.routers.conversations import check_conversation, start_in_conversation
from storyreel_gateway.routers.pipeline import Accepted
from storyreel_gateway.routers.script_upload import (
    MAX_BODY_BYTES,
    MAX_TEXT_BYTES,
    GenerateIn,
    GenerateUpload,
    read_generate_body,
)

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/dramas/{drama_id}/scripts",
    tags=["scripts"],
    responses=ERROR_RESPONSES,
)

ScriptStatus = Literal["draft", "completed", "archived"]
# 1,000,000 characters of content, JSON-escaped (\\uXXXX is six bytes), plus scenes and metadata.
SCRIPT_BODY = 8 * 1024 * 1024


class ScriptIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    content: str = Field(min_length=1, max_length=1_000_000)
    scenes: FreeObjectList = Field(default_factory=list)
    metadata: FreeObject = Field(default_factory=dict)


class ScriptUpdate(BaseModel):
    """Fields present replace the stored ones, absent ones stay; each save is a new version."""

    title: str | None = Field(default=None, min_length=1, max_length=200)
    content: str | None = Field(default=None, min_length=1, max_length=1_000_000)
    scenes: FreeObjectList | None = None
    metadata: FreeObject | None = None
    status: ScriptStatus | None = None
    message: str | None = Field(default=None, max_length=500, description="version note")
    version: ExpectedVersion = None


class RestoreIn(BaseModel):
    version: ExpectedVersion = None


class ScriptOut(BaseModel):
    id: str
    drama_id: str
    title: str
    content: str
    scenes: list[dict[str, Any]]
    metadata: dict[str, Any]
    status: str
    version: int
    scene_count: int
    word_count: int
    created_at: str
    updated_at: str


class ScriptVersionOut(BaseModel):
    id: str
    script_id: str
    drama_id: str
    version: int
    title: str
    content: str
    scenes: list[dict[str, Any]]
    metadata: dict[str, Any]
    status: str
    message: str
    scene_count: int
    word_count: int
    created_at: str


def script_out(msg: script_pb2.Script) -> dict[str, Any]:
    return {
        "id": msg.id,
        "drama_id": msg.drama_id,
        "title": msg.title,
        "content": msg.content,
        "scenes": objects_to_list(msg.scenes),
        "metadata": object_to_dict(msg.metadata),
        "status": msg.status,
        "version": msg.version,
        "scene_count": msg.scene_count,
        "word_count": msg.word_count,
        "created_at": msg.created_at,
        "updated_at": msg.updated_at,
    }


def version_out(msg: script_pb2.ScriptVersion) -> dict[str, Any]:
    return {
        "id": msg.id,
        "script_id": msg.script_id,
        "drama_id": msg.drama_id,
        "version": msg.version,
        "title": msg.title,
        "content": msg.content,
        "scenes": objects_to_list(msg.scenes),
        "metadata": object_to_dict(msg.metadata),
        "status": msg.status,
        "message": msg.message,
        "scene_count": msg.scene_count,
        "word_count": msg.word_count,
        "created_at": msg.created_at,
    }


@router.post(
    "",
    status_code=201,
    responses=SCRIPT_LINKS,
    response_model=Envelope[ScriptOut],
    openapi_extra={BODY_LIMIT_KEY: SCRIPT_BODY},
)
async def create_script(
    drama_id: DramaId, body: ScriptIn, state: State, user: CurrentUser
) -> dict[str, Any]:
    request = script_pb2.CreateScriptRequest(
        drama_id=drama_id,
        title=body.title,
        content=body.content,
        scenes=to_objects(body.scenes),
        metadata=to_object(body.metadata),
    )
    return ok(script_out(await call(state.stubs.script.CreateScript, request, user_id=user["_id"])))


@router.get("", response_model=ListEnvelope[ScriptOut])
async def list_scripts(
    drama_id: DramaId, state: State, user: CurrentUser, paging: Paging
) -> dict[str, Any]:
    """Newest first."""
    request = script_pb2.ListScriptsRequest(
        drama_id=drama_id, page=paging.page, per_page=paging.per_page
    )
    msg = await call(state.stubs.script.ListScripts, request, user_id=user["_id"])
    return paged(
        [script_out(s) for s in msg.scripts],
        page=paging.page,
        per_page=paging.per_page,
        total=msg.total,
    )


def _generate_schemas() -> dict[str, Any]:
    """The two bodies as documented: stricter than the model where the rule depends on more
    than one field. A JSON request needs a story: `prompt` with some non-blank text (novel and
    Markdown requests fall back to it when `input_content` is blank); an upload needs `file`.
    Each text is at most 1 MiB as UTF-8 (413 past it), so at most that many characters."""
    json_schema = GenerateIn.model_json_schema()
    props = json_schema["properties"]
    props["prompt"].pop("default", None)
    props["prompt"].update(minLength=1, maxLength=MAX_TEXT_BYTES, pattern=NOT_BLANK)
    props["input_content"].update(maxLength=MAX_TEXT_BYTES)
    json_schema["required"] = ["prompt"]
    upload = GenerateUpload.model_json_schema()
    upload["properties"]["file"] = {
        "type": "string",
        "format": "binary",
        "description": "UTF-8 .txt or .md file, up to 1 MiB",
    }
    upload["required"] = ["file"]
    return {
        "required": True,
        "content": {
            "application/json": {"schema": json_schema},
            "multipart/form-data": {"schema": upload},
        },
    }


_GENERATE_BODY = _generate_schemas()


@router.post(
    "/generate",
    status_code=202,
    responses=TASK_LINKS,
    response_model=Envelope[Accepted],
    openapi_extra={"requestBody": _GENERATE_BODY, BODY_LIMIT_KEY: MAX_BODY_BYTES},
)
async def generate_script(
    drama_id: DramaId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Write a script from a prompt, a novel text or a Markdown document (JSON or an upload).

    Answers 202 `{task_id, status, estimated_time}`; `GET /tasks/{task_id}` shows the stored
    script as `result` once completed. `persona_id` applies a persona (its style and tone,
    recorded in the script's metadata); `conversation_id` gets a message when the task ends.
    """
    body, source_name = await read_generate_body(request)
    await check_conversation(state, user["_id"], body.conversation_id)
    rpc = script_pb2.GenerateScriptRequest(
        drama_id=drama_id,
        prompt=body.prompt,
        style=body.style,
        length=body.length,
        language=body.language or "",
        input_type=body.input_type,
        input_content=body.input_content,
        title=body.title,
        scene_count=body.scene_count or 0,
        source_name=source_name,
        ai_provider=body.ai_provider or "",
        model=body.model or "",
        budget=effective_budget(body.budget, user, state.settings),
        persona_id=body.persona_id or "",
    )
    ref = await call(state.stubs.script.GenerateScript, rpc, user_id=user["_id"], timeout=30.0)
    await start_in_conversation(
        state, user["_id"], body.conversation_id, ref.task_id, "generate_script"
    )
    return ok({"task_id": ref.task_id, "status": ref.status, "estimated_time": ref.estimated_time})


@router.get("/{script_id}", response_model=Envelope[ScriptOut])
async def get_script(
    drama_id: DramaId, script_id: ScriptId, state: State, user: CurrentUser
) -> dict[str, Any]:
    request = script_pb2.GetScriptRequest(drama_id=drama_id, id=script_id)
    return ok(script_out(await call(state.stubs.script.GetScript, request, user_id=user["_id"])))


@router.put(
    "/{script_id}", response_model=Envelope[ScriptOut], openapi_extra={BODY_LIMIT_KEY: SCRIPT_BODY}
)
async def update_script(
    drama_id: DramaId, script_id: ScriptId, body: ScriptUpdate, state: State, user: CurrentUser
) -> dict[str, Any]:
    request = script_pb2.UpdateScriptRequest(
        drama_id=drama_id,
        id=script_id,
        expected_version=body.version or 0,
        message=body.message or "",
    )
    if body.title is not None:
        request.title = body.title
    if body.content is not None:
        request.content = body.content
    if body.scenes is not None:
        request.set_scenes = True
        request.scenes.extend(to_objects(body.scenes))
    if body.metadata is not None:
        request.metadata.CopyFrom(to_object(body.metadata))
    if body.status is not None:
        request.status = body.status
    return ok(script_out(await call(state.stubs.script.UpdateScript, request, user_id=user["_id"])))


@router.delete("/{script_id}", response_model=Envelope[None])
async def delete_script(
    drama_id: DramaId, script_id: ScriptId, state: State, user: CurrentUser
) -> dict[str, Any]:
    request = script_pb2.DeleteScriptRequest(drama_id=drama_id, id=script_id)
    await call(state.stubs.script.DeleteScript, request, user_id=user["_id"])
    return ok(None)


@router.get("/{script_id}/versions", response_model=ListEnvelope[ScriptVersionOut])
async def list_versions(
    drama_id: DramaId, script_id: ScriptId, state: State, user: CurrentUser, paging: Paging
) -> dict[str, Any]:
    """Newest first; each save of the script is one version."""
    request = script_pb2.ListScriptVersionsRequest(
        drama_id=drama_id, script_id=script_id, page=paging.page, per_page=paging.per_page
    )
    msg = await call(state.stubs.script.ListScriptVersions, request, user_id=user["_id"])
    return paged(
        [version_out(v) for v in msg.versions],
        page=paging.page,
        per_page=paging.per_page,
        total=msg.total,
    )


@router.post("/{script_id}/versions/{version_id}/restore", response_model=Envelope[ScriptOut])
async def restore_version(
    drama_id: DramaId,
    script_id: ScriptId,
    version_id: VersionId,
    state: State,
    user: CurrentUser,
    body: RestoreIn | None = None,
) -> dict[str, Any]:
    """Save the version's title, content, scenes and metadata as a NEW version."""
    request = script_pb2.RestoreScriptVersionRequest(
        drama_id=drama_id,
        script_id=script_id,
        version_id=version_id,
        expected_version=(body.version if body else None) or 0,
    )
    msg = await call(state.stubs.script.RestoreScriptVersion, request, user_id=user["_id"])
    return ok(script_out(msg))
