"""`/conversations` (seed 004): a user's threads and the messages the system writes into them.

Start a task with `conversation_id` (or seed 004's `conversationId`) on
`POST /dramas/{id}/scripts/generate` or `POST /pipeline/render`: when it completes or fails, a
message is appended to the conversation and pushed to the owner's WebSockets as `message.new`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from storyreel_core.errors import AppError, Code
from storyreel_core.proto.storyreel.v1 import tasks_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import task_from_proto
from storyreel_core.task_store import TERMINAL
from storyreel_gateway.conversations.store import (
    ConversationStore,
    conversation_view,
    message_view,
)
from storyreel_gateway.deps import CurrentUser, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ListEnvelope, ok, paged
from storyreel_gateway.json_body import CheckedRoute
from storyreel_gateway.state import GatewayState

router = APIRouter(
    route_class=CheckedRoute,
    prefix="/conversations",
    tags=["conversations"],
    responses=ERROR_RESPONSES,
)

ConversationId = Annotated[str, Path(min_length=1, max_length=64)]
# A conversation id as a request field: ours or seed 004's camelCase name.
CONVERSATION_ALIAS = AliasChoices("conversation_id", "conversationId")


class ConversationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="New conversation", min_length=1, max_length=200)


class ConversationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, min_length=1, max_length=200)
    is_pinned: bool | None = Field(
        default=None, validation_alias=AliasChoices("is_pinned", "isPinned")
    )


class ConversationOut(BaseModel):
    id: str
    title: str
    message_count: int
    is_pinned: bool
    preview_text: str
    last_accessed_at: str | None
    created_at: str
    updated_at: str


class MessageOut(BaseModel):
    id: str
    conversation_id: str
    role: str
    type: str
    content: str
    metadata: dict[str, Any]
    created_at: str


def store_of(state: GatewayState) -> ConversationStore:
    assert state.conversations is not None  # build_state always sets it
    return state.conversations


async def start_in_conversation(
    state: GatewayState, user_id: str, conversation_id: str | None, task_id: str, kind: str
) -> None:
    """Link a just-started task to the caller's conversation; a task that already finished
    (fast jobs can) has its message written here, the event consumer writes the others."""
    if not conversation_id:
        return
    store = store_of(state)
    await store.link_task(user_id, conversation_id, task_id, kind)
    msg = await call(
        state.stubs.tasks.GetTask, tasks_pb2.GetTaskRequest(task_id=task_id), user_id=user_id
    )
    view = task_from_proto(msg)
    if view["status"] in TERMINAL and state.recorder is not None:
        await state.recorder.record(view)


async def check_conversation(
    state: GatewayState, user_id: str, conversation_id: str | None
) -> None:
    """404 (1002) before any task starts when the conversation is not the caller's."""
    if conversation_id:
        await store_of(state).get(user_id, conversation_id)


@router.post("", status_code=201, response_model=Envelope[ConversationOut])
async def create_conversation(
    state: State, user: CurrentUser, body: ConversationIn | None = None
) -> dict[str, Any]:
    doc = await store_of(state).create(user["_id"], (body or ConversationIn()).title)
    return ok(conversation_view(doc))


@router.get("", response_model=ListEnvelope[ConversationOut])
async def list_conversations(
    state: State,
    user: CurrentUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int | None, Query(ge=1, le=100)] = None,
    page_size: Annotated[int | None, Query(alias="pageSize", ge=1, le=100)] = None,
    pinned: bool | None = None,
) -> dict[str, Any]:
    """Pinned first, then the most recently updated; `pinned=true|false` filters."""
    size = per_page or page_size or 20
    items, total = await store_of(state).list_conversations(
        user["_id"], page=page, per_page=size, pinned=pinned
    )
    return paged([conversation_view(d) for d in items], page=page, per_page=size, total=total)


@router.get("/{conversation_id}", response_model=Envelope[ConversationOut])
async def get_conversation(
    conversation_id: ConversationId, state: State, user: CurrentUser
) -> dict[str, Any]:
    return ok(conversation_view(await store_of(state).touch(user["_id"], conversation_id)))


@router.put("/{conversation_id}", response_model=Envelope[ConversationOut])
async def update_conversation(
    conversation_id: ConversationId, body: ConversationUpdate, state: State, user: CurrentUser
) -> dict[str, Any]:
    await store_of(state).get(user["_id"], conversation_id)  # 404 before the body is judged
    if body.title is None and body.is_pinned is None:
        raise AppError("send title or is_pinned", code=Code.VALIDATION, field="body")
    doc = await store_of(state).update(
        user["_id"], conversation_id, title=body.title, is_pinned=body.is_pinned
    )
    return ok(conversation_view(doc))


@router.delete("/{conversation_id}", response_model=Envelope[None])
async def delete_conversation(
    conversation_id: ConversationId, state: State, user: CurrentUser
) -> dict[str, Any]:
    """Deletes its messages too; tasks started in it keep running but write nothing."""
    await store_of(state).delete(user["_id"], conversation_id)
    return ok(None)


@router.get("/{conversation_id}/messages", response_model=ListEnvelope[MessageOut])
async def list_messages(
    conversation_id: ConversationId,
    state: State,
    user: CurrentUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int | None, Query(ge=1, le=100)] = None,
    page_size: Annotated[int | None, Query(alias="pageSize", ge=1, le=100)] = None,
) -> dict[str, Any]:
    """Oldest first: the newest message is the last of the last page."""
    size = per_page or page_size or 20
    items, total = await store_of(state).messages(
        user["_id"], conversation_id, page=page, per_page=size
    )
    return paged([message_view(d) for d in items], page=page, per_page=size, total=total)
