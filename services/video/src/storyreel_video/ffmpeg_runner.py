"""Run ffmpeg as an asyncio subprocess: progress from `-progress pipe:1`, frames fed on stdin
from a thread, clean kill on cancellation, and `RenderFailed` with stderr's tail on failure.

Frames are written by a plain thread to an OS pipe (not through asyncio's transport) because
the frame generator is CPU work that must overlap the encode without blocking the event loop;
numpy releases the GIL while it works, so the thread and ffmpeg's encoder threads share the
cores. Cancelling the awaiting task kills ffmpeg, which breaks the pipe and ends the thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import inspect
import os
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

import imageio_ffmpeg

from storyreel_core.cpu_priority import lower_thread_priority
from storyreel_core.logging import get_logger
from storyreel_video.errors import RenderFailed

log = get_logger(__name__)

ProgressCallback = Callable[[float], Awaitable[None] | None]
Writer = Callable[[bytes | memoryview], None]
Feeder = Callable[[Writer], None]
"""Runs in a thread and calls `write` with raw bytes for ffmpeg's stdin until done."""

_PIPE_SIZE = 1 << 20  # fewer wake-ups per 1.4 MB frame than the default 64 KiB
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
_STDERR_LINES = 40


class _Stopped(Exception):
    """Raised inside the feeder's `write` once the render is being torn down."""


def resolve_ffmpeg(ffmpeg: str | None = None) -> str:
    """The ffmpeg binary: the one asked for, $STORYREEL_FFMPEG, or imageio-ffmpeg's bundled one."""
    return ffmpeg or os.environ.get("STORYREEL_FFMPEG") or imageio_ffmpeg.get_ffmpeg_exe()


def lower_priority(pid: int) -> None:
    """Run an encoder at `STORYREEL_FFMPEG_NICE` (default 10; 0 leaves it alone).

    Encoding is batch work that can use every core for minutes; requests, realtime pushes and
    the services' own event loops must not queue behind it for CPU (on a small machine an
    encode at equal priority put ~200 ms on the p99 of realtime pushes). Raising niceness is
    always permitted, so this needs no privilege; it does not slow an encode on an idle box.
    """
    try:  # the variable of `Settings.ffmpeg_nice`, validated (0-19) when the service starts
        nice = int(os.environ.get("STORYREEL_FFMPEG_NICE", "10"))
    except ValueError:
        nice = 10
    if nice > 0:
        with contextlib.suppress(OSError):  # the process may already have exited
            os.setpriority(os.PRIO_PROCESS, pid, nice)


async def _report(on_progress: ProgressCallback | None, fraction: float) -> None:
    if on_progress is None:
        return
    result = on_progress(fraction)
    if inspect.isawaitable(result):
        await result


async def run_ffmpeg(
    args: Sequence[str],
    *,
    ffmpeg: str | None = None,
    duration: float | None = None,
    on_progress: ProgressCallback | None = None,
    feeder: Feeder | None = None,
    cwd: Path | None = None,
) -> None:
    """Run `ffmpeg <args>` to completion.

    `duration` (seconds of output) turns ffmpeg's `out_time` into a 0..1 fraction for
    `on_progress`; `feeder`, if given, supplies stdin (reference it as `-i pipe:0`).
    Raises `RenderFailed` if ffmpeg exits non-zero or the feeder raises. If the caller is
    cancelled, ffmpeg is killed and reaped before `CancelledError` propagates.
    """
    exe = resolve_ffmpeg(ffmpeg)
    cmd = [exe, "-hide_banner", "-nostats", "-loglevel", "error", "-progress", "pipe:1"]
    if feeder is None:
        cmd.append("-nostdin")
    cmd.extend(args)

    read_fd = write_fd = -1
    if feeder is not None:
        read_fd, write_fd = os.pipe()  # non-inheritable: ffmpeg only sees its stdin end
        with contextlib.suppress(OSError):
            fcntl.fcntl(write_fd, _F_SETPIPE_SZ, _PIPE_SIZE)
    try:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=read_fd if feeder is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            cwd=cwd,
        )
    except BaseException:
        if feeder is not None:
            os.close(write_fd)
        raise
    finally:
        if feeder is not None:
            os.close(read_fd)
    lower_priority(proc.pid)

    loop = asyncio.get_running_loop()
    stop = threading.Event()
    feeder_done: asyncio.Future[BaseException | None] = loop.create_future()
    tail: deque[str] = deque(maxlen=_STDERR_LINES)

    def write(data: bytes | memoryview) -> None:
        view = memoryview(data).cast("B")
        while view:
            if stop.is_set():
                raise _Stopped
            n = os.write(write_fd, view)
            view = view[n:]

    def resolve(err: BaseException | None) -> None:
        if not feeder_done.done():
            feeder_done.set_result(err)

    def feed() -> None:
        assert feeder is not None
        err: BaseException | None = None
        lower_thread_priority()  # drawing frames is stage work: the event loop goes first
        try:
            feeder(write)
        except (BrokenPipeError, _Stopped):
            pass  # ffmpeg went away or we are tearing down; its exit status tells the story
        except BaseException as exc:
            err = exc
        finally:
            os.close(write_fd)
            with contextlib.suppress(RuntimeError):  # loop already closed
                loop.call_soon_threadsafe(resolve, err)

    async def read_stderr() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip()
            if line:
                tail.append(line)

    async def read_progress() -> None:
        assert proc.stdout is not None
        last = -1.0
        async for raw in proc.stdout:
            key, _, value = raw.decode("ascii", "replace").strip().partition("=")
            if key == "out_time_us" and duration and value.strip().lstrip("-").isdigit():
                fraction = min(1.0, max(0.0, int(value) / 1e6 / duration))
                if fraction - last >= 0.005:
                    last = fraction
                    await _report(on_progress, fraction)

    async def watch_feeder() -> BaseException | None:
        err = await feeder_done
        if err is not None and proc.returncode is None:
            proc.kill()  # the frames are broken; do not let ffmpeg finish a short video
        return err

    thread: threading.Thread | None = None
    if feeder is not None:
        thread = threading.Thread(target=feed, name="ffmpeg-feeder", daemon=True)
        thread.start()
    else:
        feeder_done.set_result(None)

    try:
        _, _, feeder_err = await asyncio.gather(read_stderr(), read_progress(), watch_feeder())
        returncode = await proc.wait()
    except BaseException:
        stop.set()
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        with contextlib.suppress(BaseException):
            await asyncio.shield(proc.wait())
        log.info("ffmpeg.killed", pid=proc.pid)
        raise
    finally:
        if thread is not None:
            # Returns promptly: the pipe is closed (EOF or ffmpeg killed) or stop is set.
            await asyncio.to_thread(thread.join, 5.0)

    stderr_tail = "\n".join(tail)
    if feeder_err is not None:
        raise RenderFailed(
            f"frame generation failed: {feeder_err!r}", stderr_tail=stderr_tail
        ) from feeder_err
    if returncode != 0:
        raise RenderFailed(
            f"ffmpeg exited with status {returncode}",
            stderr_tail=stderr_tail,
            returncode=returncode,
        )
    await _report(on_progress, 1.0)
