"""The shape every stage RPC shares: parse the JSON input, start a task, answer its ref.

A stage's servicer method is one line that names its job kind; the validation of the input is
the stage's own (a pydantic model), so a bad request is refused before any task exists.
"""

from __future__ import annotations

import json
from typing import Any

import grpc
from pydantic import BaseModel, ValidationError

from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import common_pb2
from storyreel_core.rpc.messages import task_ref
from storyreel_core.rpc.server import caller_id
from storyreel_core.task_launcher import TaskLauncher


def parse_input(model: type[BaseModel], text: str) -> BaseModel:
    try:
        return model.model_validate(json.loads(text or "{}"))
    except (ValueError, ValidationError) as exc:
        raise ValidationFailed(f"invalid stage input: {exc}"[:500], field="input_json") from exc


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
    payload = parse_input(model, request.input_json)
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
