"""Uploaded shot audio: typed by content, decoded by the real ffmpeg to WAV with its duration,
and the staged object removed whatever happens."""

from __future__ import annotations

import io
import math
import struct
import subprocess
import wave
from pathlib import Path

import imageio_ffmpeg
import pytest

from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed
from storyreel_core.scratch import ScratchSpace
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_storyboard.audio_upload import decode_audio, sniff_audio, take_staged_audio

OWNER = "user_a"


def tone_wav(seconds: float, rate: int = 16000, channels: int = 2) -> bytes:
    frames = b"".join(
        struct.pack("<h", int(6000 * math.sin(2 * math.pi * 220 * i / rate))) * channels
        for i in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(frames)
    return out.getvalue()


def encoded(tmp: Path, suffix: str, codec: str, seconds: float) -> Path:
    target = tmp / f"tone.{suffix}"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi",
            "-i", f"sine=frequency=300:duration={seconds}", "-c:a", codec, "-y", str(target),
        ],
        check=True,
    )  # fmt: skip
    return target


def test_sniffing_knows_the_four_formats_and_nothing_else() -> None:
    assert sniff_audio(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "wav"
    assert sniff_audio(b"ID3\x04\x00") == "mp3"
    assert sniff_audio(b"\xff\xfb\x90\x64") == "mp3"
    assert sniff_audio(b"OggS\x00\x02") == "ogg"
    assert sniff_audio(b"\x00\x00\x00\x20ftypM4A \x00\x00") == "m4a"
    for other in (b"\x89PNG\r\n\x1a\n", b"\x00\x00\x00\x20ftypisom", b"hello", b"fLaC", b""):
        assert sniff_audio(other) is None


@pytest.mark.parametrize(
    ("suffix", "codec", "name"),
    [("mp3", "libmp3lame", "mp3"), ("ogg", "libvorbis", "ogg"), ("m4a", "aac", "m4a")],
)
async def test_compressed_audio_is_decoded_to_mono_wav_with_its_duration(
    tmp_path: Path, suffix: str, codec: str, name: str
) -> None:
    source = encoded(tmp_path, suffix, codec, 1.2)
    decoded = await decode_audio(source, tmp_path / "out.wav", filename=f"voice.{suffix}")
    assert decoded.source_format == name
    assert decoded.duration == pytest.approx(1.2, abs=0.08)
    with wave.open(str(decoded.wav), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth()) == (1, 2)


async def test_a_stereo_wav_keeps_its_exact_length(tmp_path: Path) -> None:
    source = tmp_path / "in.wav"
    source.write_bytes(tone_wav(0.75))
    decoded = await decode_audio(source, tmp_path / "out.wav", filename="")
    assert decoded.duration == pytest.approx(0.75, abs=0.001) and decoded.sample_rate == 16000


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"", "a.wav"),
        (b"just some text", "a.wav"),
        (b"ID3" + b"\x00" * 64, "a.mp3"),  # a tag, then nothing that decodes
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 64, "a.wav"),  # a header without audio
        (tone_wav(0.1), "photo.png"),  # real audio under an image's name
    ],
)
async def test_anything_else_is_unsupported(tmp_path: Path, data: bytes, name: str) -> None:
    source = tmp_path / "in"
    source.write_bytes(data)
    with pytest.raises(AppError) as err:
        await decode_audio(source, tmp_path / "out.wav", filename=name)
    assert err.value.code == Code.UNSUPPORTED_FILE


async def test_the_staged_object_is_removed_whatever_happens(tmp_path: Path) -> None:
    objects = FolderObjectStore(tmp_path / "media")
    staged = f"staging/{OWNER}/upload_1"

    async def fine() -> None:
        return None

    await objects.put_bytes(staged, tone_wav(0.5), "application/octet-stream")
    scratch = ScratchSpace(tmp_path / "data", "storyboard")
    async with take_staged_audio(
        objects, staged, OWNER, filename="a.wav", max_bytes=10**6, before=fine, scratch=scratch
    ) as audio:
        assert audio.duration == pytest.approx(0.5, abs=0.001) and audio.wav.exists()
        assert audio.wav.parent.parent == scratch.root  # under the data dir, not /tmp
    assert await objects.stat(staged) is None
    assert list(scratch.root.iterdir()) == []

    await objects.put_bytes(staged, tone_wav(0.5), "application/octet-stream")
    with pytest.raises(AppError) as err:
        async with take_staged_audio(
            objects, staged, OWNER, filename="a.wav", max_bytes=100, before=fine
        ):
            pass
    assert err.value.code == Code.FILE_TOO_LARGE
    assert await objects.stat(staged) is None

    async def not_yours() -> None:
        raise NotFound("storyboard sb_x not found")

    await objects.put_bytes(staged, b"not audio", "application/octet-stream")
    with pytest.raises(NotFound):  # ownership is checked before the content
        async with take_staged_audio(
            objects, staged, OWNER, filename="a.wav", max_bytes=10**6, before=not_yours
        ):
            pass
    assert await objects.stat(staged) is None

    with pytest.raises(ValidationFailed):
        async with take_staged_audio(
            objects, "staging/user_b/upload_1", OWNER, filename="", max_bytes=10, before=fine
        ):
            pass
