"""Per-task scratch folders under the data dir, cleared at start-up.

A job's working files (fetched stills and speech, the encoder's output before upload: about
20 MB for a short final cut) live in `<data_dir>/scratch/<service>/<task_id>/`, not in the
system temp dir: a SIGKILLed worker cannot run its `finally`, and what it leaves must be found
again. The folder is named by the task, so a redelivered job starts from an empty one instead of
a second copy, and a process starting up removes everything under its service's scratch folder:
no job of its own runs yet, and a data dir belongs to one process at a time (as its SQLite
file and bundled nats-server already require).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from storyreel_core.logging import get_logger

log = get_logger("storyreel.scratch")

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class ScratchSpace:
    """`<data_dir>/scratch/<service>/`: one folder per running job."""

    def __init__(self, data_dir: Path, service: str) -> None:
        self.root = Path(data_dir).resolve() / "scratch" / service

    @classmethod
    def in_temp(cls, service: str) -> ScratchSpace:
        """Under the system temp dir: for a job built outside a service (tests, tools)."""
        return cls(Path(tempfile.gettempdir()) / "storyreel", service)

    def path_for(self, task_id: str) -> Path:
        """The task's folder; the id is reduced to safe characters (it names a folder)."""
        name = _SAFE.sub("_", task_id)[:100] or "task"
        return self.root / name.lstrip(".")

    @contextlib.contextmanager
    def for_task(self, task_id: str) -> Iterator[Path]:
        """An empty folder for the task while the block runs, removed after it (whatever the
        outcome); what an earlier delivery of the same task left there is removed first."""
        path = self.path_for(task_id)
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir(parents=True, exist_ok=True)
        try:
            yield path
        finally:
            shutil.rmtree(path, ignore_errors=True)

    def clear(self) -> int:
        """Remove what killed processes left behind; the number of entries removed."""
        if not self.root.is_dir():
            return 0
        removed = 0
        for entry in self.root.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
        if removed:
            log.info("scratch.cleared", root=str(self.root), entries=removed)
        return removed

    async def clear_at_start(self) -> None:
        """`clear` off the event loop: a start-up step (`ServiceParts.on_start`)."""
        await asyncio.to_thread(self.clear)
