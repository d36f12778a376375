"""At most one glibc malloc arena per usable core, for long-running StoryReel processes.

glibc gives each thread that allocates under contention an arena of its own, up to eight per
core, and an arena keeps the pages of freed blocks for reuse. Our services allocate large numpy
arrays (frames, audio chunks) from many short-lived worker threads (`asyncio.to_thread`, the
ffmpeg feeders), so every arena ends up holding its own high-water mark: the embedded platform
grew by ~250 MiB over the segments of a 3-minute cut and did not give it back. Capped at one
arena per core — the most threads that run at once anyway — the same cut stayed flat. This is
`mallopt(M_ARENA_MAX)`, the setting behind the `MALLOC_ARENA_MAX` environment variable; a value
given there wins.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

from storyreel_core.cores import usable_cores
from storyreel_core.logging import get_logger

log = get_logger(__name__)

M_ARENA_MAX = -8  # from glibc's <malloc.h>


def limit_malloc_arenas(arenas: int | None = None) -> int | None:
    """Cap this process's malloc arenas at `arenas` (default: the usable cores, at least 2).
    Returns the cap set, or None where it does not apply: not Linux, not glibc (musl has no
    arenas), or `MALLOC_ARENA_MAX` already set by the operator."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return None
    cap = arenas or max(2, usable_cores())
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return None
    if mallopt(M_ARENA_MAX, cap) != 1:  # mallopt returns 1 on success
        return None
    log.debug("malloc.arenas.limited", arenas=cap)
    return cap
