"""Cancellation that a library swallowed, raised again where a loop would otherwise go on.

On Python 3.11, `asyncio.wait_for` (used inside nats-py's requests, among others) can lose a
`cancel()` that arrives just as the awaited reply lands: the call returns normally and the task
carries on, though `task.cancelling()` still counts the request. A background loop that is
stopped by cancelling it then never stops, and whoever awaits it hangs. Each such loop calls
`raise_if_cancelling()` once per turn so the stop always takes effect within one turn.
"""

from __future__ import annotations

import asyncio


def raise_if_cancelling() -> None:
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
