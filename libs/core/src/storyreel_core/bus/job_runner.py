"""Pull jobs from a durable JetStream consumer and run them with the task lifecycle around them.

At-least-once delivery is the contract: a job may run again after a worker dies, so handlers
write their outputs under keys derived from the task id (a rerun overwrites, never duplicates).
The runner owns the rest: heartbeats (`in_progress`) while a handler works, retries with
backoff, a failed task after the last delivery, cooperative cancel, and a hand-back of
in-flight jobs on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import nats.errors
from nats.aio.msg import Msg

from storyreel_core.bus.jetstream import ConsumerSpec, JetStreamBus
from storyreel_core.errors import AppError, Code
from storyreel_core.logging import get_logger
from storyreel_core.task_store import TERMINAL, TaskStore, progress_doc, task_view
from storyreel_core.telemetry.jobs import annotate_job, observe_job, record_task_status

log = get_logger("storyreel.jobs")

# Business errors a retry cannot fix: bad input, missing things, unsupported files.
PERMANENT_CODES = frozenset(
    {
        Code.VALIDATION,
        Code.NOT_FOUND,
        Code.EXISTS,
        Code.FORBIDDEN,
        Code.UNSUPPORTED_FILE,
        Code.FILE_TOO_LARGE,
        Code.AI_FILTERED,
    }
)


@dataclass(frozen=True)
class Job:
    task_id: str
    kind: str
    owner_id: str
    payload: dict[str, Any]
    attempt: int


class JobCancelled(Exception):
    """The task was cancelled by its owner while the job ran."""


@dataclass
class JobContext:
    """What a handler may do besides its work: report progress and publish task events."""

    job: Job
    tasks: TaskStore
    publish: Callable[[dict[str, Any]], Awaitable[None]]
    extra: dict[str, Any] = field(default_factory=dict)

    async def progress(
        self,
        completed: int,
        total: int,
        step: str,
        *,
        current_item: Mapping[str, Any] | None = None,
        **counts: Any,
    ) -> None:
        doc = await self.tasks.update(
            self.job.task_id,
            progress=progress_doc(completed, total, **counts),
            current_step=step,
            current_item=dict(current_item) if current_item else None,
        )
        if doc.get("status") == "cancelled":
            raise JobCancelled(self.job.task_id)
        await self.publish(doc)


Handler = Callable[[Job, JobContext], Awaitable[dict[str, Any]]]


def job_subject(service: str, kind: str) -> str:
    return f"jobs.{service}.{kind}"


def task_event_subject(task_id: str) -> str:
    return f"events.tasks.{task_id}"


class JobRunner:
    def __init__(
        self,
        bus: JetStreamBus,
        tasks: TaskStore,
        spec: ConsumerSpec,
        handlers: Mapping[str, Handler],
        *,
        concurrency: int = 2,
        cancel_poll_s: float = 5.0,
        heartbeat_s: float = 10.0,
    ) -> None:
        self.bus = bus
        self.tasks = tasks
        self.spec = spec
        self.handlers = dict(handlers)
        self.concurrency = max(1, concurrency)
        self.cancel_poll_s = cancel_poll_s
        self.heartbeat_s = heartbeat_s
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self.idle = asyncio.Event()

    async def start(self) -> None:
        await self.bus.ensure_consumer(self.spec)
        self._loop_task = asyncio.create_task(self._pull_loop(), name=f"jobs:{self.spec.durable}")

    async def publish_task(self, doc: dict[str, Any]) -> None:
        try:
            await self.bus.publish_event(task_event_subject(doc["_id"]), task_view(doc))
        except Exception as exc:  # events are best effort; the task record is the truth
            log.warning("jobs.event.publish_failed", task_id=doc["_id"], error=str(exc))

    async def _pull_loop(self) -> None:
        sub = await self.bus.pull(self.spec)
        try:
            await self._pull_from(sub)
        finally:
            # Left subscribed, the pull subscription keeps the connection's drain waiting
            # at shutdown (seconds per service).
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _pull_from(self, sub: Any) -> None:
        slots = asyncio.Semaphore(self.concurrency)
        while not self._stopping.is_set():
            await slots.acquire()
            if self._stopping.is_set():
                slots.release()
                break
            try:
                msgs = await sub.fetch(1, timeout=1.0)
            except nats.errors.TimeoutError:
                slots.release()
                self.idle.set()
                continue
            except Exception as exc:
                slots.release()
                if self._stopping.is_set():
                    break
                log.warning("jobs.fetch.failed", consumer=self.spec.durable, error=str(exc))
                await asyncio.sleep(0.5)
                continue
            self.idle.clear()
            for msg in msgs:
                task = asyncio.create_task(self._observed(msg))
                self._inflight.add(task)
                task.add_done_callback(self._inflight.discard)
                task.add_done_callback(lambda _t: slots.release())

    async def _observed(self, msg: Msg) -> None:
        """`_handle` inside the job's span (a child of the publisher's context), timed."""
        with observe_job(msg.subject, msg.headers):
            await self._handle(msg)

    async def _handle(self, msg: Msg) -> None:
        try:
            body = json.loads(msg.data)
            attempt = int(msg.metadata.num_delivered)
            job = Job(
                task_id=str(body["task_id"]),
                kind=str(body["kind"]),
                owner_id=str(body.get("owner_id", "")),
                payload=dict(body.get("payload") or {}),
                attempt=attempt,
            )
        except (ValueError, KeyError, TypeError) as exc:
            log.error("jobs.malformed", subject=msg.subject, error=str(exc))
            await msg.term()
            return
        bound = log.bind(task_id=job.task_id, kind=job.kind, attempt=job.attempt)
        annotate_job(job.task_id, job.kind, job.attempt)
        try:
            task = await self.tasks.get(job.task_id)
        except AppError:
            bound.warning("jobs.task_missing")
            await msg.term()
            return
        if task["status"] in TERMINAL:
            bound.info("jobs.already_finished", status=task["status"])
            await msg.ack()
            return
        if int(body.get("retries") or 0) < int(task.get("retries") or 0):
            # Published before the task was retried (cancelled while its job still waited in
            # the stream, then retried): the retry's own job runs it, this one would run the
            # same task a second time beside it.
            bound.info("jobs.superseded", retries=task.get("retries"))
            await msg.ack()
            return
        handler = self.handlers.get(job.kind)
        if handler is None:
            await self._finish_failed(msg, job, {"code": 1001, "reason": "unknown job kind"})
            return
        await self.publish_task(await self.tasks.mark_running(job.task_id, job.attempt))
        record_task_status(msg.subject, "running")
        ctx = JobContext(job=job, tasks=self.tasks, publish=self.publish_task)
        work: asyncio.Task[dict[str, Any]] = asyncio.ensure_future(handler(job, ctx))
        watcher = asyncio.create_task(self._watch(msg, job, work))
        try:
            result = await work
        except (JobCancelled, asyncio.CancelledError):
            # Either the owner cancelled (the watcher stopped the work) or shutdown cancelled
            # this handler; in both cases the work must not go on behind our back.
            work.cancel()
            await asyncio.gather(work, return_exceptions=True)
            await self._after_cancel(msg, job, bound)
            return
        except AppError as exc:
            bound.warning("jobs.failed", code=int(exc.code), error=exc.message)
            error = {"code": int(exc.code), "reason": exc.message, "field": exc.field}
            if exc.code in PERMANENT_CODES or exc.permanent:
                await self._finish_failed(msg, job, error)
            else:
                await self._retry_or_fail(msg, job, error)
            return
        except Exception as exc:
            bound.exception("jobs.crashed", error=str(exc))
            await self._retry_or_fail(
                msg, job, {"code": 1000, "reason": str(exc)[:500], "field": None}
            )
            return
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        await self.publish_task(await self.tasks.complete(job.task_id, result))
        record_task_status(msg.subject, "completed")
        await msg.ack()
        bound.info("jobs.completed")

    async def _watch(self, msg: Msg, job: Job, work: asyncio.Task[dict[str, Any]]) -> None:
        """Heartbeat the message and the task, and stop the work when its task is cancelled.

        A cancel is announced on the task's subject (`task_cancel.cancel_task_tree`), which
        wakes this watcher at once; the record is the truth, so the event only prompts a
        look, and the record is looked at every `cancel_poll_s` besides (an event lost in a
        reconnect, or a cancel written by a tool that announces nothing). The beat is kept
        by the clock, not by counting looks: each look waits on the task store, so counted
        looks stretch the beat towards `ack_wait` under load (a short `ack_wait` then
        redelivers a healthy job to a second worker)."""
        loop = asyncio.get_running_loop()
        beat = max(0.5, self.spec.ack_wait / 3)
        next_beat = loop.time()  # the first poll beats: fetching and marking took time too
        # The task's own heartbeat (`heartbeat_at`): what the reaper reads to tell a live job
        # from a dead one. mark_running stamped the first.
        next_stamp = loop.time() + self.heartbeat_s
        next_look = loop.time() + self.cancel_poll_s
        cancelled = asyncio.Event()

        async def on_event(event: dict[str, Any]) -> None:
            if event.get("status") == "cancelled":
                cancelled.set()

        unsubscribe = None
        with contextlib.suppress(Exception):  # no bus for a moment: the looks still see it
            # Bounded: a reconnecting bus must not hold up the beats below.
            unsubscribe = await asyncio.wait_for(
                self.bus.subscribe(task_event_subject(job.task_id), on_event), beat
            )
        try:
            # Looked at once now: a cancel written before the subscription announced nothing
            # this watcher heard.
            look = True
            while not work.done():
                if look:
                    cancelled.clear()
                    next_look = loop.time() + self.cancel_poll_s
                    with contextlib.suppress(AppError):
                        task = await self.tasks.get(job.task_id)
                        if task["status"] == "cancelled":
                            work.cancel()
                            return
                wait = max(0.0, min(next_beat, next_stamp, next_look) - loop.time())
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(cancelled.wait(), wait)
                if loop.time() >= next_beat:
                    next_beat = loop.time() + beat
                    with contextlib.suppress(Exception):
                        await msg.in_progress()
                if loop.time() >= next_stamp:
                    next_stamp = loop.time() + self.heartbeat_s
                    with contextlib.suppress(Exception):  # a store outage: the next beat tries
                        await self.tasks.heartbeat(job.task_id)
                look = cancelled.is_set() or loop.time() >= next_look
        finally:
            if unsubscribe is not None:
                with contextlib.suppress(Exception):
                    await unsubscribe()

    async def _after_cancel(self, msg: Msg, job: Job, bound: Any) -> None:
        try:
            task = await self.tasks.get(job.task_id)
        except AppError:  # DELETE /tasks/{id}: cancelled, then deleted while the job stopped
            bound.info("jobs.deleted")
            await msg.ack()
            return
        if task["status"] == "cancelled":
            bound.info("jobs.cancelled")
            record_task_status(msg.subject, "cancelled")
            await self.publish_task(task)
            await msg.ack()
        else:
            # Shutdown took the job away: hand it back so another replica picks it up now.
            bound.info("jobs.handed_back")
            await self.tasks.update(job.task_id, status="pending", current_step="requeued")
            with contextlib.suppress(Exception):  # a lost connection redelivers after ack_wait
                await msg.nak()

    async def _retry_or_fail(self, msg: Msg, job: Job, error: dict[str, Any]) -> None:
        if job.attempt >= self.spec.max_deliver:
            await self._finish_failed(msg, job, error)
            return
        delay = self.spec.backoff[min(job.attempt - 1, len(self.spec.backoff) - 1)]
        await self.publish_task(await self.tasks.fail(job.task_id, error, final=False))
        record_task_status(msg.subject, "retrying")
        await msg.nak(delay=delay)

    async def _finish_failed(self, msg: Msg, job: Job, error: dict[str, Any]) -> None:
        await self.publish_task(await self.tasks.fail(job.task_id, error, final=True))
        record_task_status(msg.subject, "failed")
        await msg.term()

    async def stop(self, grace: float = 10.0) -> None:
        """Stop pulling, let in-flight jobs finish within `grace`, hand the rest back."""
        self._stopping.set()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._loop_task
        if self._inflight:
            _done, pending = await asyncio.wait(set(self._inflight), timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)
