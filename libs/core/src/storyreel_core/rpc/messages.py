"""Conversions between stored documents, pydantic models and the proto messages both sides
of a call share: the one place where the wire's types meet Python's.

The typed messages (drama.proto, the stage inputs, RenderOptions) name their fields as the
pydantic models of `storyreel_core` and the services do, so `to_message`/`from_message`
convert with `google.protobuf.json_format` and the bounds stay written once, in the models.
Free-form objects (a drama's settings, a script's scenes and metadata, a task's result)
cross as `JsonObject` (json_values.proto); `object_to_dict` answers them as they went in.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from google.protobuf import json_format, struct_pb2
from google.protobuf.message import Message
from pydantic import BaseModel, ValidationError

from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import common_pb2, json_values_pb2, stages_pb2, tasks_pb2
from storyreel_core.task_store import task_view

M = TypeVar("M", bound=Message)
B = TypeVar("B", bound=BaseModel)


def to_value(value: Any) -> json_values_pb2.JsonValue:
    """A JSON value → JsonValue: an int stays an int (a bool a bool), a float a float. An int
    past 64 bits goes as a float; anything else JSON has no form for goes as its text."""
    if value is None:
        return json_values_pb2.JsonValue(null_value=struct_pb2.NULL_VALUE)
    if isinstance(value, bool):
        return json_values_pb2.JsonValue(bool_value=value)
    if isinstance(value, int):
        if -(2**63) <= value < 2**63:
            return json_values_pb2.JsonValue(int_value=value)
        return json_values_pb2.JsonValue(number_value=float(value))
    if isinstance(value, float):
        return json_values_pb2.JsonValue(number_value=value)
    if isinstance(value, str):
        return json_values_pb2.JsonValue(string_value=value)
    if isinstance(value, Mapping):
        return json_values_pb2.JsonValue(object_value=to_object(value))
    if isinstance(value, list | tuple):
        return json_values_pb2.JsonValue(
            array_value=json_values_pb2.JsonArray(values=[to_value(item) for item in value])
        )
    return json_values_pb2.JsonValue(string_value=str(value))  # a datetime, as JSON wrote it


def from_value(msg: json_values_pb2.JsonValue) -> Any:
    kind = msg.WhichOneof("kind")
    if kind == "object_value":
        return object_to_dict(msg.object_value)
    if kind == "array_value":
        return [from_value(item) for item in msg.array_value.values]
    if kind is None or kind == "null_value":
        return None
    return getattr(msg, kind)


def to_object(value: Mapping[str, Any] | None) -> json_values_pb2.JsonObject:
    """A JSON object → JsonObject (None → an empty one)."""
    return json_values_pb2.JsonObject(
        fields={str(key): to_value(item) for key, item in (value or {}).items()}
    )


def object_to_dict(msg: json_values_pb2.JsonObject) -> dict[str, Any]:
    """A JsonObject → the JSON object it carries, exactly (2**63 - 1 and 2 vs 2.0 kept)."""
    return {key: from_value(item) for key, item in msg.fields.items()}


def to_objects(items: list[dict[str, Any]] | None) -> list[json_values_pb2.JsonObject]:
    return [to_object(item) for item in items or []]


def objects_to_list(msgs: Iterable[json_values_pb2.JsonObject]) -> list[dict[str, Any]]:
    return [object_to_dict(msg) for msg in msgs]


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
        msg.current_item.CopyFrom(to_object(view["current_item"]))
    if view["result"] is not None:
        msg.result.CopyFrom(to_object(view["result"]))
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
        "current_item": object_to_dict(msg.current_item) if msg.HasField("current_item") else None,
        "result": object_to_dict(msg.result) if msg.HasField("result") else None,
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
