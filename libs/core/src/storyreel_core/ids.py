"""Prefixed, sortable ids (`drama_…`, `task_…`): the prefix tells a reader what an id names."""

from __future__ import annotations

import os
import re
import threading
import time

_lock = threading.Lock()
_last: tuple[int, int] = (0, 0)


def _next_stamp() -> tuple[int, int]:
    """Milliseconds and 64 random bits, monotonic within one process.

    Two ids made in the same millisecond share the time part, so the second takes the first's
    random part plus one (as monotonic ULIDs do): listings sorted by id then follow creation
    order exactly, not merely to the millisecond.
    """
    global _last
    with _lock:
        millis = int(time.time() * 1000)
        last_millis, last_random = _last
        if millis > last_millis:
            # Start low in the 64-bit space so increments in this millisecond cannot overflow.
            stamp = (millis, int.from_bytes(os.urandom(8), "big") >> 1)
        else:  # same millisecond, or the clock stepped back
            stamp = (last_millis, last_random + 1)
        _last = stamp
        return stamp


def new_id(prefix: str) -> str:
    """A prefix, 12 hex digits of milliseconds (so ids sort by creation) and 64 random bits."""
    millis, random = _next_stamp()
    return f"{prefix}_{millis:012x}{random:016x}"


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(prefix + "_") and len(value) > len(prefix) + 1


MAX_ID_LENGTH = 100
"""No id the platform makes is longer: a prefix, `_`, 28 hex digits and a short suffix
(`task_…_speech`, `scriptver_…_12`, `sb_…001`)."""


def id_pattern(prefix: str) -> str:
    """The regular expression every id with `prefix` matches: `<prefix>_` then lowercase
    letters, digits and `_`, at most `MAX_ID_LENGTH` characters in all."""
    return rf"^{prefix}_[0-9a-z_]{{1,{MAX_ID_LENGTH - len(prefix) - 1}}}$"


def is_id(value: str, prefix: str) -> bool:
    """Whether `value` could be an id made with `prefix` (it may still not exist)."""
    return re.fullmatch(id_pattern(prefix), value) is not None
