"""The shape every stage RPC shares: read the stage's typed input, start a task, answer its ref.

A stage's servicer method is one line that names its job kind; the request's `input` oneof
must hold that kind's message (stage_inputs.proto), which the stage's own pydantic model then
validates, so a bad request is refused before any task exists.
"""

from __future__ import annotations

from typing import Any

import grpc
from pydantic import BaseModel, ValidationError

from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import common_pb2
from storyreel_core.rpc.messages import B, first_error, from_message, task_ref
from storyreel_core.rpc.server import caller_id
from storyreel_core.task_launcher import TaskLauncher


def parse_input(model: type[B], request: common_pb2.StageRequest, kind: str) -> B:
    """The request's `kind` input as `model`; ValidationFailed (1001) when the request holds
    another stage's input or a bound is broken (naming the field, e.g. `scene_count`)."""
    held = request.WhichOneof("input")
    if held != kind:
        raise ValidationFailed(f"a {kind} stage takes a {kind} input, not {held}", field="input")
    try:
        return from_message(getattr(request, kind), model)
    except ValidationError as exc:
        raise first_error(exc) from exc


async def start_stage(
    launcher: TaskLauncher,
    request: common_pb2.StageRequest,
    context: grpc.aio.ServicerContext[Any, Any],
    *,
    service: str,
    kind: str,
    model: type[BaseModel],
    total: int = 0,
    estimated_time: int = 10,
) -> common_pb2.TaskRef:
    payload = parse_input(model, request, kind)
    task = await launcher.start(
        service=service,
        kind=kind,
        owner_id=caller_id(context),
        payload=payload.model_dump(mode="json"),
        parent_id=request.parent_task_id or None,
        drama_id=request.drama_id or None,
        task_id=request.task_id or None,
        total=total,
    )
    return task_ref(task, estimated_time)
