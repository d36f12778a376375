"""Assemble the workflow service: seed 001's workflows, the render state machine, the task API."""

from __future__ import annotations

import grpc

from storyreel_core.platform import Platform
from storyreel_core.proto.storyreel.v1 import (
    material_videos_pb2,
    material_videos_pb2_grpc,
    stages_pb2,
    stages_pb2_grpc,
    tasks_pb2,
    tasks_pb2_grpc,
)
from storyreel_core.rpc.peers import PeerChannels
from storyreel_core.service_runtime import ServiceParts
from storyreel_core.stage_client import StageClient
from storyreel_workflow.grpc_api import TaskServicer, WorkflowServicer
from storyreel_workflow.material_video_api import KIND as MATERIAL_VIDEO
from storyreel_workflow.material_video_api import MaterialVideoServicer
from storyreel_workflow.material_video_job import MaterialVideoJob
from storyreel_workflow.render_job import RenderJob
from storyreel_workflow.stage_events import StageEvents
from storyreel_workflow.stage_tasks import KINDS, StageTaskJob
from storyreel_workflow.studio_stages import StudioStages
from storyreel_workflow.workflow_machine import WorkflowMachine
from storyreel_workflow.workflow_store import WorkflowStore

NAME = "workflow"


def build(platform: Platform) -> ServiceParts:
    channels = PeerChannels(lambda: platform.settings)
    stages = StageClient(channels, platform.tasks, platform.bus)
    workflows = WorkflowStore(platform.docs)
    machine = WorkflowMachine(
        workflows, platform.tasks, StudioStages(channels), platform.bus.publish_event
    )
    events = StageEvents(platform.bus, machine)
    workflow = WorkflowServicer(
        platform.launcher,
        platform.providers,
        machine,
        max_pixel_frames=platform.settings.max_render_pixel_frames,
    )
    tasks = TaskServicer(
        platform.tasks, platform.launcher, platform.docs, platform.objects, machine=machine
    )
    materials = MaterialVideoServicer(platform.launcher)

    def register(server: grpc.aio.Server) -> None:
        stages_pb2_grpc.add_WorkflowServiceServicer_to_server(workflow, server)
        tasks_pb2_grpc.add_TaskServiceServicer_to_server(tasks, server)
        material_videos_pb2_grpc.add_MaterialVideoServiceServicer_to_server(materials, server)

    return ServiceParts(
        name=NAME,
        registrars=[register],
        service_names=[
            stages_pb2.DESCRIPTOR.services_by_name["WorkflowService"].full_name,
            tasks_pb2.DESCRIPTOR.services_by_name["TaskService"].full_name,
            material_videos_pb2.DESCRIPTOR.services_by_name["MaterialVideoService"].full_name,
        ],
        handlers={
            # /pipeline/render: a workflow that advances on its own, watched by its task.
            "render": RenderJob(machine, platform.tasks, platform.bus),
            MATERIAL_VIDEO: MaterialVideoJob(
                platform.docs, platform.objects, platform.tasks, channels, stages.wait
            ),
            # Seed 002's stage endpoints: pipeline_storyboard, _frames, _clips, _narration.
            **{f"pipeline_{kind}": StageTaskJob(platform.docs, stages) for kind in KINDS},
        },
        on_start=[workflows.ensure_indexes, events.start],
        on_stop=[events.stop, channels.close],
        on_drama_deleted=[platform.tasks.delete_drama_tasks, workflows.forget_drama],
    )
