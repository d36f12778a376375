"""A loop whose cancel a library swallowed still stops on its next turn."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from storyreel_core.cancellation import raise_if_cancelling


async def test_a_swallowed_cancel_is_raised_again_on_the_next_turn() -> None:
    turns = 0

    async def loop() -> None:
        nonlocal turns
        while True:
            raise_if_cancelling()
            turns += 1
            # What Python 3.11's wait_for can do when a reply lands with the cancel:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(0.01)

    task = asyncio.create_task(loop())
    await asyncio.sleep(0.03)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 2.0)
    assert turns >= 1


async def test_nothing_happens_outside_a_cancel() -> None:
    raise_if_cancelling()  # no task cancelling: returns
