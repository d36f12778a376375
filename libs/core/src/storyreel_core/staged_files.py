"""Uploads the gateway staged in the object store, and what their bytes say they are.

The gateway streams a request body to a temporary file with a running size check and puts it
under `staging/<user id>/<upload id>`; only that key travels over gRPC. A service takes the
staged object with `staged_copy` (ownership checks first, the size limit, a local copy) and
judges it by its first bytes with `sniff`, never by its name. The staging object is deleted on
the way out in every case, so a refused upload leaves nothing behind. Shared by the asset
service (images, video, audio, documents) and the storyboard service (a shot's voice). Whoever
stages an object for a service (the gateway's uploads, a job handing over a stored file) does it
with `staged_object`, which deletes it too, even when the call never happens.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Literal

from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed
from storyreel_core.ids import new_id
from storyreel_core.logging import get_logger
from storyreel_core.scratch import ScratchSpace
from storyreel_core.stores.object_store import ObjectStore, check_key

log = get_logger("storyreel.uploads")

MediaType = Literal["image", "video", "audio", "document"]
HEAD_BYTES = 64

_VIDEO_BRANDS = {
    b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"dash", b"M4V ",
    b"M4VH", b"M4VP", b"mmp4", b"3gp4", b"3gp5", b"3gp6", b"3g2a", b"f4v ",
}  # fmt: skip
_AUDIO_BRANDS = {b"M4A ", b"M4B "}


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


def _ftyp(head: bytes) -> tuple[MediaType, str] | None:
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    brand = head[8:12]
    if brand == b"qt  ":
        return "video", "video/quicktime"
    if brand in _AUDIO_BRANDS:
        return "audio", "audio/mp4"
    if brand in _VIDEO_BRANDS:
        return "video", "video/mp4"
    return None


def sniff(head: bytes) -> tuple[MediaType, str] | None:
    """The binary type the first bytes announce, or None (maybe text; see `check_file`)."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image", "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "audio/wav"
    found = _ftyp(head)
    if found is not None:
        return found
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:HEAD_BYTES]:
        return "video", "video/webm"
    if head.startswith(b"ID3") or _mp3_frame(head):
        return "audio", "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio", "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio", "audio/flac"
    if head.startswith(b"%PDF-"):
        return "document", "application/pdf"
    return None


def staging_prefix(owner_id: str) -> str:
    return f"staging/{owner_id}/"


@contextlib.asynccontextmanager
async def staged_object(
    objects: ObjectStore, owner_id: str, source: bytes | Path, content_type: str
) -> AsyncIterator[str]:
    """Put `source` (bytes, or a local file) under a new staging key of `owner_id`, yield the
    key for one service call, and delete the object afterwards, whatever happened.

    The service that takes the object deletes it too (`staged_copy`); deleting here as well
    covers a caller that fails or is cancelled before the service took it (a cancelled job, a
    client gone). The store writes in a thread a cancel cannot stop, so a cancel during the
    put waits for the write before deleting: no staging object outlives the block.
    """
    key = f"{staging_prefix(owner_id)}{new_id('upload')}"
    if isinstance(source, bytes):
        put = asyncio.ensure_future(objects.put_bytes(key, source, content_type))
    else:
        put = asyncio.ensure_future(objects.put_file(key, source, content_type))
    try:
        await asyncio.shield(put)
        yield key
    finally:
        with contextlib.suppress(BaseException):
            await put  # finished unless this block was cancelled while it wrote
        try:
            await objects.delete(key)
        except Exception as exc:
            log.warning("upload.staging_delete_failed", key=key, error=str(exc))


@contextlib.asynccontextmanager
async def staged_copy(
    objects: ObjectStore,
    staging_key: str,
    owner_id: str,
    *,
    max_bytes: int,
    before: Callable[[], Awaitable[object]] | None = None,
    scratch: ScratchSpace | None = None,
) -> AsyncIterator[Path]:
    """Yield a local copy of the caller's staged upload; the staging object is always removed.

    The copy lives in a folder of the service's `scratch` space (cleared when the service
    starts, so a SIGKILL leaves nothing for good); without one, in the system temp dir.

    `before` (the ownership checks) runs first, so another user's id answers 404 whatever the
    file holds, and the staged object is removed then too.
    """
    if not staging_key.startswith(staging_prefix(owner_id)):
        raise ValidationFailed("staging_key is not one of the caller's uploads", field="file")
    check_key(staging_key)
    if scratch is not None:
        workdir = scratch.path_for(f"upload-{secrets.token_hex(8)}")
        await asyncio.to_thread(workdir.mkdir, parents=True)
    else:
        workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="storyreel-upload-"))
    try:
        if before is not None:
            await before()
        info = await objects.stat(staging_key)
        if info is None:
            raise NotFound("the uploaded file is gone", field="file")
        if info.size > max_bytes:
            raise too_large(f"{info.size} bytes is over the limit of {max_bytes} bytes")
        yield await objects.download(staging_key, workdir / "upload")
    finally:
        try:
            await objects.delete(staging_key)
        except Exception as exc:  # the gateway deletes it as well; log, do not mask the result
            log.warning("upload.staging_delete_failed", key=staging_key, error=str(exc))
        await asyncio.to_thread(shutil.rmtree, workdir, True)
