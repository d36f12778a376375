"""Keep a process's event loop ahead of its own CPU work.

A service's event loop answers gRPC calls, writes and publishes task records and, in the
embedded platform (`storyreel up`), also runs the gateway that pushes those records to
WebSocket clients. The stage work (drawing frames, speaking lines, mixing audio, feeding
ffmpeg) runs in worker threads of the same process. Two things let that work delay the loop:

- the CPU: on a small machine the worker threads, ffmpeg and the loop compete for the same
  cores. Linux keeps a niceness per thread, so `lower_thread_priority` raises it for the
  calling thread only (raising niceness needs no privilege); `WorkExecutor` is the default
  executor (`asyncio.to_thread`) whose threads all start that way. Threads a worker starts
  (onnxruntime's pool, say) inherit its niceness.
- the GIL: the loop gives it up on every socket write and every hand-off to a thread (a
  push to 200 sockets is 200 writes), and a worker running Python or a GIL-holding C call
  keeps it until the interpreter's switch interval asks for it back (5 ms by default), so a
  push could wait 5 ms per socket. `shorten_switch_interval` makes that wait short.

`STORYREEL_WORK_NICE` (default 10, as `STORYREEL_FFMPEG_NICE`) and
`STORYREEL_GIL_SWITCH_INTERVAL_MS` (default 1) set both; see `Settings`.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

from storyreel_core.logging import get_logger

log = get_logger(__name__)

_WORK_NICE: list[int] = [0]  # what `lower_thread_priority()` adds when called without a value


def lower_thread_priority(nice: int | None = None) -> int | None:
    """Raise the calling thread's niceness by `nice` (default: the process's work niceness,
    `set_work_nice`), capped at 19. Returns the thread's new niceness, or None where threads
    have no niceness of their own (not Linux) or nothing was asked."""
    step = _WORK_NICE[0] if nice is None else nice
    if step <= 0 or not sys.platform.startswith("linux"):
        return None
    tid = threading.get_native_id()
    try:
        # On Linux PRIO_PROCESS with a thread id addresses that one thread.
        target = min(19, os.getpriority(os.PRIO_PROCESS, tid) + step)
        os.setpriority(os.PRIO_PROCESS, tid, target)
    except OSError:  # a sandbox may refuse; the work still runs, only at equal priority
        return None
    return target


def set_work_nice(nice: int) -> None:
    """The niceness that worker threads of this process add (`lower_thread_priority()`)."""
    _WORK_NICE[0] = max(0, nice)


class WorkExecutor(ThreadPoolExecutor):
    """A thread pool whose threads run `nice` levels below the thread that made them."""

    def __init__(self, nice: int, max_workers: int | None = None) -> None:
        super().__init__(
            max_workers=max_workers,
            thread_name_prefix="storyreel-work",
            initializer=lower_thread_priority,
            initargs=(nice,),
        )


def shorten_switch_interval(ms: float) -> None:
    """Ask a thread holding the GIL to hand it over after `ms` milliseconds (Python's default
    is 5 ms) once another thread waits for it."""
    sys.setswitchinterval(ms / 1000.0)


def favour_event_loop(loop: asyncio.AbstractEventLoop, *, work_nice: int, switch_ms: float) -> None:
    """Set this process up so its event loop stays ahead of its stage work: worker threads
    (`asyncio.to_thread` and the ones our code starts with `lower_thread_priority()`) run at
    `work_nice` above the loop's thread, and the GIL switch interval is `switch_ms`."""
    set_work_nice(work_nice)
    if work_nice > 0:
        loop.set_default_executor(WorkExecutor(work_nice))
    shorten_switch_interval(switch_ms)
    log.info("cpu.priority", work_nice=work_nice, gil_switch_interval_ms=switch_ms)
