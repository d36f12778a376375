"""What every stage of seed 001's stage endpoints shares: the run documents, the ids in paths,
the 202 answer, and reading a run's tasks and drama.

A stage run (`stage_runs`) names its drama and the studio tasks it started; one helper records
it and answers the 202 (`accept_run`), one loads it for its owner with its newest task
(`load_run`, 404 for another user's run or another stage's).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, Field

from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed
from storyreel_core.ids import MAX_ID_LENGTH, id_pattern, is_id
from storyreel_core.proto.storyreel.v1 import script_pb2, tasks_pb2, workflows_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import object_to_dict, task_error_from_proto
from storyreel_gateway.envelope import Envelope, ok
from storyreel_gateway.links import TASK_LINKS
from storyreel_gateway.stage_runs import StageKind, StageRuns
from storyreel_gateway.state import GatewayState

PAGE = 100
ACTIVE = frozenset({"pending", "running"})
STAGE_STATUS = {
    "pending": "pending",
    "running": "processing",
    "completed": "completed",
    "failed": "failed",
    "cancelled": "cancelled",
}


def _path_doc(prefix: str) -> str:
    return f"a `{prefix}_…` id from the stage's 202"


ScriptRunId = Annotated[
    str,
    Path(pattern=id_pattern("wscript"), max_length=MAX_ID_LENGTH, description=_path_doc("wscript")),
]
BoardRunId = Annotated[
    str,
    Path(pattern=id_pattern("wboard"), max_length=MAX_ID_LENGTH, description=_path_doc("wboard")),
]
AnimaticRunId = Annotated[
    str, Path(pattern=id_pattern("wanim"), max_length=MAX_ID_LENGTH, description=_path_doc("wanim"))
]
VideoRunId = Annotated[
    str,
    Path(pattern=id_pattern("wvideo"), max_length=MAX_ID_LENGTH, description=_path_doc("wvideo")),
]
EditRunId = Annotated[
    str, Path(pattern=id_pattern("wedit"), max_length=MAX_ID_LENGTH, description=_path_doc("wedit"))
]
AssetPathId = Annotated[
    str, Path(pattern=id_pattern("asset"), max_length=MAX_ID_LENGTH, description="a design asset")
]
ShotPathId = Annotated[
    str, Path(pattern=id_pattern("sb"), max_length=MAX_ID_LENGTH, description="a shot of the run")
]
WorkflowRef = Annotated[str | None, Field(default=None, pattern=id_pattern("wf"), max_length=100)]
DramaRef = Annotated[str | None, Field(default=None, pattern=id_pattern("drama"), max_length=100)]


_stores: dict[int, StageRuns] = {}


def stage_runs(state: GatewayState) -> StageRuns:
    """The stage runs over this gateway's document store (one per store: indexes once)."""
    runs = _stores.get(id(state.docs))
    if runs is None or runs.docs is not state.docs:
        runs = _stores[id(state.docs)] = StageRuns(state.docs)
    return runs


class StageAccepted(BaseModel):
    task_id: str
    status: str
    id: str = Field(description="the stage run: GET /workflow/<stage>/{id}")
    drama_id: str
    task_ids: list[str] = Field(default_factory=list, description="every task it started")


# The route arguments of an endpoint that starts a run's tasks: 202 with `StageAccepted`.
STARTS_A_RUN: dict[str, Any] = {
    "status_code": 202,
    "response_model": Envelope[StageAccepted],
    "responses": TASK_LINKS,
}


# --- helpers ------------------------------------------------------------------------------


async def get_task(state: GatewayState, user_id: str, task_id: str) -> tasks_pb2.Task:
    """The task as the tasks API reads it for `user_id` (NotFound for another's)."""
    return await call(
        state.stubs.tasks.GetTask, tasks_pb2.GetTaskRequest(task_id=task_id), user_id=user_id
    )


def task_result(task: tasks_pb2.Task) -> dict[str, Any]:
    """The task's result object (`{}` until it has one)."""
    return object_to_dict(task.result)


def task_error(task: tasks_pb2.Task) -> dict[str, Any] | None:
    """The error of a failed or cancelled task (`{"reason": <status>}` without one), else None."""
    if task.status not in ("failed", "cancelled"):
        return None
    return task_error_from_proto(task) or {"reason": task.status}


def overall_status(statuses: list[str]) -> str:
    """One status for several tasks: processing while any runs, failed if any failed."""
    if not statuses:
        return "completed"
    if any(s in ACTIVE for s in statuses):
        return "processing"
    for s in ("failed", "cancelled"):
        if s in statuses:
            return s
    return "completed"


def sign(state: GatewayState, key: str, base: str) -> str | None:
    """A signed /media URL under `base` for a stored object's key; None for no key."""
    return state.signer.sign(key, base) if key else None


def accepted(run_id: str, drama_id: str, task_ids: list[str], status: str) -> dict[str, Any]:
    """The 202 envelope of `StageAccepted`: `task_id` is the first of `task_ids`."""
    return ok(
        {
            "task_id": task_ids[0],
            "status": status,
            "id": run_id,
            "drama_id": drama_id,
            "task_ids": task_ids,
        }
    )


