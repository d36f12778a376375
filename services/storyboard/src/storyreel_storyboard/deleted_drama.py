"""Jobs that write a drama's storyboards, checked against the drama's deletion afterwards.

`drama.deleted` may be handled while a job of that drama is still drawing: the clean-up runs,
then the job writes its storyboards and frames, and they would outlive the drama. So after
every such job (finished or failed) the drama is looked up again, and if it is gone what the
job wrote is removed the same way the clean-up removes it (storyboards, media, and the task
records of the stages it started, which the workflow's clean-up could not see yet). Only the
script service's NOT_FOUND counts as gone: nothing is deleted on a guess.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from storyreel_core.bus.job_runner import Handler, Job, JobContext
from storyreel_core.logging import get_logger
from storyreel_storyboard.peers import Peers

log = get_logger("storyreel.storyboard.deleted_drama")


Forget = Callable[[str, str], Awaitable[object]]


class ForgetIfDeleted:
    def __init__(self, handler: Handler, forget: Sequence[Forget], peers: Peers) -> None:
        self.handler = handler
        self.forget = list(forget)
        self.peers = peers

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        try:
            return await self.handler(job, ctx)
        finally:
            drama_id = str(job.payload.get("drama_id") or "")
            if drama_id and await self.peers.dramas.deleted(job.owner_id, drama_id):
                log.info("storyboard.job_outlived_drama", task_id=job.task_id, drama_id=drama_id)
                for forget in self.forget:
                    await forget(job.owner_id, drama_id)
