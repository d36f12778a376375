"""`/workflow`: seed 001's workflows — create, read, list, pause, resume, cancel, retry,
progress, and the WebSocket that pushes a workflow's progress (seed 001 §9).

Answered by the workflow service (`WorkflowService`, workflows.proto); every id is the caller's
or 404 (1002). The WebSocket `GET /workflow/{id}/ws?token=…` (or `Authorization: Bearer`)
sends the current `progress` first, then `progress`, `stage_completed`, `stage_failed`,
`workflow_completed` or `workflow_failed` as they happen, `{"type": "ping"}` is answered with
`{"type": "pong"}`, and the socket closes (1000) after the terminal message. A bad token closes
it with 4401, another user's (or an unknown) workflow with an error frame and 4404; the idle
and lifetime caps of `/ws` apply (`reconnect` frame, 4408 / 4000).
"""

from __future__ import annotations

import asyncio
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from google.protobuf import json_format
from pydantic import BaseModel, ConfigDict, Field, model_validator

from storyreel_core.errors import AppError, Code
from storyreel_core.ids import is_id
from storyreel_core.proto.storyreel.v1 import workflows_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import object_to_dict, to_object
from storyreel_core.workflow_models import (
    MAX_NAME,
    Stage,
    WorkflowPreferences,
    WorkflowStatus,
)
from storyreel_gateway.deps import CurrentUser, State, base_url, user_for_token
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.fields import NOT_BLANK, WorkflowId, check_free_json
from storyreel_gateway.json_body import BODY_LIMIT_KEY, CheckedRoute
from storyreel_gateway.links import link, links
from storyreel_gateway.realtime.task_feed import Listener
from storyreel_gateway.routers.realtime import (
    CLOSE_IDLE,
    CLOSE_LIFETIME,
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHORIZED,
    CLOSE_UNAVAILABLE,
    RETRY_AFTER_S,
    require_feed,
)
from storyreel_gateway.routers.workflow_stages.script import uploaded_file_id, uploaded_story
from storyreel_gateway.state import GatewayState

router = APIRouter(
    route_class=CheckedRoute, prefix="/workflow", tags=["workflow"], responses=ERROR_RESPONSES
)

# A 1 MB source text JSON-escaped (\uXXXX: six bytes a character) and the options.
CREATE_BODY = 8 * 1024 * 1024
TERMINAL_MESSAGES = frozenset({"workflow_completed", "workflow_failed"})
WORKFLOW = "/api/v1/workflow/{workflow_id}"


class WorkflowOptionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ai_provider: str | None = Field(
        default=None,
        max_length=64,
        description="a text provider of GET /providers for the script; unset = offline",
        examples=["offline"],
    )
    model: str | None = Field(
        default=None, max_length=200, description="one of the provider's text models"
    )
    preferences: WorkflowPreferences = Field(default_factory=WorkflowPreferences)

    @model_validator(mode="after")
    def storable_extras(self) -> WorkflowOptionsIn:
        """Keys the workflow does not read are kept as given: bounded like every free-form
        object (`fields.check_free_json`), so every store can keep them."""
        check_free_json(self.preferences.model_extra or {}, "options.preferences")
        return self


class WorkflowIn(BaseModel):
    name: str = Field(
        min_length=1, max_length=MAX_NAME, pattern=NOT_BLANK, examples=["我的视频项目"]
    )
    input_type: Literal["prompt", "novel", "markdown", "file"] = Field(
        description="prompt: an idea; novel/markdown: the text; file: input_content names a "
        "file uploaded to /workflow/script/upload (its file_id or file_url)"
    )
    input_content: str = Field(
        min_length=1, max_length=1_000_000, pattern=NOT_BLANK, examples=["一位独行武者穿越废土"]
    )
    options: WorkflowOptionsIn = Field(default_factory=WorkflowOptionsIn)


class WorkflowAccepted(BaseModel):
    workflow_id: str
    status: WorkflowStatus
    created_at: str


class WorkflowStageOut(BaseModel):
    stage: Stage
    status: Literal["pending", "running", "completed", "failed", "cancelled"]
    progress: float
    task_ids: list[str]
    attempt: int
    started_at: str | None = None
    finished_at: str | None = None
    reason: str = ""


class WorkflowScriptOut(BaseModel):
    id: str
    status: str
    title: str
    scene_count: int
    screenplay: str


class WorkflowAssetOut(BaseModel):
    id: str
    type: str
    name: str
    description: str
    status: str
    image_key: str = ""
    image_url: str | None = None


class WorkflowStoryboardOut(BaseModel):
    status: str
    shots_count: int
    completed_shots: int
    storyboard_ids: list[str]


