"""An uploaded voice for a shot: checked by content, decoded, kept as a WAV with its duration.

The staged upload is copied here (`storyreel_core.staged_files.staged_copy`, which always
removes the staging object) and judged by its magic bytes (WAV, MP3, OGG, M4A; the name never
decides), then decoded by ffmpeg (imageio-ffmpeg's binary, or `STORYREEL_FFMPEG`) to 16-bit
mono PCM WAV: that proves it really is audio, measures its exact duration from the samples,
and gives every later stage the one format the platform's shot audio has. Anything else is
415 (code 3002), an object over the limit 413 (3003).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg
import soundfile

from storyreel_core.errors import ValidationFailed
from storyreel_core.logging import get_logger
from storyreel_core.scratch import ScratchSpace
from storyreel_core.staged_files import HEAD_BYTES, sniff, staged_copy, unsupported
from storyreel_core.stores.object_store import ObjectStore

log = get_logger("storyreel.storyboard.audio_upload")

MAX_AUDIO_SECONDS = 600.0
DECODE_TIMEOUT_S = 120.0
# Extensions that claim something other than audio: a disguised file is refused.
_NOT_AUDIO = frozenset(
    ("png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff", "mp4", "m4v", "mov", "webm",
     "mkv", "avi", "pdf", "txt", "md", "json")
)  # fmt: skip


# The audio formats a shot's voice may come in, by the content type `sniff` finds.
_FORMATS = {"audio/wav": "wav", "audio/mpeg": "mp3", "audio/ogg": "ogg", "audio/mp4": "m4a"}


def sniff_audio(head: bytes) -> str | None:
    """The audio format the first bytes announce ("wav", "mp3", "ogg", "m4a"), else None."""
    found = sniff(head)
    return _FORMATS.get(found[1]) if found is not None else None


@dataclass(frozen=True)
class DecodedAudio:
    wav: Path
    source_format: str
    duration: float
    sample_rate: int


def ffmpeg_exe() -> str:
    return os.environ.get("STORYREEL_FFMPEG") or imageio_ffmpeg.get_ffmpeg_exe()


async def _ffmpeg(*args: str) -> tuple[int, bytes]:
    proc = await asyncio.create_subprocess_exec(
        ffmpeg_exe(),
        "-nostdin",
        "-hide_banner",
        "-loglevel",
        "error",
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _out, err = await asyncio.wait_for(proc.communicate(), DECODE_TIMEOUT_S)
    except BaseException:  # a timeout or a cancelled job: never leave ffmpeg running
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    return int(proc.returncode or 0), err


def classify(source: Path, filename: str = "") -> str:
    """The upload's audio format by content; 415 for anything else or a disguised name."""
    if source.stat().st_size == 0:
        raise unsupported("the file is empty")
    with source.open("rb") as handle:
        found = sniff_audio(handle.read(HEAD_BYTES))
    if found is None:
        raise unsupported("the content is not WAV, MP3, OGG or M4A audio")
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension in _NOT_AUDIO:
        raise unsupported(f"{filename!r} is named as another kind of file, the content is {found}")
    return found


def _measure(wav_path: Path) -> tuple[float, int]:
    """Seconds and sample rate of a decoded WAV; (0, 0) when ffmpeg wrote nothing readable.

    Read with libsndfile (`soundfile`), not the standard `wave` module: above 48 kHz (and for
    more than two channels or more than 16 bits) ffmpeg writes WAVE_FORMAT_EXTENSIBLE, which
    `wave` refuses."""
    if not wav_path.exists() or wav_path.stat().st_size == 0:
        return 0.0, 0
    try:
        info = soundfile.info(str(wav_path))
    except (soundfile.SoundFileError, RuntimeError):
        return 0.0, 0
    rate = int(info.samplerate)
    return (info.frames / float(rate) if rate else 0.0), rate


async def decode_audio(source: Path, target: Path, *, filename: str = "") -> DecodedAudio:
    """Check `source` by content and decode it to a mono 16-bit WAV at `target`."""
    found = await asyncio.to_thread(classify, source, filename)
    code, err = await _ffmpeg(
        "-i", str(source), "-map", "0:a:0", "-vn", "-t", str(MAX_AUDIO_SECONDS + 0.5),
        "-ac", "1", "-c:a", "pcm_s16le", "-f", "wav", "-y", str(target),
    )  # fmt: skip
    duration, rate = (0.0, 0) if code != 0 else await asyncio.to_thread(_measure, target)
    if code != 0:
        log.info("storyboard.audio.undecodable", format=found, error=err.decode(errors="replace"))
        raise unsupported(f"the {found} audio cannot be decoded")
    if round(duration, 3) <= 0:  # under half a millisecond would be stored as 0 s
        raise unsupported(f"the {found} file holds no audio")
    if duration > MAX_AUDIO_SECONDS:
        raise ValidationFailed(
            f"a shot's audio is at most {MAX_AUDIO_SECONDS:g} seconds long", field="file"
        )
    return DecodedAudio(target, found, round(duration, 3), rate)


@contextlib.asynccontextmanager
async def take_staged_audio(
    objects: ObjectStore,
    staging_key: str,
    owner_id: str,
    *,
    filename: str,
    max_bytes: int,
    before: Callable[[], Awaitable[object]],
    scratch: ScratchSpace | None = None,
) -> AsyncIterator[DecodedAudio]:
    """Yield the decoded WAV of a staged upload (see `staged_copy`)."""
    async with staged_copy(
        objects, staging_key, owner_id, max_bytes=max_bytes, before=before, scratch=scratch
    ) as local:
        yield await decode_audio(local, local.with_name("audio.wav"), filename=filename)
