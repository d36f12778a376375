"""Conversation messages written for finished tasks, on a real SQLite store: once per task and
status whoever writes, nothing for unlinked tasks or deleted conversations, failures explained."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storyreel_core.errors import NotFound
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_gateway.conversations.recorder import message_new
from storyreel_gateway.conversations.store import ConversationStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[ConversationStore]:
    docs = await SqliteDocumentStore(tmp_path / "docs.db").connect()
    conversations = ConversationStore(docs)
    await conversations.ensure_indexes()
    yield conversations
    await docs.close()


def failed(task_id: str) -> dict[str, object]:
    return {
        "task_id": task_id,
        "kind": "render",
        "status": "failed",
        "error": {"code": 2001, "reason": "the image provider timed out"},
    }


async def test_a_failed_task_is_written_once(store: ConversationStore) -> None:
    conv = await store.create("alice", "drafts")
    await store.link_task("alice", conv["_id"], "task_1", "render")
    await store.link_task("alice", conv["_id"], "task_1", "render")  # idempotent
    first = await store.record_task(failed("task_1"))
    assert first is not None and first["type"] == "task.failed"
    assert "the image provider timed out" in first["content"]
    assert await store.record_task(failed("task_1")) is None  # the other writer, a redelivery
    assert await store.record_task(failed("task_unlinked")) is None
    items, total = await store.messages("alice", conv["_id"], page=1, per_page=10)
    assert total == 1 and items[0]["_id"] == first["_id"]
    updated = await store.get("alice", conv["_id"])
    assert updated["message_count"] == 1 and updated["preview_text"].startswith("render task")
    event = message_new(first)
    assert event["type"] == "message.new" and event["conversation_id"] == conv["_id"]
    assert event["data"]["message_id"] == first["_id"]
    with pytest.raises(NotFound):
        await store.messages("bob", conv["_id"], page=1, per_page=10)


async def test_nothing_is_written_into_a_deleted_conversation(store: ConversationStore) -> None:
    conv = await store.create("alice", "gone soon")
    await store.link_task("alice", conv["_id"], "task_2", "generate_script")
    await store.delete("alice", conv["_id"])
    assert await store.record_task({"task_id": "task_2", "status": "completed"}) is None
