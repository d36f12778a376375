"""The workflow RPCs of WorkflowService (seed 001 §2): create, read, list, pause, resume,
cancel, retry, progress. Requests are checked here before anything is stored; the machine
(`workflow_machine`) does the rest."""

from __future__ import annotations

import asyncio
from typing import Any, TypeAlias

import grpc
from pydantic import ValidationError

from storyreel_core.errors import AppError, Code, ValidationFailed
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import workflows_pb2
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.rpc.messages import object_to_dict, to_object
from storyreel_core.rpc.server import caller_id
from storyreel_core.task_launcher import TaskLauncher, too_many_tasks
from storyreel_core.workflow_models import (
    INPUT_TYPES,
    MAX_INPUT_BYTES,
    MAX_NAME,
    STAGES,
    WORKFLOW_STATUSES,
    WorkflowPreferences,
)
from storyreel_workflow.workflow_machine import WorkflowMachine, overall, stage_fraction

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
log = get_logger("storyreel.workflow.api")


def check_create(
    request: workflows_pb2.CreateWorkflowRequest, providers: ProviderRegistry
) -> dict[str, Any]:
    """The stored request: name, input, options with validated preferences. 400 (1001) naming
    the field otherwise (an unknown provider or model names the configured ones)."""
    name = request.name.strip()
    if not name or len(name) > MAX_NAME:
        raise ValidationFailed(f"name must be 1-{MAX_NAME} characters", field="name")
    if request.input_type not in INPUT_TYPES:
        raise ValidationFailed(
            f"input_type must be one of {', '.join(INPUT_TYPES)}", field="input_type"
        )
    if not request.input_content.strip():
        raise ValidationFailed("input_content must not be empty", field="input_content")
    if len(request.input_content.encode("utf-8")) > MAX_INPUT_BYTES:
        raise AppError(
            "input_content is larger than 1 MB", code=Code.FILE_TOO_LARGE, field="input_content"
        )
    options = request.options
    raw = object_to_dict(options.preferences)
    try:
        prefs = WorkflowPreferences.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(["options", "preferences", *(str(p) for p in first["loc"])])
        raise ValidationFailed(f"{field}: {first['msg']}", field=field) from exc
    providers.resolve(
        "text",
        options.ai_provider or None,
        options.model or None,
        field="options.ai_provider",
        model_field="options.model",
    )
    providers.resolve(
        "image",
        prefs.image_provider or None,
        prefs.image_model or None,
        field="options.preferences.image_provider",
        model_field="options.preferences.image_model",
    )
    providers.resolve(
        "video",
        prefs.video_provider or None,
        prefs.video_model or None,
        field="options.preferences.video_provider",
        model_field="options.preferences.video_model",
    )
    return {
        "name": name,
        "input_type": request.input_type,
        "input_content": request.input_content,
        "options": {
            "ai_provider": options.ai_provider.strip(),
            "model": options.model.strip(),
            "preferences": prefs.model_dump(mode="json"),
        },
    }


def stage_message(
    stage: str, record: dict[str, Any], fraction: float
) -> workflows_pb2.WorkflowStage:
    return workflows_pb2.WorkflowStage(
        stage=stage,
        status=record["status"],
        progress=fraction,
        task_ids=list(record["task_ids"]),
        attempt=int(record["attempt"]),
        started_at=record.get("started_at") or "",
        finished_at=record.get("finished_at") or "",
        reason=record.get("reason") or "",
    )


def options_message(options: dict[str, Any]) -> workflows_pb2.WorkflowOptions:
    prefs = to_object(options.get("preferences") or {})
    return workflows_pb2.WorkflowOptions(
        ai_provider=options.get("ai_provider") or "",
        model=options.get("model") or "",
        preferences=prefs,
    )


def workflow_message(doc: dict[str, Any], fractions: dict[str, float]) -> workflows_pb2.Workflow:
    """The workflow with its summaries (seed 001 §2.2); `fractions` per stage 0..1."""
    outputs = doc.get("outputs") or {}
    stages = doc["stages"]
    msg = workflows_pb2.Workflow(
        id=doc["_id"],
        name=doc["name"],
        status=doc["status"],
        current_stage=doc["current_stage"],
        progress=overall(fractions),
        drama_id=doc["drama_id"],
        input_type=doc["input_type"],
        options=options_message(doc["options"]),
        stages=[stage_message(s, stages[s], fractions[s]) for s in STAGES],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        finished_at=doc.get("finished_at") or "",
        retries=int(doc.get("retries") or 0),
    )
    script = outputs.get("script")
    if script:
        msg.script.CopyFrom(
            workflows_pb2.ScriptSummary(
                id=script["id"],
                status=script.get("status", "completed"),
                title=script.get("title", ""),
                scene_count=int(script.get("scene_count", 0)),
                screenplay=script.get("content", ""),
            )
        )
    for asset in outputs.get("assets") or []:
        msg.assets.append(workflows_pb2.AssetSummary(**asset))
    board_ids = list(outputs.get("storyboard_ids") or [])
    if board_ids or stages["storyboard"]["status"] != "pending":
        frames = stages["frames"]
        drawn = len(outputs.get("frames") or [])
        status = (
            frames["status"] if frames["status"] != "pending" else stages["storyboard"]["status"]
        )
        msg.storyboard.CopyFrom(
            workflows_pb2.StoryboardSummary(
                status=status,
                shots_count=len(board_ids),
                completed_shots=drawn or round(fractions["frames"] * len(board_ids)),
                storyboard_ids=board_ids,
            )
        )
    video = outputs.get("video")
    if video:
        msg.video.CopyFrom(
            workflows_pb2.VideoSummary(
                id=video.get("id", ""),
                status="completed",
                key=video.get("key", ""),
                thumbnail_key=video.get("thumbnail_key", ""),
                subtitle_key=video.get("subtitle_key", ""),
                duration=float(video.get("duration") or 0.0),
            )
        )
    error = doc.get("error")
    if error:
        msg.error.CopyFrom(
            workflows_pb2.WorkflowError(
                stage=error["stage"], reason=error["reason"], code=int(error.get("code") or 0)
            )
        )
    return msg


