"""From storyboard shots to local `ClipSpec`s, and from saved videos to task results.

Shared by the clips and final-cut jobs: how long each shot plays, which lines it shows, fetching
its still and speech, and the result entry of a saved video.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import soundfile

from storyreel_core.drama_models import CameraMovement
from storyreel_core.stores.object_store import ObjectStore
from storyreel_video.downloads import download_all
from storyreel_video.specs import ClipSpec
from storyreel_video.video_models import SPEECH_TAIL, CutShot, ShotRef

MIN_SECONDS, MAX_SECONDS = 0.5, 120.0


def cut_shot(
    shot: ShotRef,
    *,
    fallback: float | None,
    keep_planned: bool,
    movement: CameraMovement | None = None,
) -> CutShot:
    """The shot as the composer takes it: timed, moved, with its lines."""
    planned = shot.seconds(fallback=fallback, keep_planned=keep_planned)
    seconds = min(MAX_SECONDS, max(MIN_SECONDS, planned))
    return CutShot(
        shot_id=shot.storyboard_id,
        frame_key=shot.image_key,
        audio_key=shot.audio_key or None,
        duration=seconds,
        camera_movement=movement or shot.camera_movement,
        segments=shot.subtitle_segments(seconds),
        figures=shot.figures,
    )


async def fetch_clips(
    objects: ObjectStore, shots: Sequence[CutShot], scratch: Path
) -> list[ClipSpec]:
    """Download each shot's still (and speech) into `scratch`, several at a time
    (`downloads.download_all`; a shot shown twice is fetched once): ffmpeg reads local files
    only. The clips come back in the order of `shots`."""
    await asyncio.to_thread(scratch.mkdir, parents=True, exist_ok=True)
    stills = {shot.shot_id: scratch / f"{shot.shot_id}.png" for shot in shots}
    speech = {s.shot_id: (s.audio_key, scratch / f"{s.shot_id}.wav") for s in shots if s.audio_key}
    await download_all(
        objects,
        [(shot.frame_key, stills[shot.shot_id]) for shot in shots] + list(speech.values()),
    )
    return [
        ClipSpec(
            image_path=stills[shot.shot_id],
            duration=shot.duration,
            camera_movement=shot.camera_movement,
            audio_path=speech[shot.shot_id][1] if shot.shot_id in speech else None,
            segments=shot.segments,
            figures=tuple(shot.figures),
        )
        for shot in shots
    ]


def wav_seconds(path: Path) -> float | None:
    """The length of a WAV (any layout libsndfile reads), or None when it is something else."""
    try:
        info = soundfile.info(str(path))
        return float(info.frames) / float(info.samplerate)
    except (soundfile.SoundFileError, RuntimeError, OSError, ZeroDivisionError):
        return None


async def fetch_shot_clips(
    objects: ObjectStore,
    shots: Sequence[ShotRef],
    cuts: Sequence[CutShot],
    scratch: Path,
) -> list[ClipSpec]:
    """Download the media of `cuts` into `scratch`. A shot whose audio length the storyboard
    did not record is measured from the file, so the speech is never cut short."""
    clips = await fetch_clips(objects, cuts, scratch)
    out: list[ClipSpec] = []
    for shot, clip in zip(shots, clips, strict=True):
        if clip.audio_path is not None and shot.audio_duration <= 0:
            measured = wav_seconds(clip.audio_path)
            if measured:
                seconds = min(MAX_SECONDS, max(clip.duration, measured + SPEECH_TAIL))
                clip = dataclasses.replace(clip, duration=round(seconds, 3))
        out.append(clip)
    return out


def video_result(doc: dict[str, Any]) -> dict[str, Any]:
    """A saved video as a task result lists it (the gateway signs each `*_key` into a URL)."""
    out: dict[str, Any] = {
        "id": doc["_id"],
        "kind": doc["kind"],
        "duration": doc["duration"],
        "file_size": doc["file_size"],
        "width": doc["width"],
        "height": doc["height"],
        "fps": doc["fps"],
    }
    if doc.get("storyboard_id"):
        out["storyboard_id"] = doc["storyboard_id"]
    for field in ("key", "thumbnail_key", "subtitle_key", "ass_key"):
        if doc.get(field):
            out[field] = doc[field]
    return out
