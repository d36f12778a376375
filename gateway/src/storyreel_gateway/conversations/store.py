"""Conversations and their messages in the document store, every query scoped to the owner.

Collections: `conversations` (title, pinned, message count, preview), `conversation_messages`
(role, type, content, metadata; read oldest first, so the newest is last) and
`conversation_tasks` (task id → the conversation a task reports to, written when the task is
started with a `conversation_id`).

A task's message has the id `msg_<task id>_<status>`: whoever writes it first (the event
consumer or the gateway that started the task) stores it, the other gets AlreadyExists, so a
message is written once however many replicas and redeliveries there are.
"""

from __future__ import annotations

import contextlib
from typing import Any

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, NotFound, ValidationFailed
from storyreel_core.ids import new_id
from storyreel_core.stores.document_store import DocumentStore, IndexSpec

CONVERSATIONS = "conversations"
MESSAGES = "conversation_messages"
TASK_LINKS = "conversation_tasks"
INDEXES = {
    CONVERSATIONS: (IndexSpec(("owner_id", "updated_at")),),
    MESSAGES: (IndexSpec(("conversation_id", "created_at")),),
    TASK_LINKS: (IndexSpec(("conversation_id",)),),
}
MAX_TITLE = 200
PREVIEW_CHARS = 120


def conversation_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "title": doc["title"],
        "message_count": int(doc.get("message_count", 0)),
        "is_pinned": bool(doc.get("is_pinned")),
        "preview_text": doc.get("preview_text", ""),
        "last_accessed_at": doc.get("last_accessed_at"),
        "created_at": doc["created_at"],
        "updated_at": doc["updated_at"],
    }


def message_view(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["_id"],
        "conversation_id": doc["conversation_id"],
        "role": doc["role"],
        "type": doc["type"],
        "content": doc["content"],
        "metadata": doc.get("metadata") or {},
        "created_at": doc["created_at"],
    }


def _title(title: str) -> str:
    title = title.strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise ValidationFailed(f"title must be 1-{MAX_TITLE} characters", field="title")
    return title


def task_message_text(view: dict[str, Any]) -> tuple[str, str]:
    """(type, Markdown content) of the message a finished task writes: `task.completed` names
    what it made (a script, a video), `task.failed` the reason."""
    kind = str(view.get("kind") or "task")
    status = view.get("status")
    if status == "completed":
        result = view.get("result") or {}
        made = []
        if isinstance(result, dict):
            if result.get("title"):
                made.append(f"script **{result['title']}** ({result.get('scene_count', 0)} scenes)")
            if result.get("video_key") or result.get("video"):
                made.append("the video is ready")
            elif result.get("frames"):
                made.append("the image is ready")
        detail = "; ".join(made) or "done"
        return "task.completed", f"{kind} task {view.get('task_id')} completed: {detail}."
    error = view.get("error") or {}
    reason = error.get("reason") if isinstance(error, dict) else None
    reason = reason or ("cancelled by its owner" if status == "cancelled" else "unknown error")
    return "task.failed", f"{kind} task {view.get('task_id')} {status}: {reason}"


