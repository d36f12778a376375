"""Uploads are classified by content: every supported type, renamed files, bombs, limits."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from storyreel_asset.upload_check import check_file, header_size
from storyreel_core.errors import AppError, Code

LIMIT = 1 << 20
PAD = b"\x00" * 64


def image_bytes(fmt: str, size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 90)).save(out, format=fmt)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims a huge size, with one tiny compressed row: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 + 3 * 16))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


SAMPLES: dict[str, tuple[bytes, str, str]] = {
    "png": (image_bytes("PNG"), "image", "image/png"),
    "jpeg": (image_bytes("JPEG"), "image", "image/jpeg"),
    "webp": (image_bytes("WEBP"), "image", "image/webp"),
    "gif": (image_bytes("GIF"), "image", "image/gif"),
    "mp4": (b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + PAD, "video", "video/mp4"),
    "mov": (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + PAD, "video", "video/quicktime"),
    "webm": (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + PAD, "video", "video/webm"),
    "wav": (b"RIFF\x24\x00\x00\x00WAVEfmt " + PAD, "audio", "audio/wav"),
    "mp3-id3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + PAD, "audio", "audio/mpeg"),
    "mp3-frame": (b"\xff\xfb\x90\x64" + PAD, "audio", "audio/mpeg"),
    "ogg": (b"OggS\x00\x02" + PAD, "audio", "audio/ogg"),
    "flac": (b"fLaC\x00\x00\x00\x22" + PAD, "audio", "audio/flac"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "document", "application/pdf"),
    "text": ("一位独行武者穿越废土城市。\nA lone warrior.\n".encode(), "document", "text/plain"),
}


def write(tmp_path: Path, data: bytes, name: str = "upload.bin") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("sample", sorted(SAMPLES))
def test_every_supported_type_is_recognised_by_content(tmp_path: Path, sample: str) -> None:
    data, media_type, content_type = SAMPLES[sample]
    # The content decides; a name without a known extension changes nothing.
    checked = check_file(write(tmp_path, data), filename="upload.bin", max_bytes=LIMIT)
    assert (checked.media_type, checked.content_type) == (media_type, content_type)
    assert checked.size == len(data)
    if media_type == "image":
        assert (checked.width, checked.height) == (40, 30)


def test_markdown_is_text_named_md(tmp_path: Path) -> None:
    path = write(tmp_path, b"# Title\n\nBody\n", "notes.md")
    checked = check_file(path, filename="notes.md", max_bytes=LIMIT)
    assert checked.content_type == "text/markdown" and checked.extension == "md"


def expect(code: Code, path: Path, **kw: object) -> AppError:
    with pytest.raises(AppError) as caught:
        check_file(path, max_bytes=kw.pop("max_bytes", LIMIT), **kw)  # type: ignore[arg-type]
    assert caught.value.code == code, caught.value.message
    return caught.value


def test_a_renamed_png_that_is_text_is_not_an_image(tmp_path: Path) -> None:
    path = write(tmp_path, b"just some words, not pixels\n", "photo.png")
    error = expect(Code.UNSUPPORTED_FILE, path, filename="photo.png")
    assert "text/plain" in error.reason
    error = expect(Code.UNSUPPORTED_FILE, path, filename="photo.png", allowed=frozenset({"image"}))
    # An image named as audio is refused the same way; an unknown extension is fine.
    path = write(tmp_path, SAMPLES["png"][0])
    expect(Code.UNSUPPORTED_FILE, path, filename="song.mp3")
    assert check_file(path, filename="scan.jpg", max_bytes=LIMIT).content_type == "image/png"
    assert check_file(path, filename="blob.data", max_bytes=LIMIT).media_type == "image"


def test_unknown_binary_is_refused(tmp_path: Path) -> None:
    expect(Code.UNSUPPORTED_FILE, write(tmp_path, b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\xff\xff"))
    expect(Code.UNSUPPORTED_FILE, write(tmp_path, b"\xc3\x28 invalid utf-8"))
    expect(Code.UNSUPPORTED_FILE, write(tmp_path, b"text with a \x00 nul byte"))
    expect(Code.UNSUPPORTED_FILE, write(tmp_path, b""))
    # A matroska (not WebM), a HEIC and a truncated PNG
    expect(Code.UNSUPPORTED_FILE, write(tmp_path, b"\x1a\x45\xdf\xa3\x9f\x42\x86matroska"))
    expect(Code.UNSUPPORTED_FILE, write(tmp_path, b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00"))
    expect(Code.UNSUPPORTED_FILE, write(tmp_path, image_bytes("PNG")[:40]))


def test_content_must_match_the_allowed_types(tmp_path: Path) -> None:
    path = write(tmp_path, SAMPLES["wav"][0])
    expect(Code.UNSUPPORTED_FILE, path, allowed=frozenset({"image"}))
    assert check_file(path, max_bytes=LIMIT, allowed=frozenset({"audio"})).media_type == "audio"


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = write(tmp_path, png_header_only(50_000, 50_000), "bomb.png")
    error = expect(Code.FILE_TOO_LARGE, path)
    assert "megapixels" in error.reason
    # Just over the explicit limit, well under Pillow's own guard: still refused, by ours.
    path = write(tmp_path, png_header_only(8000, 5001), "big.png")
    assert "8000x5001" in expect(Code.FILE_TOO_LARGE, path).reason


def test_pixel_limit_is_explicit(tmp_path: Path) -> None:
    path = write(tmp_path, image_bytes("PNG", (200, 200)))
    expect(Code.FILE_TOO_LARGE, path, max_pixels=39_999)
    assert check_file(path, max_bytes=LIMIT, max_pixels=40_000).width == 200


def test_size_limit(tmp_path: Path) -> None:
    path = write(tmp_path, b"a" * 101)
    expect(Code.FILE_TOO_LARGE, path, max_bytes=100)
    assert check_file(path, max_bytes=101).size == 101


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP", "GIF"])
def test_header_size_matches_pillow(tmp_path: Path, fmt: str) -> None:
    data, _media, content_type = SAMPLES[fmt.lower()]
    assert header_size(write(tmp_path, data), content_type) == (40, 30)
    lossless = io.BytesIO()
    Image.new("RGB", (33, 17)).save(lossless, format="WEBP", lossless=True)
    assert header_size(write(tmp_path, lossless.getvalue()), "image/webp") == (33, 17)


def test_bombs_are_refused_from_the_header_alone(tmp_path: Path) -> None:
    # Only a signature and an IHDR: Pillow could not even open it, the header check still can.
    bare = png_header_only(50_000, 50_000)[:33]
    assert "50000x50000" in expect(Code.FILE_TOO_LARGE, write(tmp_path, bare)).reason
    jpeg = bytearray(image_bytes("JPEG"))
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 5 : sof + 9] = (40_000).to_bytes(2, "big") + (40_000).to_bytes(2, "big")
    assert "40000x40000" in expect(Code.FILE_TOO_LARGE, write(tmp_path, bytes(jpeg))).reason
    gif = bytearray(image_bytes("GIF"))
    gif[6:10] = (65_000).to_bytes(2, "little") * 2
    assert "65000x65000" in expect(Code.FILE_TOO_LARGE, write(tmp_path, bytes(gif))).reason
