"""Conversions between stored documents, pydantic models and the proto messages both sides
of a call share: the one place where the wire's types meet Python's.

The typed messages (drama.proto, the stage inputs, RenderOptions) name their fields as the
pydantic models of `storyreel_core` and the services do, so `to_message`/`from_message`
convert with `google.protobuf.json_format` and the bounds stay written once, in the models.
Free-form objects (a drama's settings, a script's scenes and metadata, a task's result)
cross as `google.protobuf.Struct`; `struct_to_dict` answers them as they went in.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from google.protobuf import json_format, struct_pb2
from google.protobuf.message import Message
from pydantic import BaseModel, ValidationError

from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import common_pb2, stages_pb2, tasks_pb2
from storyreel_core.task_store import task_view

M = TypeVar("M", bound=Message)
B = TypeVar("B", bound=BaseModel)


def plain(value: Any) -> Any:
    """A Struct's value as JSON had it: Struct keeps every number as a double, so a whole
    number comes back an int (3, not 3.0): counts, positions and sizes stay ints, and a
    float that was whole (4.0) reads 4, the same JSON number."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def to_struct(value: Mapping[str, Any] | None) -> struct_pb2.Struct:
    """A JSON object → Struct (None → an empty one). Raises ValueError for a value JSON has
    no form for."""
    out = struct_pb2.Struct()
    if value:
        # Through JSON first: a stored value JSON writes as text (a datetime) goes as text.
        out.update(json.loads(json.dumps(dict(value), ensure_ascii=False, default=str)))
    return out


def struct_to_dict(msg: struct_pb2.Struct) -> dict[str, Any]:
    """A Struct → the JSON object it carries (see `plain` for numbers)."""
    return dict(plain(json_format.MessageToDict(msg)))


def to_structs(items: list[dict[str, Any]] | None) -> list[struct_pb2.Struct]:
    return [to_struct(item) for item in items or []]


def structs_to_list(msgs: Any) -> list[dict[str, Any]]:
    return [struct_to_dict(msg) for msg in msgs]


def to_message(data: BaseModel | Mapping[str, Any], message: M) -> M:
    """A model (or its JSON dump) → the message of the same field names, filled in place.

    None leaves a field unset (an `optional` field then reads None again). A key with no
    field, or a value the field cannot hold (a number past int32), is ValidationFailed
    (1001): model and message name the same fields, and the model's bounds are narrower."""
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json", by_alias=False)
    try:
        json_format.ParseDict(dict(data), message)
    except json_format.ParseError as exc:
        raise ValidationFailed(str(exc)[:500], field="body") from exc
    return message


def first_error(exc: ValidationError) -> ValidationFailed:
    """A model's first complaint as the 400 (1001) that names its field (`options.scene_count`)."""
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "body"
    return ValidationFailed(f"{field}: {first['msg']}", field=field)


def stage_request(
    kind: str,
    payload: BaseModel | Mapping[str, Any],
    *,
    task_id: str = "",
    parent_task_id: str = "",
    drama_id: str = "",
) -> common_pb2.StageRequest:
    """A StageRequest holding `payload` as its `kind` input (stage_inputs.proto)."""
    request = common_pb2.StageRequest(
        task_id=task_id, parent_task_id=parent_task_id, drama_id=drama_id
    )
    held = getattr(request, kind)
    to_message(payload, held)
    held.SetInParent()  # an input of all defaults is still this kind's
    return request


def stage_task_request(kind: str, payload: Mapping[str, Any]) -> stages_pb2.StageTaskRequest:
    """A StageTaskRequest holding `payload` as its `kind` input (storyboard | frames | clips
    | narration)."""
    request = stages_pb2.StageTaskRequest()
    held = getattr(request, kind)
    to_message(payload, held)
    held.SetInParent()
    return request


def message_to_dict(message: Message) -> dict[str, Any]:
    """A message → JSON-like dict with every field (zeros and empty lists included; unset
    `optional` and message fields left out, so a model's default applies)."""
    return json_format.MessageToDict(
        message,
        always_print_fields_with_no_presence=True,
        preserving_proto_field_name=True,
        unquote_int64_if_possible=True,
    )


def from_message(message: Message, model: type[B]) -> B:
    """A message → its model, validated (pydantic's ValidationError on a broken bound)."""
    return model.model_validate(message_to_dict(message))


def task_error_to_proto(error: Mapping[str, Any] | None) -> tasks_pb2.TaskError | None:
    if not error:
        return None
    return tasks_pb2.TaskError(
        code=int(error.get("code") or 0),
        reason=str(error.get("reason") or ""),
        field=str(error.get("field") or ""),
    )


def task_error_from_proto(msg: tasks_pb2.Task) -> dict[str, Any] | None:
    """The stored error shape `{code, reason, field}` (field None when it names none; no
    code when the error had none)."""
    if not msg.HasField("error"):
        return None
    error = msg.error
    out: dict[str, Any] = {"code": error.code} if error.code else {}
    return {**out, "reason": error.reason, "field": error.field or None}


def task_to_proto(doc: dict[str, Any]) -> tasks_pb2.Task:
    view = task_view(doc)
    progress = view["progress"] or {}
    msg = tasks_pb2.Task(
        task_id=view["task_id"],
        kind=view["kind"] or "",
        status=view["status"] or "",
        progress=tasks_pb2.TaskProgress(
            total=int(progress.get("total", 0)),
            completed=int(progress.get("completed", 0)),
            percentage=float(progress.get("percentage", 0.0)),
            processing=int(progress.get("processing", 0)),
            pending=int(progress.get("pending", 0)),
        ),
        current_step=view["current_step"] or "",
        error=task_error_to_proto(view["error"]),
        attempts=int(view["attempts"] or 0),
        parent_id=view["parent_id"] or "",
        drama_id=view["drama_id"] or "",
        created_at=view["created_at"] or "",
        updated_at=view["updated_at"] or "",
        started_at=view["started_at"] or "",
        finished_at=view["finished_at"] or "",
    )
    # Unset (rather than empty) when the task has none, so None reads back as None.
    if view["current_item"] is not None:
        msg.current_item.CopyFrom(to_struct(view["current_item"]))
    if view["result"] is not None:
        msg.result.CopyFrom(to_struct(view["result"]))
    return msg


def task_from_proto(msg: tasks_pb2.Task) -> dict[str, Any]:
    p = msg.progress
    return {
        "task_id": msg.task_id,
        "kind": msg.kind,
        "status": msg.status,
        "progress": {
            "total": p.total,
            "completed": p.completed,
            "processing": p.processing,
            "pending": p.pending,
            "percentage": p.percentage,
        },
        "current_step": msg.current_step or None,
        "current_item": struct_to_dict(msg.current_item) if msg.HasField("current_item") else None,
        "result": struct_to_dict(msg.result) if msg.HasField("result") else None,
        "error": task_error_from_proto(msg),
        "attempts": msg.attempts,
        "parent_id": msg.parent_id or None,
        "drama_id": msg.drama_id or None,
        "created_at": msg.created_at or None,
        "updated_at": msg.updated_at or None,
        "started_at": msg.started_at or None,
        "finished_at": msg.finished_at or None,
    }


def task_ref(doc: dict[str, Any], estimated_time: int = 0) -> common_pb2.TaskRef:
    return common_pb2.TaskRef(
        task_id=doc["_id"], status=doc["status"], estimated_time=estimated_time
    )
