"""Shots that play a video the user uploaded (a storyboard's `video_asset_id`).

The upload may be of any container, codec, size, rate and length ffmpeg reads. It is
downloaded and conformed exactly like a video model's clip (`model_motion.conform_clip`:
cover-scaled and centre-cropped to the cut, resampled to its fps, its last frame held when it
is shorter than the shot and cut when longer), then stored under its SHA-256, so it enters the
shot's segment cache key: choosing another upload re-encodes only that shot's segment.

An upload takes precedence over a video model and over camera motion; the shot keeps its
duration, speech and subtitles. A shot whose upload cannot be used (the object is gone, ffmpeg
cannot read it) keeps camera motion over its still and is listed in `Motion.fell_back`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from storyreel_core.errors import AppError
from storyreel_core.logging import get_logger
from storyreel_core.stores.object_store import ObjectStore
from storyreel_video.errors import RenderFailed
from storyreel_video.model_motion import (
    CONFORM_PARALLEL,
    Motion,
    MotionOutcome,
    conform_clip,
    store_clip,
)
from storyreel_video.specs import ClipSpec

log = get_logger("storyreel.video.uploads")


async def play_uploads(
    objects: ObjectStore,
    clips: Sequence[ClipSpec],
    video_keys: Sequence[str],
    shot_ids: Sequence[str],
    *,
    width: int,
    height: int,
    fps: int,
    scratch: Path,
    store_prefix: str,
    ffmpeg: str | None = None,
) -> Motion:
    """Shot i plays the upload at object key `video_keys[i]` ("" = none): conformed to
    width×height at `fps` for `clips[i].duration` seconds and stored under `store_prefix`.

    Answers `Motion` with `keys[i]` = (object key, SHA-256) of the conformed clip, None for
    shots without a usable upload. Never raises for one shot's failure (module doc)."""
    out = list(clips)
    keys: list[tuple[str, str] | None] = [None] * len(clips)
    fell_back: list[dict[str, Any]] = []
    wanted = [i for i, key in enumerate(video_keys) if key]
    if not wanted:
        return Motion(clips=out, keys=keys)
    await asyncio.to_thread(scratch.mkdir, parents=True, exist_ok=True)
    conforming = asyncio.Semaphore(CONFORM_PARALLEL)

    async def one(i: int) -> None:
        clip = clips[i]
        try:
            source = await objects.download(video_keys[i], scratch / f"{i:04d}.upload")
            local = scratch / f"{i:04d}.mp4"
            async with conforming:
                await conform_clip(
                    source, local, width=width, height=height, fps=fps, duration=clip.duration,
                    ffmpeg=ffmpeg,
                )  # fmt: skip
            keys[i] = await store_clip(objects, local, store_prefix)
        except (AppError, RenderFailed, OSError) as exc:
            reason = str(exc)[:300]
            log.warning("video.upload.fell_back", shot_id=shot_ids[i], error=reason)
            fell_back.append({"shot_id": shot_ids[i], "reason": reason})
        else:
            out[i] = dataclasses.replace(clip, video_path=local)

    await asyncio.gather(*(one(i) for i in wanted))
    order = {shot_id: n for n, shot_id in enumerate(shot_ids)}
    fell_back.sort(key=lambda f: order.get(f["shot_id"], 0))
    log.info("video.upload.done", shots=len(wanted), fell_back=len(fell_back))
    return Motion(clips=out, keys=keys, fell_back=fell_back)


def uploads_result(uploads: Motion) -> dict[str, Any]:
    """The `uploads` entry of a task result: how many shots play their upload, and those
    that fell back to camera motion with why; empty when no shot named an upload."""
    used = sum(1 for k in uploads.keys if k is not None)
    if not used and not uploads.fell_back:
        return {}
    return {"uploads": {"clips": used, "fell_back": uploads.fell_back}}


def without_uploads(uploads: Motion) -> list[int]:
    """The shots left for a video model or camera motion: those not playing an upload."""
    return [i for i, key in enumerate(uploads.keys) if key is None]


def merged(
    uploads: Motion, rest: Sequence[int], moved: MotionOutcome
) -> tuple[list[ClipSpec], list[tuple[str, str] | None]]:
    """Every shot's clip and stored motion: the uploads', and for shot `rest[j]` the video
    model's answer `moved.clips[j]` / `moved.keys[j]` (no keys: camera motion)."""
    clips = list(uploads.clips)
    keys = list(uploads.keys)
    for j, i in enumerate(rest):
        clips[i] = moved.clips[j]
        keys[i] = moved.keys[j] if moved.keys else None
    return clips, keys