class ConversationStore:
    def __init__(self, docs: DocumentStore) -> None:
        self.docs = docs

    async def ensure_indexes(self) -> None:
        for collection, indexes in INDEXES.items():
            await self.docs.ensure_indexes(collection, indexes)

    async def create(self, owner_id: str, title: str) -> dict[str, Any]:
        now = utc_now()
        doc = {
            "_id": new_id("conv"),
            "owner_id": owner_id,
            "title": _title(title),
            "is_pinned": False,
            "message_count": 0,
            "preview_text": "",
            "last_accessed_at": now,
            "created_at": now,
            "updated_at": now,
        }
        return await self.docs.insert(CONVERSATIONS, doc)

    async def get(self, owner_id: str, conversation_id: str) -> dict[str, Any]:
        doc = await self.docs.find_one(
            CONVERSATIONS, {"_id": conversation_id, "owner_id": owner_id}
        )
        if doc is None:
            raise NotFound(f"conversation {conversation_id} not found", field="conversation_id")
        return doc

    async def touch(self, owner_id: str, conversation_id: str) -> dict[str, Any]:
        """The conversation, with `last_accessed_at` set to now (a client opened it)."""
        await self.get(owner_id, conversation_id)
        return await self.docs.update(
            CONVERSATIONS, conversation_id, {"last_accessed_at": utc_now()}
        )

    async def list_conversations(
        self, owner_id: str, *, page: int, per_page: int, pinned: bool | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """Pinned first, then the most recently updated."""
        flt: dict[str, Any] = {"owner_id": owner_id}
        if pinned is not None:
            flt["is_pinned"] = pinned
        total = await self.docs.count(CONVERSATIONS, flt)
        items = await self.docs.find(
            CONVERSATIONS,
            flt,
            sort=[("is_pinned", -1), ("updated_at", -1), ("_id", -1)],
            skip=(page - 1) * per_page,
            limit=per_page,
        )
        return items, total

    async def update(
        self, owner_id: str, conversation_id: str, *, title: str | None, is_pinned: bool | None
    ) -> dict[str, Any]:
        await self.get(owner_id, conversation_id)
        changes: dict[str, Any] = {"updated_at": utc_now()}
        if title is not None:
            changes["title"] = _title(title)
        if is_pinned is not None:
            changes["is_pinned"] = is_pinned
        return await self.docs.update(CONVERSATIONS, conversation_id, changes)

    async def delete(self, owner_id: str, conversation_id: str) -> None:
        await self.get(owner_id, conversation_id)
        await self.docs.delete_many(MESSAGES, {"conversation_id": conversation_id})
        await self.docs.delete_many(TASK_LINKS, {"conversation_id": conversation_id})
        await self.docs.delete(CONVERSATIONS, conversation_id)

    async def messages(
        self, owner_id: str, conversation_id: str, *, page: int, per_page: int
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of the messages, oldest first (the newest is last)."""
        await self.get(owner_id, conversation_id)
        flt = {"conversation_id": conversation_id}
        total = await self.docs.count(MESSAGES, flt)
        items = await self.docs.find(
            MESSAGES,
            flt,
            sort=[("created_at", 1), ("_id", 1)],
            skip=(page - 1) * per_page,
            limit=per_page,
        )
        return items, total

    async def link_task(self, owner_id: str, conversation_id: str, task_id: str, kind: str) -> None:
        """Remember that `task_id` reports to the conversation (idempotent)."""
        with contextlib.suppress(AlreadyExists):
            await self.docs.insert(
                TASK_LINKS,
                {
                    "_id": task_id,
                    "owner_id": owner_id,
                    "conversation_id": conversation_id,
                    "kind": kind,
                    "created_at": utc_now(),
                },
            )

    async def record_task(self, view: dict[str, Any]) -> dict[str, Any] | None:
        """Write the message of a finished task (a task view) into its conversation; None when
        the task reports to no conversation, the conversation is gone, or the message exists."""
        task_id = view.get("task_id")
        if not isinstance(task_id, str):
            return None
        link = await self.docs.get(TASK_LINKS, task_id)
        if link is None:
            return None
        kind, content = task_message_text(view)
        return await self.append(
            link["owner_id"],
            link["conversation_id"],
            message_id=f"msg_{task_id}_{view.get('status')}",
            kind=kind,
            content=content,
            metadata={"task_id": task_id, "kind": view.get("kind"), "status": view.get("status")},
        )

    async def append(
        self,
        owner_id: str,
        conversation_id: str,
        *,
        message_id: str,
        kind: str,
        content: str,
        metadata: dict[str, Any],
    ) -> dict[str, Any] | None:
        """Write a system message once (`message_id` decides: a second write is None), and
        update the conversation's count and preview; None when the conversation is gone."""
        conversation = await self.docs.find_one(
            CONVERSATIONS, {"_id": conversation_id, "owner_id": owner_id}
        )
        if conversation is None:
            return None
        now = utc_now()
        doc = {
            "_id": message_id,
            "conversation_id": conversation["_id"],
            "owner_id": owner_id,
            "role": "system",
            "type": kind,
            "content": content,
            "metadata": metadata,
            "created_at": now,
        }
        try:
            stored = await self.docs.insert(MESSAGES, doc)
        except AlreadyExists:
            return None
        count = await self.docs.count(MESSAGES, {"conversation_id": conversation["_id"]})
        await self.docs.update(
            CONVERSATIONS,
            conversation["_id"],
            {"message_count": count, "preview_text": content[:PREVIEW_CHARS], "updated_at": now},
        )
        return stored
