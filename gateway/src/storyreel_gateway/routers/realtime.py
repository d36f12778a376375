"""Live task progress: WebSocket `/api/v1/ws` (seed 004) and SSE `/api/v1/tasks/{id}/events`.

WebSocket protocol (JSON text frames; seed 004's message types, our snake_case names; the
camelCase `taskId` of seed 004 is accepted in requests):

- connect with `?token=<access token>` (or an `Authorization: Bearer` header, or an API
  user's `X-API-Key` header, never a query parameter); the server
  answers `{"type": "connected", "idle_timeout_s", "max_lifetime_s"}`;
- `{"type": "subscribe", "task_id"}` → `{"type": "subscribed", "task_id"}` followed at once by
  the task's current state, then every change (see `push_messages`);
  `{"type": "unsubscribe", "task_id"}` → `{"type": "unsubscribed", "task_id"}`;
  `{"type": "ping"}` → `{"type": "pong"}`;
- conversation messages: every socket of a user receives `{"type": "message.new",
  "conversation_id", "data": {"message_id", "content", "role", "message_type", "created_at"}}`
  when the system writes a message into one of the user's conversations (no subscribe needed);
- errors are `{"type": "error", "code", "message"}` frames. A bad or expired token closes the
  socket with 4401, a task id that is not the caller's (or does not exist) with 4404: ids leak
  nothing, as in REST. A malformed frame or an unknown type is an error frame, the socket stays.
- Caps: no client frame for `STORYREEL_WS_IDLE_TIMEOUT_S` → `{"type": "reconnect", "reason":
  "idle"}` and close 4408; open for `STORYREEL_REALTIME_MAX_LIFETIME_S` → `reconnect` with
  reason `lifetime` and close 4000. `retry_after_s` says when to come back.

Events reach the socket from the gateway's `TaskFeed`, which every replica fills from NATS, so a
client may connect to any replica.
"""

from __future__ import annotations

import asyncio
import json
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.sse import EventSourceResponse, ServerSentEvent

from storyreel_core.errors import AppError, Code
from storyreel_core.logging import get_logger
from storyreel_core.proto.storyreel.v1 import tasks_pb2
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.messages import task_from_proto
from storyreel_core.task_store import TERMINAL
from storyreel_gateway.auth.api_user_store import acting_user
from storyreel_gateway.deps import CurrentUser, State, admit_api_user, base_url, user_for_token
from storyreel_gateway.envelope import ERROR_RESPONSES
from storyreel_gateway.realtime.push_messages import TaskOrder, task_message
from storyreel_gateway.realtime.task_feed import Listener, TaskFeed
from storyreel_gateway.state import GatewayState

log = get_logger("storyreel.gateway.realtime")

router = APIRouter(tags=["realtime"])

# The stream's own media type is text/event-stream; its refusals are the JSON envelope.
JSON_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {
        "description": response.get("description", "error"),
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
    }
    for status, response in ERROR_RESPONSES.items()
}

CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_IDLE = 4408
CLOSE_LIFETIME = 4000
CLOSE_UNAVAILABLE = 1011
RETRY_AFTER_S = 1.0
MAX_FRAME_CHARS = 4096


def require_feed(state: GatewayState) -> TaskFeed:
    if state.feed is None:
        raise AppError(
            "realtime events are not available: the gateway has no bus (STORYREEL_NATS_URL)",
            code=Code.UNAVAILABLE,
        )
    return state.feed


async def owned_task(state: GatewayState, user_id: str, task_id: str) -> dict[str, Any]:
    """The caller's task view; NotFound (1002) for another user's or an unknown id."""
    msg = await call(
        state.stubs.tasks.GetTask, tasks_pb2.GetTaskRequest(task_id=task_id), user_id=user_id
    )
    return task_from_proto(msg)


# --- WebSocket ---------------------------------------------------------------------------


class MessageTexts:
    """The frame text of each task record, made once however many sockets carry it.

    The feed hands the same record object to every listener of a task, so the text is keyed
    by that object (and the base URL that signed its media); 200 sockets watching a render
    cost one `task_message` and one `json.dumps` per event, not 200.
    """

    def __init__(self, size: int = 256) -> None:
        self._texts: OrderedDict[tuple[int, str], tuple[dict[str, Any], str]] = OrderedDict()
        self.size = size

    def text(self, view: dict[str, Any], base: str, sign: Callable[[Any], Any]) -> str:
        key = (id(view), base)
        hit = self._texts.get(key)
        if hit is not None and hit[0] is view:  # the very record, not a reused id
            return hit[1]
        text = json.dumps(task_message(view, sign), ensure_ascii=False, default=str)
        self._texts[key] = (view, text)
        if len(self._texts) > self.size:
            self._texts.popitem(last=False)
        return text


