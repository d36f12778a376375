"""An uploaded voice for a shot: checked by content, decoded, kept as a WAV with its duration.

The gateway streams the file to `staging/<user>/<upload id>` (size-checked) and passes the
key. Here the staged object is downloaded and judged by its magic bytes (WAV, MP3, OGG, M4A;
the name never decides), then decoded by ffmpeg (imageio-ffmpeg's binary, or
`STORYREEL_FFMPEG`) to 16-bit mono PCM WAV: that proves it really is audio, measures its exact
duration from the samples, and gives every later stage the one format the platform's shot
audio has. Anything else is 415 (code 3002), an object over the limit 413 (3003). The staging
object is deleted on the way out in every case, so a refused upload leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import tempfile
import wave
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import imageio_ffmpeg

from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed
from storyreel_core.logging import get_logger
from storyreel_core.stores.object_store import ObjectStore, check_key

log = get_logger("storyreel.storyboard.audio_upload")

HEAD_BYTES = 16
MAX_AUDIO_SECONDS = 600.0
DECODE_TIMEOUT_S = 120.0
# Extensions that claim something other than audio: a disguised file is refused.
_NOT_AUDIO = frozenset(
    ("png", "jpg", "jpeg", "gif", "webp", "bmp", "tif", "tiff", "mp4", "m4v", "mov", "webm",
     "mkv", "avi", "pdf", "txt", "md", "json")
)  # fmt: skip


def unsupported(reason: str) -> AppError:
    return AppError(
        f"unsupported file: {reason}", code=Code.UNSUPPORTED_FILE, field="file", reason=reason
    )


def too_large(reason: str) -> AppError:
    return AppError(
        f"file too large: {reason}", code=Code.FILE_TOO_LARGE, field="file", reason=reason
    )


def _mp3_frame(head: bytes) -> bool:
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    rate = (head[2] >> 2) & 0b11
    return version != 0b01 and layer != 0 and bitrate not in (0, 0xF) and rate != 0b11


def sniff_audio(head: bytes) -> str | None:
    """The audio format the first bytes announce ("wav", "mp3", "ogg", "m4a"), else None."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head.startswith(b"ID3") or _mp3_frame(head):
        return "mp3"
    if head.startswith(b"OggS"):
        return "ogg"
    if head[4:8] == b"ftyp" and head[8:12] in (b"M4A ", b"M4B "):
        return "m4a"
    return None


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
    """Seconds and sample rate of a decoded WAV; (0, 0) when ffmpeg wrote nothing."""
    if not wav_path.exists():
        return 0.0, 0
    with wave.open(str(wav_path), "rb") as wav:
        frames, rate = wav.getnframes(), wav.getframerate()
    return (frames / float(rate) if rate else 0.0), rate


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
    if duration <= 0:
        raise unsupported(f"the {found} file holds no audio")
    if duration > MAX_AUDIO_SECONDS:
        raise ValidationFailed(
            f"a shot's audio is at most {MAX_AUDIO_SECONDS:g} seconds long", field="file"
        )
    return DecodedAudio(target, found, round(duration, 3), rate)


def staging_prefix(owner_id: str) -> str:
    return f"staging/{owner_id}/"


@contextlib.asynccontextmanager
async def take_staged_audio(
    objects: ObjectStore,
    staging_key: str,
    owner_id: str,
    *,
    filename: str,
    max_bytes: int,
    before: Callable[[], Awaitable[object]],
) -> AsyncIterator[DecodedAudio]:
    """Yield the decoded WAV of a staged upload; the staging object is always removed.

    `before` (the ownership checks) runs first, so another user's id answers 404 whatever the
    file holds.
    """
    if not staging_key.startswith(staging_prefix(owner_id)):
        raise ValidationFailed("staging_key is not one of the caller's uploads", field="file")
    check_key(staging_key)
    workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="storyreel-audio-"))
    try:
        await before()
        info = await objects.stat(staging_key)
        if info is None:
            raise NotFound("the uploaded file is gone", field="file")
        if info.size > max_bytes:
            raise too_large(f"{info.size} bytes is over the limit of {max_bytes} bytes")
        local = await objects.download(staging_key, workdir / "upload")
        yield await decode_audio(local, workdir / "audio.wav", filename=filename)
    finally:
        try:
            await objects.delete(staging_key)
        except Exception as exc:  # the gateway deletes it as well; log, do not mask the result
            log.warning("upload.staging_delete_failed", key=staging_key, error=str(exc))
        await asyncio.to_thread(shutil.rmtree, workdir, True)
