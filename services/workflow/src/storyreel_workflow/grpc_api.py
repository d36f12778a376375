"""WorkflowService (start a render) and TaskService (the task API every client polls)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, TypeAlias

import grpc
from pydantic import ValidationError

from storyreel_core.errors import AlreadyExists, NotFound
from storyreel_core.proto.storyreel.v1 import (
    common_pb2,
    stages_pb2,
    stages_pb2_grpc,
    tasks_pb2,
    tasks_pb2_grpc,
)
from storyreel_core.providers.costs import check_budget, estimate_screenplay, estimate_speech
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.render_cost import ESTIMATED_SHOT_SECONDS, check_render_cost
from storyreel_core.render_models import DEFAULT_SCENE_COUNT
from storyreel_core.rpc.messages import first_error, message_to_dict, task_ref, task_to_proto
from storyreel_core.rpc.server import caller_id
from storyreel_core.stores.document_store import DocumentStore
from storyreel_core.stores.object_store import ObjectStore
from storyreel_core.task_cancel import cancel_task_tree
from storyreel_core.task_launcher import TaskLauncher
from storyreel_core.task_store import TERMINAL, TaskStore
from storyreel_core.workflow_models import STAGES
from storyreel_workflow.render_options import RenderInput
from storyreel_workflow.render_workflow import render_workflow_id, workflow_fields
from storyreel_workflow.stage_task_api import StageTaskRpcs
from storyreel_workflow.task_delete import delete_task_tree
from storyreel_workflow.workflow_api import WorkflowRpcs
from storyreel_workflow.workflow_machine import WorkflowMachine

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
TASK_STATUSES = ("pending", "running", "completed", "failed", "cancelled")


def parse_render(request: stages_pb2.RenderRequest) -> RenderInput:
    try:
        spec = RenderInput.model_validate(
            {
                "story": request.story,
                "style": request.style,
                "options": message_to_dict(request.options),
            }
        )
    except ValidationError as exc:
        raise first_error(exc) from exc
    spec.video_size()
    spec.frame_size()
    return spec


def check_providers(spec: RenderInput, providers: ProviderRegistry) -> None:
    """An unknown `options.ai_provider`/`options.model` or an estimate above
    `options.budget` (screenplay and speech) is refused (400) before any task or provider call."""
    opts = spec.options
    choice = providers.resolve(
        "text",
        opts.ai_provider,
        opts.model,
        field="options.ai_provider",
        model_field="options.model",
    )
    estimate = 0.0
    if not choice.offline:
        prices = providers.providers[choice.provider].config.prices
        estimate = estimate_screenplay(prices, spec.story, opts.scene_count or DEFAULT_SCENE_COUNT)
    # Every sentence of the story is spoken once, so its length bounds what speech will cost
    # (the built-in engines are free: no prices), and a render that cannot afford its voices
    # is refused now, not after its screenplay and frames were paid for.
    speech_prices = providers.prices((opts.audio_provider or "").strip() or "offline")
    estimate += estimate_speech(speech_prices, len(spec.story))
    check_budget(opts.budget, estimate, field="options.budget")
    providers.resolve(
        "image",
        opts.image_provider,
        opts.image_model,
        field="options.image_provider",
        model_field="options.image_model",
    )
    providers.resolve(
        "video",
        opts.video_provider,
        opts.video_model,
        field="options.video_provider",
        model_field="options.video_model",
    )


class WorkflowServicer(WorkflowRpcs, StageTaskRpcs, stages_pb2_grpc.WorkflowServiceServicer):
    """StartRender (seed 002's one-click render), its stage endpoints (`StageTaskRpcs`) and
    seed 001's workflows (`WorkflowRpcs`)."""

    def __init__(
        self,
        launcher: TaskLauncher,
        providers: ProviderRegistry,
        machine: WorkflowMachine,
        *,
        max_pixel_frames: int = 0,
    ) -> None:
        self.launcher = launcher
        self.providers = providers
        self.machine = machine
        self.max_pixel_frames = max_pixel_frames
        self._background: set[asyncio.Task[Any]] = set()

    async def StartRender(
        self, request: stages_pb2.RenderRequest, context: Ctx
    ) -> common_pb2.TaskRef:
        spec = parse_render(request)
        check_providers(spec, self.providers)
        workflow_fields(spec)  # 400 now for what the workflow's stages would refuse
        # Shots are timed by their speech later; before the script exists each counts as
        # ESTIMATED_SHOT_SECONDS; a story without scene_count gets DEFAULT_SCENE_COUNT scenes.
        options = spec.options
        scenes = options.scene_count or DEFAULT_SCENE_COUNT
        shots = scenes * options.shots_per_scene
        width, height = spec.video_size()
        check_render_cost(
            width, height, options.video.fps, shots * ESTIMATED_SHOT_SECONDS,
            self.max_pixel_frames, field="options.video.resolution",
        )  # fmt: skip
        task = await self.launcher.start(
            service="workflow",
            kind="render",
            owner_id=caller_id(context),
            payload=spec.model_dump(mode="json"),
            total=len(STAGES),
        )
        return task_ref(task, estimated_time=10 + 6 * scenes)


class TaskServicer(tasks_pb2_grpc.TaskServiceServicer):
    def __init__(
        self,
        tasks: TaskStore,
        launcher: TaskLauncher,
        docs: DocumentStore | None = None,
        objects: ObjectStore | None = None,
        machine: WorkflowMachine | None = None,
    ) -> None:
        self.tasks = tasks
        self.launcher = launcher
        self.machine = machine  # cancels a cancelled render's workflow
        # Where jobs keep their resumable state and materials, for DeleteTask.
        self.docs = docs
        self.objects = objects

    async def GetTask(self, request: tasks_pb2.GetTaskRequest, context: Ctx) -> tasks_pb2.Task:
        return task_to_proto(await self.tasks.get(request.task_id, caller_id(context)))

    async def ListTasks(
        self, request: tasks_pb2.ListTasksRequest, context: Ctx
    ) -> tasks_pb2.TaskList:
        items, total = await self.tasks.list(
            caller_id(context),
            page=max(request.page, 1),
            per_page=min(max(request.per_page, 1), 100),
            status=request.status or None,
            kind=request.kind or None,
            stage_tasks=request.stage_tasks,
        )
        return tasks_pb2.TaskList(tasks=[task_to_proto(t) for t in items], total=total)

    async def CancelTask(self, request: tasks_pb2.GetTaskRequest, context: Ctx) -> tasks_pb2.Task:
        """Cancel the task and every unfinished task it started; workers notice and stop.
        A task already cancelled is a 409 (1003); a completed or failed one is answered as is."""
        owner = caller_id(context)
        if (await self.tasks.get(request.task_id, owner))["status"] == "cancelled":
            raise AlreadyExists(f"task {request.task_id} is already cancelled", field="task_id")
        return task_to_proto(await self._cancel_tree(request.task_id, owner))

    async def _cancel_tree(self, task_id: str, owner: str) -> dict[str, Any]:
        doc = await cancel_task_tree(self.tasks, self.launcher.bus.publish_event, task_id, owner)
        if doc.get("kind") == "render" and self.machine is not None:
            # A render's stages are its workflow's tasks: cancelling the workflow stops them.
            with contextlib.suppress(NotFound, AlreadyExists):
                await self.machine.cancel(render_workflow_id(task_id), owner)
        return doc

    async def DeleteTask(self, request: tasks_pb2.GetTaskRequest, context: Ctx) -> tasks_pb2.Task:
        """Cancel the task and its children when unfinished, then forget them: the task
        records, the job's resumable state and the materials staged for it (`materials/<owner>/`
        keys of its payload). What it made in a drama (scripts, shots, videos) stays there.
        NotFound (1002) for another owner's task."""
        owner = caller_id(context)
        doc = await self._cancel_tree(request.task_id, owner)
        await delete_task_tree(self.tasks, self.docs, self.objects, doc, owner)
        return task_to_proto(doc)

    async def RetryTask(self, request: tasks_pb2.GetTaskRequest, context: Ctx) -> tasks_pb2.Task:
        """Run a failed or cancelled task again; a render reuses the stages that finished."""
        return task_to_proto(await self.launcher.retry(request.task_id, caller_id(context)))

    async def CountTasks(
        self, request: tasks_pb2.CountTasksRequest, context: Ctx
    ) -> tasks_pb2.TaskCounts:
        """Tasks of every owner by status, for `/monitoring/metrics` and the alert rules."""
        docs = self.tasks.docs
        counts = {s: await docs.count("tasks", {"status": s}) for s in TASK_STATUSES}
        recent: dict[str, int] = {}
        if request.finished_since:
            since = {"$gte": request.finished_since}
            recent = {
                s: await docs.count("tasks", {"status": s, "finished_at": since})
                for s in sorted(TERMINAL)
            }
        return tasks_pb2.TaskCounts(by_status=counts, finished_recently=recent)