TEXTS = MessageTexts()


class TaskSocket:
    """One client connection: its subscriptions, its ordering guard, its caps."""

    def __init__(self, ws: WebSocket, state: GatewayState, feed: TaskFeed, user_id: str):
        self.ws = ws
        self.state = state
        self.feed = feed
        self.user_id = user_id
        self.listener = Listener()
        self.order = TaskOrder()
        self.subscribed: set[str] = set()
        self.base = str(ws.base_url).rstrip("/").replace("ws://", "http://", 1)
        self.base = self.base.replace("wss://", "https://", 1)

    def sign(self, value: Any) -> Any:
        return self.state.signer.with_urls(value, self.base)

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send_text(json.dumps(message, ensure_ascii=False, default=str))

    async def push(self, view: dict[str, Any]) -> None:
        if view.get("task_id") in self.subscribed and self.order.admit(view):
            await self.ws.send_text(TEXTS.text(view, self.base, self.sign))

    async def error(self, code: Code, message: str) -> None:
        await self.send({"type": "error", "code": int(code), "message": message})

    async def handle(self, frame: str) -> bool:
        """Answer one client frame; False when the socket must close (after its error)."""
        try:
            request = json.loads(frame) if len(frame) <= MAX_FRAME_CHARS else None
        except ValueError:
            request = None
        if not isinstance(request, dict):
            await self.error(Code.VALIDATION, f"frames are JSON objects of <= {MAX_FRAME_CHARS}")
            return True
        kind = request.get("type")
        if kind == "ping":
            await self.send({"type": "pong"})
            return True
        if kind not in ("subscribe", "unsubscribe"):
            await self.error(Code.VALIDATION, "type must be subscribe, unsubscribe or ping")
            return True
        task_id = request.get("task_id", request.get("taskId"))
        if not isinstance(task_id, str) or not task_id:
            await self.error(Code.VALIDATION, "task_id is required")
            return True
        if kind == "unsubscribe":
            self.subscribed.discard(task_id)
            self.feed.detach(task_id, self.listener)
            self.order.forget(task_id)
            await self.send({"type": "unsubscribed", "task_id": task_id})
            return True
        return await self.subscribe(task_id)

    async def subscribe(self, task_id: str) -> bool:
        if task_id in self.subscribed:
            await self.send({"type": "subscribed", "task_id": task_id})
            return True
        if len(self.subscribed) >= self.state.settings.ws_max_subscriptions:
            limit = self.state.settings.ws_max_subscriptions
            await self.error(Code.VALIDATION, f"at most {limit} subscriptions per socket")
            return True
        # Attached before the current state is read: a change landing in between is queued,
        # and the ordering guard drops whatever the snapshot already covers.
        self.feed.attach(task_id, self.listener)
        try:
            view = await owned_task(self.state, self.user_id, task_id)
        except AppError as exc:
            self.feed.detach(task_id, self.listener)
            await self.error(exc.code, exc.message)
            if exc.code == Code.NOT_FOUND:
                await self.ws.close(CLOSE_NOT_FOUND, "task not found")
                return False
            return True
        self.subscribed.add(task_id)
        await self.send({"type": "subscribed", "task_id": task_id})
        await self.push(view)
        return True

    async def receive_loop(self, idle_s: float) -> str:
        while True:
            try:
                message = await asyncio.wait_for(self.ws.receive(), idle_s)
            except TimeoutError:
                return "idle"
            if message["type"] == "websocket.disconnect":
                return "gone"
            frame = message.get("text")
            if frame is None:
                await self.error(Code.VALIDATION, "frames are JSON text, not binary")
            elif not await self.handle(frame):
                return "closed"

    async def send_loop(self) -> str:
        while True:
            event = await self.listener.next()
            if event.get("type") == "message.new":  # a conversation message for this user
                await self.send(event)
            else:
                await self.push(event)