def stored_fractions(doc: dict[str, Any]) -> dict[str, float]:
    """Per stage from the document alone (lists: no task reads)."""
    return {s: stage_fraction(doc["stages"][s], []) for s in STAGES}


class WorkflowRpcs:
    """Mixed into WorkflowServicer (grpc_api), beside StartRender."""

    machine: WorkflowMachine
    providers: ProviderRegistry
    launcher: TaskLauncher
    _background: set[asyncio.Task[Any]]

    async def _view(self, doc: dict[str, Any]) -> workflows_pb2.Workflow:
        return workflow_message(doc, await self.machine.progress(doc))

    async def CreateWorkflow(
        self, request: workflows_pb2.CreateWorkflowRequest, context: Ctx
    ) -> workflows_pb2.Workflow:
        owner = caller_id(context)
        fields = check_create(request, self.providers)
        await self._admit(owner)
        doc = await self.machine.store.create(owner_id=owner, **fields)
        log.info("workflow.created", workflow_id=doc["_id"], input_type=fields["input_type"])
        # The first stage starts behind the answer (seed 001: 202 with status pending).
        task = asyncio.create_task(self._first_step(doc["_id"]))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return workflow_message(doc, stored_fractions(doc))

    async def _admit(self, owner: str) -> None:
        """429 (1005) when the owner already has the most work in flight: its stage tasks are
        exempt from the per-user limit (admitted work), so the workflows themselves count,
        up to STORYREEL_MAX_ACTIVE_TASKS_PER_USER pending or running, besides the tasks."""
        limit = self.launcher.max_active_per_user
        if limit <= 0:
            return
        await self.launcher.admit(owner)
        if await self.machine.store.running_count(owner) >= limit:
            raise too_many_tasks(limit)

    async def _first_step(self, workflow_id: str) -> None:
        try:
            await self.machine.advance(workflow_id)
        except Exception as exc:  # the sweep (next start) or the next call tries again
            log.warning("workflow.first_step_failed", workflow_id=workflow_id, error=repr(exc))

    async def GetWorkflow(
        self, request: workflows_pb2.WorkflowRef, context: Ctx
    ) -> workflows_pb2.Workflow:
        doc = await self.machine.store.get(request.workflow_id, caller_id(context))
        return await self._view(doc)

    async def ListWorkflows(
        self, request: workflows_pb2.ListWorkflowsRequest, context: Ctx
    ) -> workflows_pb2.WorkflowList:
        if request.status and request.status not in WORKFLOW_STATUSES:
            raise ValidationFailed(
                f"status must be one of {', '.join(WORKFLOW_STATUSES)}", field="status"
            )
        if request.stage and request.stage not in STAGES:
            raise ValidationFailed(f"stage must be one of {', '.join(STAGES)}", field="stage")
        items, total = await self.machine.store.list(
            caller_id(context),
            page=max(request.page, 1),
            per_page=min(max(request.page_size, 1), 100),
            status=request.status,
            stage=request.stage,
        )
        return workflows_pb2.WorkflowList(
            workflows=[workflow_message(d, stored_fractions(d)) for d in items], total=total
        )

    async def PauseWorkflow(
        self, request: workflows_pb2.WorkflowRef, context: Ctx
    ) -> workflows_pb2.Workflow:
        return await self._view(await self.machine.pause(request.workflow_id, caller_id(context)))

    async def ResumeWorkflow(
        self, request: workflows_pb2.WorkflowRef, context: Ctx
    ) -> workflows_pb2.Workflow:
        return await self._view(await self.machine.resume(request.workflow_id, caller_id(context)))

    async def CancelWorkflow(
        self, request: workflows_pb2.WorkflowRef, context: Ctx
    ) -> workflows_pb2.Workflow:
        return await self._view(await self.machine.cancel(request.workflow_id, caller_id(context)))

    async def RetryWorkflow(
        self, request: workflows_pb2.WorkflowRef, context: Ctx
    ) -> workflows_pb2.Workflow:
        return await self._view(await self.machine.retry(request.workflow_id, caller_id(context)))

    async def GetWorkflowProgress(
        self, request: workflows_pb2.WorkflowRef, context: Ctx
    ) -> workflows_pb2.WorkflowProgress:
        doc = await self.machine.store.get(request.workflow_id, caller_id(context))
        fractions = await self.machine.progress(doc)
        stage = doc["current_stage"]
        return workflows_pb2.WorkflowProgress(
            workflow_id=doc["_id"],
            status=doc["status"],
            overall_progress=overall(fractions),
            current_stage=stage,
            stage_progress=fractions[stage] if stage else 0.0,
            stages=[stage_message(s, doc["stages"][s], fractions[s]) for s in STAGES],
        )
