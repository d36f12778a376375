"""Many objects into local files at once: ffmpeg reads local files only, and against a
networked object store each download is a round trip or two, so one after another they add
up (16 shots' stills and speech held a cut's segments back ~1 s; a 16-shot cut's segments,
fetched for the stitch after the last one is encoded, are time no worker can share)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from storyreel_core.stores.object_store import ObjectStore

DOWNLOAD_CONCURRENCY = 8
"""Downloads in flight at once."""


async def download_all(objects: ObjectStore, files: Sequence[tuple[str, Path]]) -> list[Path]:
    """Download each (object key, local destination), `DOWNLOAD_CONCURRENCY` at a time, and
    return the destinations in the order given.

    A destination named more than once is downloaded once (two writers must not share a
    file). The first failure (`NotFound` for a missing key, an `OSError`) cancels the
    downloads still running and is raised: none outlives the caller's scratch folder.
    """
    slots = asyncio.Semaphore(DOWNLOAD_CONCURRENCY)
    fetching: dict[Path, asyncio.Task[Path]] = {}

    async def download(key: str, dest: Path) -> Path:
        async with slots:
            return await objects.download(key, dest)

    for key, dest in files:
        if dest not in fetching:
            fetching[dest] = asyncio.ensure_future(download(key, dest))
    try:
        await asyncio.gather(*fetching.values())
    except BaseException:
        for task in fetching.values():
            task.cancel()
        await asyncio.gather(*fetching.values(), return_exceptions=True)
        raise
    return [fetching[dest].result() for _, dest in files]
