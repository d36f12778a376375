"""`/tasks`: seed 000's task shape, answered by the workflow service's TaskService."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from storyreel_core.errors import AppError, Code
from storyreel_core.proto.storyreel.v1 import tasks_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import task_from_proto
from storyreel_gateway.deps import CurrentUser, Paging, State, base_url
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ListEnvelope, ok, paged
from storyreel_gateway.fields import TaskId
from storyreel_gateway.json_body import CheckedRoute
from storyreel_gateway.routers.video_tasks import forget_video_task
from storyreel_gateway.state import GatewayState

router = APIRouter(
    route_class=CheckedRoute, prefix="/tasks", tags=["tasks"], responses=ERROR_RESPONSES
)


class ProgressOut(BaseModel):
    total: int
    completed: int
    processing: int = 0
    pending: int = 0
    percentage: float


class TaskOut(BaseModel):
    task_id: str
    kind: str
    status: Literal["pending", "running", "completed", "failed", "cancelled"]
    progress: ProgressOut
    current_step: str | None = None
    current_item: dict[str, Any] | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    attempts: int = 0
    parent_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None


def present(state: GatewayState, msg: tasks_pb2.Task, request: Request) -> dict[str, Any]:
    view = task_from_proto(msg)
    if view["result"] is not None:
        view["result"] = state.signer.with_urls(view["result"], base_url(request))
    return view


class StreamStateOut(BaseModel):
    name: str
    messages: int
    bytes: int
    first_seq: int
    last_seq: int
    consumer_count: int


class ConsumerStateOut(BaseModel):
    name: str
    filter_subject: str | None = None
    pending: int
    ack_pending: int
    redelivered: int
    waiting: int
    delivered_seq: int
    ack_floor_seq: int


class QueueStatusOut(BaseModel):
    stream: StreamStateOut
    consumers: list[ConsumerStateOut]


# Declared before `/{task_id}` so the literal path is never read as a task id.
@router.get("/queue/status", response_model=Envelope[QueueStatusOut])
async def queue_status(state: State, user: CurrentUser) -> dict[str, Any]:
    """The JetStream JOBS stream and each worker's durable consumer: `pending` (not yet
    delivered), `ack_pending` (delivered, unacknowledged), `redelivered`. 503 (5003) when the
    gateway has no bus."""
    if state.bus is None:
        raise AppError(
            "the job queue is not reachable: the gateway has no bus (STORYREEL_NATS_URL)",
            code=Code.UNAVAILABLE,
        )
    try:
        return ok(await state.bus.queue_status())
    except Exception as exc:
        raise AppError(f"the job queue did not answer: {exc}", code=Code.UNAVAILABLE) from exc


@router.get("/{task_id}", response_model=Envelope[TaskOut])
async def get_task(
    task_id: TaskId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    msg = await call(
        state.stubs.tasks.GetTask, tasks_pb2.GetTaskRequest(task_id=task_id), user_id=user["_id"]
    )
    return ok(present(state, msg, request))


@router.get("", response_model=ListEnvelope[TaskOut])
async def list_tasks(
    request: Request,
    state: State,
    user: CurrentUser,
    paging: Paging,
    status: Annotated[
        Literal["pending", "running", "completed", "failed", "cancelled"] | None, Query()
    ] = None,
    kind: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    req = tasks_pb2.ListTasksRequest(
        page=paging.page, per_page=paging.per_page, status=status or "", kind=kind or ""
    )
    msg = await call(state.stubs.tasks.ListTasks, req, user_id=user["_id"])
    return paged(
        [present(state, t, request) for t in msg.tasks],
        page=paging.page,
        per_page=paging.per_page,
        total=msg.total,
    )


@router.post("/{task_id}/cancel", response_model=Envelope[TaskOut])
async def cancel_task(
    task_id: TaskId, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    msg = await call(
        state.stubs.tasks.CancelTask,
        tasks_pb2.GetTaskRequest(task_id=task_id),
        user_id=user["_id"],
    )
    return ok(present(state, msg, request))


@router.post("/{task_id}/retry", response_model=Envelope[TaskOut])
async def retry_task(
    task_id: str, request: Request, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Run a failed or cancelled task again (409, code 1003, for any other status). A render
    resumes at its first unfinished stage and reuses the stage tasks that completed."""
    msg = await call(
        state.stubs.tasks.RetryTask,
        tasks_pb2.GetTaskRequest(task_id=task_id),
        user_id=user["_id"],
    )
    return ok(present(state, msg, request))


class DeletedTaskOut(BaseModel):
    message: str
    task_id: str


@router.delete("/{task_id}", response_model=Envelope[DeletedTaskOut])
async def delete_task(task_id: TaskId, state: State, user: CurrentUser) -> dict[str, Any]:
    """Cancel the task when it is unfinished (its stage tasks too, a running ffmpeg is killed),
    then delete it, its stage tasks and what was staged for it (seed 003's materials); what it
    made in a drama stays there. 404 (1002) for another user's task."""
    await call(
        state.stubs.tasks.DeleteTask,
        tasks_pb2.GetTaskRequest(task_id=task_id),
        user_id=user["_id"],
    )
    await forget_video_task(state, task_id, user["_id"])
    return ok({"message": "task deleted", "task_id": task_id})
