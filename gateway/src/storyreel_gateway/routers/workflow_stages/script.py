"""Seed 001 §3, the script stage: `POST /workflow/script` writes a script (a prompt, a novel,
Markdown, or a story file uploaded to `POST /workflow/script/upload`) on a new drama, a drama,
or a workflow's drama; `GET /workflow/script/{id}` reads it with its scenes."""

from __future__ import annotations

import asyncio
from typing import Any, Literal
from urllib.parse import unquote, urlparse

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed
from storyreel_core.ids import id_pattern, is_id
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import script_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.dramas import create_drama
from storyreel_core.rpc.messages import objects_to_list
from storyreel_gateway.default_budget import effective_budget
from storyreel_gateway.deps import CurrentUser, State, base_url
from storyreel_gateway.envelope import Envelope, ok
from storyreel_gateway.fields import NOT_BLANK
from storyreel_gateway.json_body import BODY_LIMIT_KEY, CheckedRoute
from storyreel_gateway.routers.script_upload import MAX_BODY_BYTES, MAX_TEXT_BYTES
from storyreel_gateway.routers.workflow_stages.runs import (
    STARTS_A_RUN,
    DramaRef,
    ScriptRunId,
    WorkflowRef,
    accept_run,
    load_run,
    named_drama,
    stage_runs,
    task_error,
    task_result,
    workflow_drama,
)
from storyreel_gateway.script_files import CONTENT_TYPES, MAX_DOCX_BYTES, read_story_file
from storyreel_gateway.state import GatewayState
from storyreel_gateway.uploads import receive_form, upload_schema

router = APIRouter(route_class=CheckedRoute)
log = get_logger("storyreel.gateway.workflow_stages")


class ScriptOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ai_provider: str | None = Field(default=None, max_length=64, examples=["offline"])
    model: str | None = Field(default=None, max_length=200)
    style: str = Field(default="", max_length=100)
    language: Literal["zh", "en"] | None = None
    scene_count: int | None = Field(default=None, ge=1, le=30)
    budget: float | None = Field(default=None, ge=0, le=1_000_000)


class ScriptStageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    workflow_id: WorkflowRef = None
    drama_id: DramaRef = None
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=100,
        pattern=NOT_BLANK,
        description="the new drama's name when neither workflow_id nor drama_id is given",
    )
    input_type: Literal["prompt", "novel", "markdown", "file"] = "prompt"
    input_content: str = Field(default="", max_length=1_000_000)
    input_file_url: str | None = Field(
        default=None, max_length=4096, description="the file_url of POST /workflow/script/upload"
    )
    input_file_id: str | None = Field(default=None, pattern=id_pattern("wfile"), max_length=100)
    options: ScriptOptionsIn = Field(default_factory=ScriptOptionsIn)


class ScriptStageOut(BaseModel):
    id: str
    drama_id: str
    workflow_id: str | None
    task_id: str
    script_id: str | None
    input_type: str
    title: str
    screenplay: str
    storyboard_script: str
    scenes: list[dict[str, Any]]
    scene_count: int
    status: str
    error: dict[str, Any] | None = None
    created_at: str


class UploadOut(BaseModel):
    file_id: str
    file_url: str
    file_name: str
    file_size: int
    content_type: str
    text_length: int
    workflow_id: str | None = None