async def accept_run(
    state: GatewayState,
    user_id: str,
    kind: StageKind,
    drama_id: str,
    task_ids: list[str],
    *,
    status: str,
    workflow_id: str | None,
    run_id: str = "",
    started: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Record a stage run of `kind` (`run_id`, or a new id of the kind) over the tasks it
    started, with the stage's own `fields`, and answer its 202 (`accepted`). `started` gets the
    stored run before the answer (the animatic moves on from it)."""
    runs = stage_runs(state)
    run = await runs.create(
        run_id or runs.new_id(kind),
        user_id,
        kind,
        drama_id,
        workflow_id=workflow_id,
        task_ids=task_ids,
        **fields,
    )
    if started is not None:
        await started(run)
    return accepted(run["_id"], drama_id, task_ids, status)


@dataclass(frozen=True)
class LoadedRun:
    """A stage run of the caller's and its newest task."""

    run: dict[str, Any]
    task: tasks_pb2.Task

    def view(self) -> dict[str, Any]:
        """What every stage's `GET` shows of its run: `id`, `drama_id`, `task_id`, `status`
        (the task's, in seed 001's words) and `created_at`."""
        return {
            "id": self.run["_id"],
            "drama_id": self.run["drama_id"],
            "task_id": self.task.task_id,
            "status": STAGE_STATUS.get(self.task.status, self.task.status),
            "created_at": self.run["created_at"],
        }


async def load_run(state: GatewayState, user_id: str, kind: StageKind, run_id: str) -> LoadedRun:
    """The caller's `kind` run `run_id` with its newest task; NotFound (1002, field `id`) for
    another user's run or another stage's."""
    run = await stage_runs(state).get(user_id, kind, run_id)
    return LoadedRun(run, await newest_task(state, user_id, run))


async def workflow_drama(state: GatewayState, user_id: str, workflow_id: str) -> str:
    """The workflow's drama (404 for another user's workflow; 409, 1003, before it has one)."""
    wf = await call(
        state.stubs.workflow.GetWorkflow,
        workflows_pb2.WorkflowRef(workflow_id=workflow_id),
        user_id=user_id,
    )
    if not wf.drama_id:
        raise AppError(
            "the workflow has no drama yet: try again once it is running",
            code=Code.EXISTS,
            field="workflow_id",
        )
    return str(wf.drama_id)


async def named_drama(
    state: GatewayState, user_id: str, workflow_id: str | None, drama_id: str | None
) -> str | None:
    """The drama named by `workflow_id` or `drama_id` (404 for another user's), or None."""
    if workflow_id:
        found = await workflow_drama(state, user_id, workflow_id)
        if drama_id and drama_id != found:
            raise ValidationFailed("drama_id is not the workflow's drama", field="drama_id")
        return found
    if drama_id:
        await call(
            state.stubs.script.GetDrama, script_pb2.GetDramaRequest(id=drama_id), user_id=user_id
        )
        return drama_id
    return None


def same_drama(run: dict[str, Any], drama: str | None, field: str) -> str:
    """The run's drama; 400 on `field` when the caller named another one."""
    if drama and drama != run["drama_id"]:
        raise ValidationFailed(f"{field} belongs to another drama", field=field)
    return str(run["drama_id"])


async def newest_task(state: GatewayState, user_id: str, run: dict[str, Any]) -> tasks_pb2.Task:
    """The task the run started last."""
    return await get_task(state, user_id, run["task_ids"][-1])


def finished(task: tasks_pb2.Task, field: str) -> dict[str, Any]:
    """The completed task's result; 409 (1003) on `field` while it is not completed."""
    if task.status != "completed":
        raise AppError(
            f"{field} is {STAGE_STATUS.get(task.status, task.status)}, not completed yet",
            code=Code.EXISTS,
            field=field,
        )
    return task_result(task)


async def script_ref(
    state: GatewayState, user_id: str, ref: str | None, drama: str | None
) -> tuple[str, str]:
    """(drama id, script id) for `script_id` (a wscript_ run or a script_ of the drama);
    without one the drama's newest script."""
    if ref and is_id(ref, "wscript"):
        run = await stage_runs(state).get(user_id, "script", ref)
        drama = same_drama(run, drama, "script_id")
        result = finished(await newest_task(state, user_id, run), "script_id")
        return drama, str(result.get("id") or "")
    if not drama:
        raise ValidationFailed(
            "give workflow_id, drama_id or a wscript_ script_id", field="script_id"
        )
    if ref:
        if not is_id(ref, "script"):
            raise NotFound(f"script {ref} not found", field="script_id")
        await call(
            state.stubs.script.GetScript,
            script_pb2.GetScriptRequest(drama_id=drama, id=ref),
            user_id=user_id,
        )
        return drama, ref
    listed = await call(
        state.stubs.script.ListScripts,
        script_pb2.ListScriptsRequest(drama_id=drama, page=1, per_page=1),
        user_id=user_id,
    )
    if not listed.scripts:
        raise ValidationFailed("the drama has no script yet", field="script_id")
    return drama, str(listed.scripts[0].id)


def clips_by_shot(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A `GenerateVideos` result's clips by the storyboard (shot) id they were cut for."""
    return {v["storyboard_id"]: v for v in result.get("videos") or [] if v.get("storyboard_id")}