class WorkflowVideoOut(BaseModel):
    id: str
    status: str
    duration: float
    key: str = ""
    url: str | None = None
    thumbnail_key: str = ""
    thumbnail_url: str | None = None
    subtitle_key: str = ""
    subtitle_url: str | None = None


class WorkflowErrorOut(BaseModel):
    stage: str
    reason: str
    code: int


class WorkflowOut(BaseModel):
    id: str
    name: str
    status: WorkflowStatus
    current_stage: str
    progress: float = Field(ge=0, le=1)
    drama_id: str
    input_type: str
    options: dict[str, Any]
    stages: list[WorkflowStageOut]
    script: WorkflowScriptOut | None = None
    assets: list[WorkflowAssetOut]
    storyboard: WorkflowStoryboardOut | None = None
    video: WorkflowVideoOut | None = None
    error: WorkflowErrorOut | None = None
    retries: int
    created_at: str
    updated_at: str
    finished_at: str | None = None


class WorkflowListOut(BaseModel):
    workflows: list[WorkflowOut]
    total: int
    page: int
    page_size: int


class WorkflowProgressOut(BaseModel):
    workflow_id: str
    status: WorkflowStatus
    overall_progress: float
    current_stage: str
    stage_progress: float
    stages: list[WorkflowStageOut]


def _dict(msg: Any) -> dict[str, Any]:
    out: dict[str, Any] = json_format.MessageToDict(
        msg, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return out


def present(state: GatewayState, msg: workflows_pb2.Workflow, base: str) -> dict[str, Any]:
    view = _dict(msg)
    for name in ("script", "storyboard", "video", "error"):
        if not msg.HasField(name):
            view[name] = None
    for key in ("started_at", "finished_at"):
        if not view.get(key):
            view[key] = None
    for stage in view["stages"]:
        for key in ("started_at", "finished_at"):
            stage[key] = stage.get(key) or None
    view["options"] = {
        "ai_provider": msg.options.ai_provider or None,
        "model": msg.options.model or None,
        "preferences": object_to_dict(msg.options.preferences),
    }
    view["assets"] = [
        state.signer.with_urls(a, base) if a.get("image_key") else {**a, "image_url": None}
        for a in view["assets"]
    ]
    if view["video"] is not None:
        view["video"] = state.signer.with_urls(
            {k: v for k, v in view["video"].items() if v != "" or not k.endswith("key")}, base
        )
    return view


def stages_view(stages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **s,
            "started_at": s.get("started_at") or None,
            "finished_at": s.get("finished_at") or None,
        }
        for s in stages
    ]


async def _get(state: GatewayState, user_id: str, workflow_id: str) -> workflows_pb2.Workflow:
    return await call(
        state.stubs.workflow.GetWorkflow,
        workflows_pb2.WorkflowRef(workflow_id=workflow_id),
        user_id=user_id,
    )


@router.post(
    "",
    status_code=202,
    response_model=Envelope[WorkflowAccepted],
    responses=links(
        202,
        GetWorkflow=link(
            WORKFLOW, "get", "the workflow", workflow_id="$response.body#/data/workflow_id"
        ),
        WorkflowProgress=link(
            f"{WORKFLOW}/progress",
            "get",
            "its progress",
            workflow_id="$response.body#/data/workflow_id",
        ),
        CancelWorkflow=link(
            f"{WORKFLOW}/cancel",
            "post",
            "cancel it",
            workflow_id="$response.body#/data/workflow_id",
        ),
    ),
    openapi_extra={BODY_LIMIT_KEY: CREATE_BODY},
    summary="Create a workflow (seed 001 §2.1); its stages start at once",
)
async def create_workflow(body: WorkflowIn, state: State, user: CurrentUser) -> dict[str, Any]:
    prefs = to_object(body.options.preferences.model_dump(mode="json"))
    kind: str = body.input_type
    content = body.input_content
    if kind == "file":  # seed 001: "the novel's text or the file's URL"
        file_id = uploaded_file_id(content, "input_content")
        kind, content = await uploaded_story(state, user["_id"], file_id)
    request = workflows_pb2.CreateWorkflowRequest(
        name=body.name,
        input_type=kind,
        input_content=content,
        options=workflows_pb2.WorkflowOptions(
            ai_provider=body.options.ai_provider or "",
            model=body.options.model or "",
            preferences=prefs,
        ),
    )
    msg = await call(state.stubs.workflow.CreateWorkflow, request, user_id=user["_id"])
    return ok({"workflow_id": msg.id, "status": msg.status, "created_at": msg.created_at})


