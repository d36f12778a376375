"""The workflow's ear: stage task events through a durable JetStream consumer.

Every task change is published on `events.tasks.<id>` and kept by the EVENTS stream. The
workflow service reads them through its own durable consumer (`workflow-stage-events`, shared by
its replicas, acked only after the machine handled the event), so a completion that happens
while every workflow process is down is delivered when one comes back. Events of tasks that are
not a workflow's stage tasks (their parent is not a `wf_` id) are acked and ignored.

At start-up every unfinished workflow is looked at once (`WorkflowMachine.sweep`), and again
every `sweep_s`, a safety net for an event that never reached the stream (task events are
published without a stream acknowledgement).
"""

from __future__ import annotations

import asyncio
import contextlib

from storyreel_core.bus.domain_events import DomainEventConsumer
from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.logging import get_logger
from storyreel_workflow.workflow_machine import WorkflowMachine

log = get_logger("storyreel.workflow.events")

DURABLE = "workflow-stage-events"
TASK_EVENTS = "events.tasks.>"


class StageEvents:
    def __init__(
        self,
        bus: JetStreamBus,
        machine: WorkflowMachine,
        *,
        first_sweep_s: float = 1.0,
        sweep_s: float = 60.0,
    ) -> None:
        self.machine = machine
        self.consumer = DomainEventConsumer(
            bus,
            durable=DURABLE,
            subject=TASK_EVENTS,
            handler=machine.on_task_event,
            retry_delay_s=1.0,
        )
        self.first_sweep_s = first_sweep_s
        self.sweep_s = sweep_s
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.consumer.start()
        self._sweeper = asyncio.create_task(self._sweep_loop(), name="workflow-sweep")

    async def _sweep_loop(self) -> None:
        # The first look waits for the other services (embedded mode starts them together).
        await asyncio.sleep(self.first_sweep_s)
        while True:
            try:
                looked = await self.machine.sweep()
                if looked:
                    log.info("workflow.swept", workflows=looked)
            except Exception as exc:
                log.warning("workflow.sweep_failed", error=repr(exc))
            await asyncio.sleep(self.sweep_s)

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        await self.consumer.stop()
