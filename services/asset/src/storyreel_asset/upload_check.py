"""What an uploaded file really is: decided by its content (magic bytes), never by its name.

Supported:
- image: PNG, JPEG, WebP, GIF — opened with Pillow under an explicit pixel limit, so a header
  that claims 50000×50000 (a decompression bomb) is refused before any pixel is decoded;
- video: MP4 / MOV (an ISO-BMFF `ftyp` box), WebM (EBML with doctype `webm`);
- audio: WAV (`RIFF…WAVE`), MP3 (ID3 tag or an MPEG audio frame sync), OGG, FLAC, M4A;
- document: PDF, UTF-8 text (Markdown when the name says `.md`; the content must be text).

The content decides the type. A name only chooses between `text/plain` and `text/markdown`,
and a name whose extension claims another kind than the content (a `.png` full of text) is
refused as a disguised file; unknown or missing extensions are fine.
"""

from __future__ import annotations

import codecs
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from storyreel_core.errors import AppError
from storyreel_core.staged_files import HEAD_BYTES, MediaType, sniff, too_large, unsupported

MEDIA_TYPES: tuple[MediaType, ...] = ("image", "video", "audio", "document")
DEFAULT_MAX_PIXELS = 40_000_000

_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "audio/wav": "wav",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
    "audio/mp4": "m4a",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "text/markdown": "md",
}
_PILLOW_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "WEBP": "image/webp",
    "GIF": "image/gif",
}
_TEXT_CONTROL_OK = {9, 10, 12, 13}
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
# What a name's extension claims; a claim the content contradicts is refused (a disguised file).
_CLAIMS: dict[str, MediaType] = {
    **{e: "image" for e in ("png", "jpg", "jpeg", "jfif", "webp", "gif", "bmp", "tif", "tiff")},
    **{e: "video" for e in ("mp4", "m4v", "mov", "webm", "mkv", "avi")},
    **{e: "audio" for e in ("wav", "mp3", "ogg", "oga", "opus", "flac", "m4a", "aac")},
    **{e: "document" for e in ("pdf", "txt", "md", "markdown", "text")},
}


@dataclass(frozen=True)
class CheckedFile:
    media_type: MediaType
    content_type: str
    extension: str
    size: int
    width: int = 0
    height: int = 0


def _is_utf8_text(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            if b"\x00" in chunk:
                return False
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
            if any(ord(c) < 32 and ord(c) not in _TEXT_CONTROL_OK for c in text):
                return False
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _jpeg_size(handle: BinaryIO) -> tuple[int, int] | None:
    """Walk the JPEG markers to the first start-of-frame; None if it is not found early."""
    handle.seek(2)
    for _ in range(512):
        marker = handle.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            return None
        kind = marker[1]
        if kind in (0xD8, 0x01) or 0xD0 <= kind <= 0xD7:
            continue
        length = handle.read(2)
        if len(length) < 2:
            return None
        if kind in _JPEG_SOF:
            data = handle.read(5)
            return (int.from_bytes(data[3:5], "big"), int.from_bytes(data[1:3], "big"))
        handle.seek(int.from_bytes(length, "big") - 2, 1)
    return None


def header_size(path: Path, content_type: str) -> tuple[int, int] | None:
    """The pixel size an image's header claims, read without decoding anything."""
    with path.open("rb") as handle:
        if content_type == "image/jpeg":
            return _jpeg_size(handle)
        head = handle.read(32)
    if content_type == "image/png" and head[12:16] == b"IHDR":
        return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if content_type == "image/gif" and len(head) >= 10:
        return int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")
    if content_type == "image/webp" and len(head) >= 30:
        if head[12:16] == b"VP8X":
            return 1 + int.from_bytes(head[24:27], "little"), 1 + int.from_bytes(
                head[27:30], "little"
            )
        if head[12:16] == b"VP8 ":
            return int.from_bytes(head[26:28], "little") & 0x3FFF, int.from_bytes(
                head[28:30], "little"
            ) & 0x3FFF
        if head[12:16] == b"VP8L":
            bits = int.from_bytes(head[21:25], "little")
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _refuse_bomb(width: int, height: int, max_pixels: int) -> None:
    if width * height > max_pixels:
        raise too_large(
            f"image is {width}x{height} pixels, over the limit of "
            f"{max_pixels // 1_000_000} megapixels"
        )


def _check_image(path: Path, content_type: str, size: int, max_pixels: int) -> CheckedFile:
    """Refuse a bomb from the header alone, then let Pillow open and decode it fully."""
    claimed = header_size(path, content_type)
    if claimed is not None:
        _refuse_bomb(*claimed, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                width, height = image.size
                _refuse_bomb(width, height, max_pixels)
                found = _PILLOW_FORMATS.get(image.format or "")
                if found != content_type:
                    raise unsupported(f"the image does not decode as {content_type}")
                image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard fires in open() for sizes far over ours; same answer.
        raise too_large(
            f"image is over the limit of {max_pixels // 1_000_000} megapixels ({exc})"
        ) from exc
    except AppError:
        raise
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise unsupported(f"the image cannot be read: {exc}") from exc
    return CheckedFile("image", found, _EXTENSIONS[found], size, width=width, height=height)


def check_file(
    path: Path,
    *,
    filename: str = "",
    max_bytes: int,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    allowed: frozenset[str] = frozenset(MEDIA_TYPES),
) -> CheckedFile:
    """Classify a local file by content; AppError 3003 when too large, 3002 when unsupported."""
    size = path.stat().st_size
    if size > max_bytes:
        raise too_large(f"{size} bytes is over the limit of {max_bytes} bytes")
    if size == 0:
        raise unsupported("the file is empty")
    with path.open("rb") as handle:
        head = handle.read(HEAD_BYTES)
    found = sniff(head)
    media_type: MediaType
    if found is None:
        if not _is_utf8_text(path):
            raise unsupported("the content is not a supported image, video, audio or document")
        markdown = filename.lower().endswith((".md", ".markdown"))
        media_type, content_type = "document", "text/markdown" if markdown else "text/plain"
    else:
        media_type, content_type = found
    claimed = _CLAIMS.get(filename.rsplit(".", 1)[-1].lower()) if "." in filename else None
    if claimed is not None and claimed != media_type:
        raise unsupported(f"{filename!r} is named as {claimed} but the content is {content_type}")
    if media_type not in allowed:
        raise unsupported(f"the content is {content_type}, expected {' or '.join(sorted(allowed))}")
    if media_type == "image":
        return _check_image(path, content_type, size, max_pixels)
    return CheckedFile(media_type, content_type, _EXTENSIONS[content_type], size)
