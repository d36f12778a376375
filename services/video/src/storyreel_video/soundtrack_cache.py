"""The final cut's soundtrack, mixed and encoded to AAC once per content and kept beside the
cut's segments, so a render after an edit that leaves the sound alone (a new shot image, a
camera move, a subtitle style) mixes and encodes nothing and the stitch copies both streams.

The key is a SHA-256 of everything that decides the samples: each voice file by content with
its place and length on the timeline, the cut's length, the music bed (by content) and its
level and fades, the mix's version, the AAC settings and the encoder build.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from storyreel_core.stores.object_store import ObjectStore
from storyreel_video.audio_mix import (
    AAC_ARGS,
    MIX_VERSION,
    MusicBed,
    VoicePlacement,
    write_soundtrack,
)
from storyreel_video.ffmpeg_runner import run_ffmpeg
from storyreel_video.segment_job import file_sha256


async def soundtrack_key(
    voices: Sequence[VoicePlacement],
    total: float,
    *,
    music: bool,
    bed: MusicBed | None,
    prefix: str,
    encoder: str,
) -> str:
    """The object key of this soundtrack under `prefix` (ends with "/"): voices and the bed
    by content (their files are hashed), times in seconds rounded to the sample."""
    hashes = await asyncio.gather(*(asyncio.to_thread(file_sha256, Path(v.path)) for v in voices))
    material: dict[str, object] = {
        "voices": [
            [digest, round(v.start * 48_000), round(v.limit * 48_000)]
            for v, digest in zip(voices, hashes, strict=True)
        ],
        "total": round(total * 48_000),
        "music": music,
        "mix": MIX_VERSION,
        "aac": AAC_ARGS,
        "encoder": encoder,
    }
    if music and bed is not None:
        material["bed"] = {
            "file": await asyncio.to_thread(file_sha256, bed.path) if bed.path else None,
            "volume": bed.volume,
            "fade_in": bed.fade_in,
            "fade_out": bed.fade_out,
        }
    digest = hashlib.sha256(
        json.dumps(material, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return f"{prefix}soundtrack-{digest}.m4a"


async def cached_soundtrack(
    objects: ObjectStore,
    voices: Sequence[VoicePlacement],
    total: float,
    *,
    music: bool,
    bed: MusicBed | None,
    prefix: str,
    encoder: str,
    workdir: Path,
    ffmpeg: str | None = None,
) -> tuple[Path, bool]:
    """The cut's soundtrack as a local AAC file (`workdir/soundtrack.m4a`) and whether it was
    reused from `objects` (False: mixed, encoded and stored now). Raises `RenderFailed`."""
    key = await soundtrack_key(voices, total, music=music, bed=bed, prefix=prefix, encoder=encoder)
    local = workdir / "soundtrack.m4a"
    if await objects.stat(key) is not None:
        return await objects.download(key, local), True
    wav = await write_soundtrack(
        voices, total, workdir / "soundtrack.wav", music=music, workdir=workdir, ffmpeg=ffmpeg,
        bed=bed,
    )  # fmt: skip
    await run_ffmpeg(
        ["-i", str(wav), "-vn", *AAC_ARGS, "-f", "mp4", "-y", str(local)], ffmpeg=ffmpeg
    )
    await objects.put_file(key, local, "audio/mp4")
    return local, False
