"""Worker threads run nicer than the event loop's thread, and the GIL switch interval is short.

Linux keeps a niceness per thread; these tests read it back with getpriority on the thread's
own id. Nothing here is timed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Iterator

import pytest

from storyreel_core.cpu_priority import (
    WorkExecutor,
    favour_event_loop,
    lower_thread_priority,
    set_work_nice,
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's"
)


def thread_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@pytest.fixture(autouse=True)
def restore() -> Iterator[None]:
    interval = sys.getswitchinterval()
    yield
    sys.setswitchinterval(interval)
    set_work_nice(0)


def test_work_executor_threads_are_nicer_and_the_caller_is_not() -> None:
    base = thread_nice()
    with WorkExecutor(3, max_workers=1) as pool:
        assert pool.submit(thread_nice).result() == min(19, base + 3)
    assert thread_nice() == base


def test_lower_thread_priority_touches_only_the_calling_thread() -> None:
    base = thread_nice()
    seen: list[int | None] = []
    worker = threading.Thread(target=lambda: seen.extend([lower_thread_priority(2), thread_nice()]))
    worker.start()
    worker.join()
    assert seen == [min(19, base + 2)] * 2 and thread_nice() == base
    assert lower_thread_priority(0) is None and thread_nice() == base  # nothing asked


async def test_favour_event_loop_nices_to_thread_work_and_shortens_the_switch_interval() -> None:
    base = thread_nice()
    favour_event_loop(asyncio.get_running_loop(), work_nice=4, switch_ms=0.5)
    assert await asyncio.to_thread(thread_nice) == min(19, base + 4)
    assert thread_nice() == base
    assert sys.getswitchinterval() == pytest.approx(0.0005)
    # Threads our code starts itself (the ffmpeg feeder) lower themselves by the same amount.
    seen: list[int | None] = []
    worker = threading.Thread(target=lambda: seen.append(lower_thread_priority()))
    worker.start()
    worker.join()
    assert seen == [min(19, base + 4)]
