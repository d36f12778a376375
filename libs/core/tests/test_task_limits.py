"""The per-user limit on tasks in flight (TaskLauncher.admit) and the render cost limit.

The limit is counted in the shared task store, against every document-store adapter, so it holds
whatever replica starts the task.
"""

from __future__ import annotations

from typing import Any

import pytest

from storyreel_core.errors import AppError, Code, ValidationFailed
from storyreel_core.render_cost import DEFAULT_MAX_PIXEL_FRAMES, check_render_cost
from storyreel_core.task_launcher import TaskLauncher
from storyreel_core.task_store import TaskStore


class NoBus:
    """Stands where the JetStream bus goes: these starts are refused before anything is
    published, and one that got through would fail the test here."""

    async def publish_job(self, *_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("a refused start must not publish a job")


async def _task(tasks: TaskStore, owner: str, *, status: str = "pending", **kw: Any) -> str:
    doc = await tasks.create(kind="k", service="s", owner_id=owner, payload={}, **kw)
    if status != "pending":
        await tasks.update(doc["_id"], status=status)
    return str(doc["_id"])


async def test_a_user_at_the_limit_gets_a_429(document_store: Any) -> None:
    tasks = TaskStore(document_store)
    await tasks.ensure_indexes()
    launcher = TaskLauncher(tasks, NoBus(), max_active_per_user=2)  # type: ignore[arg-type]
    first = await _task(tasks, "usr_a")
    await _task(tasks, "usr_a", status="running")
    # Neither finished work, another user's, nor a stage task of admitted work counts.
    await _task(tasks, "usr_a", status="completed")
    await _task(tasks, "usr_a", status="cancelled")
    await _task(tasks, "usr_b")
    await _task(tasks, "usr_a", parent_id=first)

    with pytest.raises(AppError) as refused:
        await launcher.start(service="s", kind="k", owner_id="usr_a", payload={})
    assert refused.value.code == Code.RATE_LIMITED and refused.value.http_status == 429
    assert "at most 2" in refused.value.message

    await launcher.admit("usr_b")  # one task of two: admitted
    await tasks.update(first, status="failed")
    await launcher.admit("usr_a")  # a slot freed


async def test_stage_tasks_and_reattached_tasks_are_never_refused(document_store: Any) -> None:
    tasks = TaskStore(document_store)
    launcher = TaskLauncher(tasks, NoBus(), max_active_per_user=1)  # type: ignore[arg-type]
    parent = await _task(tasks, "usr_a")
    with pytest.raises(AssertionError, match="must not publish"):  # admitted: reached the bus
        await launcher.start(service="s", kind="k", owner_id="usr_a", payload={}, parent_id=parent)
    with pytest.raises(AssertionError, match="must not publish"):
        await launcher.start(service="s", kind="k", owner_id="usr_a", payload={}, task_id=parent)


async def test_no_limit_when_it_is_zero(document_store: Any) -> None:
    tasks = TaskStore(document_store)
    launcher = TaskLauncher(tasks, NoBus())  # type: ignore[arg-type]
    for _ in range(3):
        await _task(tasks, "usr_a")
    await launcher.admit("usr_a")


def test_render_cost_names_the_limit() -> None:
    check_render_cost(4096, 4096, 60, 4, DEFAULT_MAX_PIXEL_FRAMES)  # one 4 s shot: allowed
    with pytest.raises(ValidationFailed) as refused:
        check_render_cost(4096, 4096, 60, 30 * 4 * 5, DEFAULT_MAX_PIXEL_FRAMES)
    assert "STORYREEL_MAX_RENDER_PIXEL_FRAMES" in refused.value.message
    assert refused.value.field == "resolution"
    check_render_cost(4096, 4096, 60, 10_000, 0)  # 0: no limit