def storyboard_script(scenes: list[dict[str, Any]]) -> str:
    """The scenes as a shooting script: a heading per scene, its narration and its lines."""
    parts: list[str] = []
    for i, scene in enumerate(scenes, 1):
        head = " · ".join(str(x) for x in (scene.get("location"), scene.get("time")) if x)
        lines = [f"{scene.get('number') or i}. {head}".rstrip(". ").strip()]
        if scene.get("narration"):
            lines.append(str(scene["narration"]))
        for line in scene.get("dialogue") or []:
            if isinstance(line, dict) and line.get("text"):
                lines.append(f"{line.get('speaker') or '—'}: {line['text']}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts)


# --- script (§3) --------------------------------------------------------------------------


def _file_id_from(url: str, field: str = "input_file_url") -> str:
    """The wfile_ id inside a file_url this gateway gave out (`/media/workflow-inputs/<owner>/
    <file id>/…`); NotFound naming `field` for any other URL."""
    try:
        parts = unquote(urlparse(url).path).split("/")
    except ValueError:  # not a URL at all (urlparse refuses a malformed netloc)
        parts = []
    if "media" in parts:
        rest = parts[parts.index("media") + 1 :]
        if len(rest) >= 3 and rest[0] == "workflow-inputs" and is_id(rest[2], "wfile"):
            return rest[2]
    raise NotFound(f"{field} is not a file uploaded to /workflow/script/upload", field=field)


async def uploaded_story(state: GatewayState, owner_id: str, file_id: str) -> tuple[str, str]:
    """`(input_type, text)` of a file the owner uploaded to `POST /workflow/script/upload`:
    `markdown` for a .md file or text with a heading in its first 200 lines, else `novel`.
    NotFound (404) for an unknown id or another owner's."""
    upload = await stage_runs(state).get(owner_id, "file", file_id)
    content = (await state.objects.get_bytes(upload["text_key"])).decode("utf-8")
    heading = any(line.lstrip().startswith("#") for line in content.splitlines()[:200])
    markdown = upload.get("file_kind") == "markdown" or heading
    return ("markdown" if markdown else "novel"), content


def uploaded_file_id(reference: str, field: str) -> str:
    """The `wfile_` id a client names an uploaded story file by: the id itself or the
    `file_url` the upload answered. NotFound (404) for anything else (no URL is fetched)."""
    reference = reference.strip()
    return reference if is_id(reference, "wfile") else _file_id_from(reference, field)


@router.post(
    "/script",
    **STARTS_A_RUN,
    openapi_extra={BODY_LIMIT_KEY: MAX_BODY_BYTES},
    summary="Write a script (seed 001 §3.1) on a new drama, a drama or a workflow's drama",
)
async def create_script(body: ScriptStageIn, state: State, user: CurrentUser) -> dict[str, Any]:
    """`input_type` prompt (an idea), novel or markdown (`input_content`), or file (the text
    of `input_file_id`/`input_file_url` from `POST /workflow/script/upload`). Without
    `workflow_id`/`drama_id` a drama named `name` (default: the first words) is created.
    202: `{task_id, status, id, drama_id}`; `GET /workflow/script/{id}` shows the script."""
    uid = user["_id"]
    runs = stage_runs(state)
    kind: str = body.input_type
    content = body.input_content
    if kind == "file":
        file_id = body.input_file_id or (
            _file_id_from(body.input_file_url) if body.input_file_url else ""
        )
        if not file_id:
            raise ValidationFailed(
                "input_type file needs input_file_id or input_file_url", field="input_file_id"
            )
        kind, content = await uploaded_story(state, uid, file_id)
    if not content.strip():
        raise ValidationFailed("input_content is empty", field="input_content")
    if len(content.encode("utf-8")) > MAX_TEXT_BYTES:
        raise AppError(
            "input_content is larger than 1 MB", code=Code.FILE_TOO_LARGE, field="input_content"
        )
    run_id = runs.new_id("script")
    drama = await named_drama(state, uid, body.workflow_id, body.drama_id)
    if drama is None:
        name = (body.name or " ".join(content.split())[:40] or "script").strip()
        drama = await create_drama(
            state.stubs.script.CreateDrama,
            uid,
            name,
            description=f"made by {run_id}",
            tail=run_id[-8:],
        )
    opts = body.options
    rpc = script_pb2.GenerateScriptRequest(
        drama_id=drama,
        prompt=content if kind == "prompt" else "",
        input_type=kind,
        input_content="" if kind == "prompt" else content,
        style=opts.style,
        language=opts.language or "",
        title=body.name or "",
        scene_count=opts.scene_count or 0,
        ai_provider=opts.ai_provider or "",
        model=opts.model or "",
        budget=effective_budget(opts.budget, user, state.settings),
    )
    ref = await call(state.stubs.script.GenerateScript, rpc, user_id=uid, timeout=30.0)
    return await accept_run(
        state,
        uid,
        "script",
        drama,
        [ref.task_id],
        status=ref.status,
        workflow_id=body.workflow_id,
        run_id=run_id,
        input_type=body.input_type,
    )


@router.get("/script/{wscript_id}", response_model=Envelope[ScriptStageOut])
async def get_script(wscript_id: ScriptRunId, state: State, user: CurrentUser) -> dict[str, Any]:
    """The script as written (seed 001 §3.2): `screenplay` (its text), `storyboard_script` (its
    scenes as a shooting script), `scenes`; the script's current version once completed."""
    uid = user["_id"]
    loaded = await load_run(state, uid, "script", wscript_id)
    run, task = loaded.run, loaded.task
    view = loaded.view() | {
        "workflow_id": run.get("workflow_id"),
        "script_id": None,
        "input_type": run.get("input_type", ""),
        "title": "",
        "screenplay": "",
        "storyboard_script": "",
        "scenes": [],
        "scene_count": 0,
        "error": task_error(task),
    }
    if task.status == "completed":
        script_id = str(task_result(task).get("id") or "")
        try:
            msg = await call(
                state.stubs.script.GetScript,
                script_pb2.GetScriptRequest(drama_id=run["drama_id"], id=script_id),
                user_id=uid,
            )
        except NotFound:
            view["status"] = "deleted"
            return ok(view)
        scenes = objects_to_list(msg.scenes)
        view |= {
            "script_id": msg.id,
            "title": msg.title,
            "screenplay": msg.content,
            "storyboard_script": storyboard_script(scenes),
            "scenes": scenes,
            "scene_count": msg.scene_count,
        }
    return ok(view)


def _upload_schema() -> dict[str, Any]:
    schema = upload_schema("file", {"workflow_id": {"type": "string", "pattern": id_pattern("wf")}})
    schema[BODY_LIMIT_KEY] = MAX_DOCX_BYTES + 64 * 1024
    return schema


@router.post(
    "/script/upload",
    status_code=201,
    response_model=Envelope[UploadOut],
    openapi_extra=_upload_schema(),
    summary="Upload a story file (seed 001 §3.3): .txt, .md or .docx",
)
async def upload_script_file(request: Request, state: State, user: CurrentUser) -> Any:
    """Multipart `file` (.txt/.md UTF-8 ≤ 1 MB; .docx ≤ 10 MB, its paragraphs read as text,
    headings as Markdown headings) and an optional `workflow_id`. Anything else 415 (3002).
    201: `{file_id, file_url, file_size, content_type, text_length}`; pass `input_file_id` (or
    `input_file_url`) with `input_type: "file"` to `POST /workflow/script`."""
    uid = user["_id"]
    async with receive_form(request, file_field="file", limit=MAX_DOCX_BYTES) as form:
        if form.file is None:
            raise ValidationFailed("file is required", field="file")
        workflow_id = (form.fields.get("workflow_id") or "").strip() or None
        if workflow_id:
            if not is_id(workflow_id, "wf"):
                raise NotFound(f"workflow {workflow_id} not found", field="workflow_id")
            await workflow_drama(state, uid, workflow_id)
        raw = await asyncio.to_thread(form.file.path.read_bytes)
        filename = form.file.filename or ""
        kind, text = await asyncio.to_thread(read_story_file, filename, raw, "")
    runs = stage_runs(state)
    file_id = runs.new_id("file")
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in filename)[-80:] or "upload"
    prefix = f"workflow-inputs/{uid}/{file_id}/"
    original_key, text_key = prefix + safe, prefix + "text.txt"
    await state.objects.put_bytes(original_key, raw, CONTENT_TYPES[kind])
    await state.objects.put_bytes(text_key, text.encode("utf-8"), "text/plain; charset=utf-8")
    await runs.create(
        file_id,
        uid,
        "file",
        "",
        workflow_id=workflow_id,
        file_kind=kind,
        original_key=original_key,
        text_key=text_key,
        file_name=filename[:255],
    )
    body = ok(
        {
            "file_id": file_id,
            "file_url": state.signer.sign(original_key, base_url(request)),
            "file_name": filename[:255],
            "file_size": len(raw),
            "content_type": CONTENT_TYPES[kind],
            "text_length": len(text),
            "workflow_id": workflow_id,
        }
    )
    return JSONResponse(body, status_code=201)
