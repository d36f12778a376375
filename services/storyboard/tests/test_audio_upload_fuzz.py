"""Fuzz the uploaded-voice converter over what recorders and editors write: sample rates from
8 to 192 kHz, 8/16/24/32-bit integer and 32/64-bit float PCM, mono to 5.1, in WAV (ffmpeg
writes WAVE_FORMAT_EXTENSIBLE above 48 kHz, two channels or 16 bits), M4A, OGG and MP3, plus
truncated files. Every input is made by the real ffmpeg (imageio-ffmpeg's binary) and must
decode to a WAV of the right length, or be refused with a clear 4xx `AppError`; nothing else
may escape (that would be a 500 at the gateway)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import imageio_ffmpeg
import pytest
import soundfile

from storyreel_core.errors import AppError
from storyreel_storyboard.audio_upload import decode_audio

SECONDS = 0.4
RATES = (8000, 11025, 16000, 22050, 44100, 48000, 88200, 96000, 176400, 192000)
WAV_CODECS = ("pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le")
LAYOUTS = ("mono", "stereo", "5.1")
# (container suffix, codec, rates it supports): compressed formats at their usual and high rates.
COMPRESSED = (
    ("m4a", "aac", (22050, 44100, 88200, 96000)),
    ("ogg", "libvorbis", (8000, 48000, 96000)),
    ("mp3", "libmp3lame", (8000, 44100, 48000)),
)


def make_audio(target: Path, *, rate: int, codec: str, layout: str) -> Path:
    """A sine at `rate` Hz sampling, in `codec`, with `layout` channels, `SECONDS` long."""
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error",
            "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate={rate}:duration={SECONDS}",
            "-af", f"aformat=channel_layouts={layout}", "-c:a", codec, "-y", str(target),
        ],
        check=True,
    )  # fmt: skip
    return target


def cases() -> list[tuple[str, int, str, str]]:
    """Every WAV codec at every rate (layouts rotating), and each compressed format."""
    out = [
        ("wav", rate, codec, LAYOUTS[(i + j) % len(LAYOUTS)])
        for i, codec in enumerate(WAV_CODECS)
        for j, rate in enumerate(RATES)
    ]
    out += [
        (suffix, rate, codec, LAYOUTS[k % 2])
        for suffix, codec, rates in COMPRESSED
        for k, rate in enumerate(rates)
    ]
    return out


@pytest.mark.parametrize(("suffix", "rate", "codec", "layout"), cases())
async def test_every_rate_width_and_layout_decodes_to_a_wav_of_the_right_length(
    tmp_path: Path, suffix: str, rate: int, codec: str, layout: str
) -> None:
    source = make_audio(tmp_path / f"in.{suffix}", rate=rate, codec=codec, layout=layout)
    decoded = await decode_audio(source, tmp_path / "out.wav", filename=f"voice.{suffix}")
    # Compressed codecs pad a frame or two at the ends (AAC's priming, MP3's frames).
    assert decoded.duration == pytest.approx(SECONDS, abs=0.001 if suffix == "wav" else 0.08)
    assert decoded.sample_rate == rate
    info = soundfile.info(str(decoded.wav))
    assert (info.channels, info.samplerate, info.subtype) == (1, rate, "PCM_16")


@pytest.mark.parametrize("keep", [12, 44, 60, 100, 1000, 5000])
@pytest.mark.parametrize(("rate", "codec"), [(96000, "pcm_s24le"), (44100, "pcm_s16le")])
async def test_a_truncated_wav_decodes_what_is_there_or_is_refused_with_a_4xx(
    tmp_path: Path, keep: int, rate: int, codec: str
) -> None:
    whole = make_audio(tmp_path / "whole.wav", rate=rate, codec=codec, layout="stereo")
    cut = tmp_path / "cut.wav"
    cut.write_bytes(whole.read_bytes()[:keep])
    try:
        decoded = await decode_audio(cut, tmp_path / "out.wav", filename="cut.wav")
    except AppError as exc:
        assert 400 <= exc.http_status < 500, exc
        return
    assert 0 < decoded.duration <= SECONDS + 0.001