@router.get("", response_model=Envelope[WorkflowListOut])
async def list_workflows(
    request: Request,
    state: State,
    user: CurrentUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=100)] = 20,
    status: Annotated[WorkflowStatus | None, Query()] = None,
    stage: Annotated[Stage | None, Query()] = None,
) -> dict[str, Any]:
    """The caller's workflows, newest first (seed 001 §2.3: `page`, `page_size`, `status`,
    `stage`). `progress` here counts finished stages; GET /workflow/{id} adds the running
    stage's own progress."""
    msg = await call(
        state.stubs.workflow.ListWorkflows,
        workflows_pb2.ListWorkflowsRequest(
            page=page, page_size=page_size, status=status or "", stage=stage or ""
        ),
        user_id=user["_id"],
    )
    base = base_url(request)
    return ok(
        {
            "workflows": [present(state, w, base) for w in msg.workflows],
            "total": msg.total,
            "page": page,
            "page_size": page_size,
        }
    )


@router.get("/{workflow_id}", response_model=Envelope[WorkflowOut])
async def get_workflow(
    workflow_id: WorkflowId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Status, current stage, progress 0–1, the drama it runs on (edit its script, characters
    and storyboards through the studio API between stages) and what each stage produced."""
    return ok(present(state, await _get(state, user["_id"], workflow_id), base_url(request)))


@router.get("/{workflow_id}/progress", response_model=Envelope[WorkflowProgressOut])
async def workflow_progress(
    workflow_id: WorkflowId, state: State, user: CurrentUser
) -> dict[str, Any]:
    msg = await call(
        state.stubs.workflow.GetWorkflowProgress,
        workflows_pb2.WorkflowRef(workflow_id=workflow_id),
        user_id=user["_id"],
    )
    view = _dict(msg)
    view["stages"] = stages_view(view["stages"])
    return ok(view)


async def _act(
    method: Any, workflow_id: str, request: Request, state: GatewayState, user: dict[str, Any]
) -> dict[str, Any]:
    msg = await call(
        method, workflows_pb2.WorkflowRef(workflow_id=workflow_id), user_id=user["_id"]
    )
    return ok(present(state, msg, base_url(request)))


@router.post("/{workflow_id}/pause", response_model=Envelope[WorkflowOut])
async def pause_workflow(
    workflow_id: WorkflowId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """No further stage starts; the running one finishes. 409 (1003) unless pending or
    running (pausing a paused workflow answers it as it is)."""
    return await _act(state.stubs.workflow.PauseWorkflow, workflow_id, request, state, user)


@router.post("/{workflow_id}/resume", response_model=Envelope[WorkflowOut])
async def resume_workflow(
    workflow_id: WorkflowId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Continue from the first unfinished stage. 409 (1003) for a finished workflow."""
    return await _act(state.stubs.workflow.ResumeWorkflow, workflow_id, request, state, user)


@router.post("/{workflow_id}/cancel", response_model=Envelope[WorkflowOut])
async def cancel_workflow(
    workflow_id: WorkflowId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Cancel the running stage's tasks (a running ffmpeg is killed); the drama keeps what
    finished stages made. 409 (1003) for a completed or failed workflow."""
    return await _act(state.stubs.workflow.CancelWorkflow, workflow_id, request, state, user)


@router.post("/{workflow_id}/retry", response_model=Envelope[WorkflowOut])
async def retry_workflow(
    workflow_id: WorkflowId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Run a failed (or cancelled) workflow again from the stage that did not finish; earlier
    stages keep their results. 409 (1003) for any other status."""
    return await _act(state.stubs.workflow.RetryWorkflow, workflow_id, request, state, user)


# --- WebSocket ---------------------------------------------------------------------------


class WorkflowSocket:
    def __init__(self, ws: WebSocket, state: GatewayState, listener: Listener) -> None:
        self.ws = ws
        self.state = state
        self.listener = listener
        base = str(ws.base_url).rstrip("/")
        self.base = base.replace("ws://", "http://", 1).replace("wss://", "https://", 1)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(message, ensure_ascii=False, default=str))

    async def push(self, event: dict[str, Any]) -> bool:
        """Send one workflow message; True when it was the terminal one."""
        kind = str(event.get("type"))
        data = dict(event.get("data") or {})
        if kind == "workflow_completed":
            data = self.state.signer.with_urls(data, self.base)
        await self.send({"type": kind, "data": data})
        return kind in TERMINAL_MESSAGES

    async def receive_loop(self, idle_s: float) -> str:
        while True:
            try:
                message = await asyncio.wait_for(self.ws.receive(), idle_s)
            except TimeoutError:
                return "idle"
            if message["type"] == "websocket.disconnect":
                return "gone"
            try:
                frame = json.loads(message.get("text") or "")
            except ValueError:
                frame = None
            if isinstance(frame, dict) and frame.get("type") == "ping":
                await self.send({"type": "pong"})
            else:
                await self.send(
                    {"type": "error", "code": int(Code.VALIDATION), "message": "send ping frames"}
                )

    async def send_loop(self) -> str:
        while True:
            if await self.push(await self.listener.next()):
                return "done"


def snapshot(msg: workflows_pb2.Workflow) -> list[dict[str, Any]]:
    """The messages that tell a new client where the workflow stands."""
    fractions = {s.stage: s.progress for s in msg.stages}
    current = msg.current_stage
    data = {
        "workflow_id": msg.id,
        "status": msg.status,
        "overall_progress": msg.progress,
        "current_stage": current,
        "stage_progress": fractions.get(current, 0.0),
        "updated_at": msg.updated_at,
    }
    out: list[dict[str, Any]] = [{"type": "progress", "data": data}]
    if msg.status == "completed":
        video = (
            {k: v for k, v in _dict(msg.video).items() if v != ""} if msg.HasField("video") else {}
        )
        done = {"workflow_id": msg.id, "status": "completed", "overall_progress": 1.0,
                "drama_id": msg.drama_id, "video": video, "updated_at": msg.updated_at}  # fmt: skip
        out.append({"type": "workflow_completed", "data": done})
    elif msg.status in ("failed", "cancelled"):
        failed = {"workflow_id": msg.id, "status": msg.status, "stage": msg.error.stage or current,
                  "reason": msg.error.reason or "cancelled by its owner",
                  "code": msg.error.code or None, "updated_at": msg.updated_at}  # fmt: skip
        out.append({"type": "workflow_failed", "data": failed})
    return out


@router.websocket("/{workflow_id}/ws")
async def workflow_socket(
    ws: WebSocket, workflow_id: str, token: Annotated[str | None, Query(max_length=4096)] = None
) -> None:
    state: GatewayState = ws.app.state.gateway
    await ws.accept()
    header = ws.headers.get("authorization", "")
    if token is None and header.lower().startswith("bearer "):
        token = header[7:]
    try:
        if not token:
            raise AppError("authentication required", code=Code.TOKEN_INVALID)
        user = await user_for_token(state, token)
        feed = require_feed(state)
    except AppError as exc:
        await ws.send_text(
            json.dumps({"type": "error", "code": int(exc.code), "message": exc.message})
        )
        unavailable = exc.code == Code.UNAVAILABLE
        await ws.close(CLOSE_UNAVAILABLE if unavailable else CLOSE_UNAUTHORIZED, exc.message)
        return
    listener = Listener()
    # Attached before the state is read, so nothing between the read and the stream is lost.
    feed.attach(workflow_id, listener)
    sock = WorkflowSocket(ws, state, listener)
    receiving: asyncio.Task[str] | None = None
    sending: asyncio.Task[str] | None = None
    try:
        try:
            if not is_id(workflow_id, "wf"):
                raise AppError(f"workflow {workflow_id} not found", code=Code.NOT_FOUND)
            current = await _get(state, user["_id"], workflow_id)
        except AppError as exc:
            await sock.send({"type": "error", "code": int(exc.code), "message": exc.message})
            not_found = exc.code == Code.NOT_FOUND
            await ws.close(CLOSE_NOT_FOUND if not_found else CLOSE_UNAVAILABLE, "not found")
            return
        first = snapshot(current)
        for message in first:
            if await sock.push(message):
                await ws.close(1000, "workflow finished")
                return
        settings = state.settings
        receiving = asyncio.create_task(sock.receive_loop(settings.ws_idle_timeout_s))
        sending = asyncio.create_task(sock.send_loop())
        done, _ = await asyncio.wait(
            {receiving, sending},
            timeout=settings.realtime_max_lifetime_s,
            return_when=asyncio.FIRST_COMPLETED,
        )
        ended = next(iter(done)).result() if done else "lifetime"
        if ended == "done":
            await ws.close(1000, "workflow finished")
        elif ended in ("idle", "lifetime"):
            await sock.send({"type": "reconnect", "reason": ended, "retry_after_s": RETRY_AFTER_S})
            await ws.close(CLOSE_IDLE if ended == "idle" else CLOSE_LIFETIME, ended)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away
    finally:
        for task in (receiving, sending):
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in (receiving, sending) if t), return_exceptions=True)
        feed.detach(workflow_id, listener)
