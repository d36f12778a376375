"""The process's recent error log entries, kept in memory for `GET /monitoring/logs/errors`.

A structlog processor (installed by `configure_logging`) copies every event at level `error` or
above into a bounded ring before it is rendered. In embedded mode that is every service's
errors; a standalone gateway only sees its own (each service logs to its own stderr).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

MAX_ENTRIES = 500
ERROR_LEVELS = frozenset({"error", "critical", "exception", "fatal"})
# Fields never copied: request bodies and secrets have no place in a log view.
_SKIPPED = frozenset({"event", "level", "timestamp", "exc_info", "_record", "_from_structlog"})

_ring: deque[dict[str, Any]] = deque(maxlen=MAX_ENTRIES)
_lock = threading.Lock()


def capture_errors(
    logger: Any, method_name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: remember error events (`{timestamp, level, logger, message, ...}`)."""
    level = str(event_dict.get("level") or method_name).lower()
    if level in ERROR_LEVELS:
        entry: dict[str, Any] = {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": level.upper(),
            "logger": str(getattr(logger, "name", "") or event_dict.get("logger") or ""),
            "message": str(event_dict.get("event", "")),
        }
        entry["fields"] = {k: str(v)[:500] for k, v in event_dict.items() if k not in _SKIPPED}
        with _lock:
            _ring.append(entry)
    return event_dict


def recent_errors(since: datetime, limit: int = 200) -> list[dict[str, Any]]:
    """Entries at or after `since` (UTC), newest last, at most `limit`."""
    stamp = since.astimezone(UTC).isoformat(timespec="milliseconds")
    with _lock:
        entries = [e for e in _ring if e["timestamp"] >= stamp]
    return entries[-limit:]


def clear() -> None:
    with _lock:
        _ring.clear()