@router.websocket("/ws")
async def task_socket(
    ws: WebSocket, token: Annotated[str | None, Query(max_length=4096)] = None
) -> None:
    state: GatewayState = ws.app.state.gateway
    await ws.accept()
    header = ws.headers.get("authorization", "")
    if token is None and header.lower().startswith("bearer "):
        token = header[7:]
    api_key = ws.headers.get("x-api-key", "")
    try:
        if token:
            user = await user_for_token(state, token)
        elif api_key:
            doc = await state.api_users.authenticate(api_key)
            await admit_api_user(state, doc, ["realtime"])
            user = acting_user(doc)
        else:
            raise AppError("authentication required", code=Code.TOKEN_INVALID)
        feed = require_feed(state)
    except AppError as exc:
        await ws.send_text(
            json.dumps({"type": "error", "code": int(exc.code), "message": exc.message})
        )
        unavailable = exc.code == Code.UNAVAILABLE
        await ws.close(CLOSE_UNAVAILABLE if unavailable else CLOSE_UNAUTHORIZED, exc.message)
        return
    settings = state.settings
    sock = TaskSocket(ws, state, feed, user["_id"])
    # Every socket of a user receives its conversations' `message.new`, no subscribe needed.
    feed.attach_user(user["_id"], sock.listener)
    await sock.send(
        {
            "type": "connected",
            "idle_timeout_s": settings.ws_idle_timeout_s,
            "max_lifetime_s": settings.realtime_max_lifetime_s,
        }
    )
    receiving = asyncio.create_task(sock.receive_loop(settings.ws_idle_timeout_s))
    sending = asyncio.create_task(sock.send_loop())
    try:
        done, _ = await asyncio.wait(
            {receiving, sending},
            timeout=settings.realtime_max_lifetime_s,
            return_when=asyncio.FIRST_COMPLETED,
        )
        ended = next(iter(done)).result() if done else "lifetime"
        if ended in ("idle", "lifetime"):
            await sock.send({"type": "reconnect", "reason": ended, "retry_after_s": RETRY_AFTER_S})
            await ws.close(CLOSE_IDLE if ended == "idle" else CLOSE_LIFETIME, ended)
    except (WebSocketDisconnect, RuntimeError):
        pass  # the client went away; nothing to tell it
    finally:
        for task in (receiving, sending):
            task.cancel()
        await asyncio.gather(receiving, sending, return_exceptions=True)
        feed.detach_all(sock.listener)
        feed.detach_user(user["_id"], sock.listener)


# --- Server-Sent Events -----------------------------------------------------------------


async def sse_task(
    task_id: Annotated[str, Path(min_length=1, max_length=64)], state: State, user: CurrentUser
) -> dict[str, Any]:
    """Checked before the stream starts, so an unknown or foreign id is a plain 404."""
    require_feed(state)
    return await owned_task(state, user["_id"], task_id)


@router.get(
    "/tasks/{task_id}/events",
    response_class=EventSourceResponse,
    responses=JSON_ERRORS,
    summary="A task's progress as Server-Sent Events, until it ends",
)
async def task_events(
    request: Request,
    state: State,
    user: CurrentUser,
    first: Annotated[dict[str, Any], Depends(sse_task)],
) -> AsyncIterator[ServerSentEvent]:
    """Events `task.progress`, then one `task.completed` or `task.failed`, each with the
    message of the WebSocket API as data; the stream ends after the last one, or with a
    `reconnect` event after `STORYREEL_REALTIME_MAX_LIFETIME_S`. Comments keep it alive."""
    feed = require_feed(state)
    task_id = first["task_id"]
    listener = Listener()
    order = TaskOrder()
    base = base_url(request)

    def sign(value: Any) -> Any:
        return state.signer.with_urls(value, base)

    feed.attach(task_id, listener)
    try:
        # Read again now that the listener is attached: nothing can fall in between.
        view = await owned_task(state, user["_id"], task_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + state.settings.realtime_max_lifetime_s
        pending: dict[str, Any] | None = view
        while True:
            if pending is not None and order.admit(pending):
                message = task_message(pending, sign)
                yield ServerSentEvent(
                    event=message["type"], data=message, id=pending.get("updated_at")
                )
                if pending.get("status") in TERMINAL:
                    return
            remaining = deadline - loop.time()
            if remaining <= 0:
                yield ServerSentEvent(
                    event="reconnect", data={"reason": "lifetime"}, retry=int(RETRY_AFTER_S * 1000)
                )
                return
            try:
                pending = await asyncio.wait_for(listener.next(), remaining)
            except TimeoutError:
                pending = None
    finally:
        feed.detach(task_id, listener)
