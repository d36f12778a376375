"""WAV bytes in and out for speech adapters, with only the standard library.

Vendors answer speech with a WAV or with raw PCM; every `SpeechResult` carries a complete
RIFF/WAVE file and its duration measured from the samples. Streaming servers (OpenAI's
`audio.speech` among them) write 0xFFFFFFFF as the RIFF and data sizes because they do not
know the length when the header leaves; `parse_wav` reads such a file to its real end and
writes the true sizes back, so every later reader (the `wave` module, ffmpeg) agrees.
"""

from __future__ import annotations

import io
import struct
import wave
from dataclasses import dataclass


class WavFormatError(ValueError):
    """The bytes are not a 16-bit PCM RIFF/WAVE file."""


@dataclass(frozen=True)
class PcmAudio:
    """Little-endian signed 16-bit PCM, interleaved when `channels` > 1."""

    frames: bytes
    sample_rate: int
    channels: int = 1

    @property
    def duration_s(self) -> float:
        return len(self.frames) / (2 * self.channels * self.sample_rate)

    def wav(self) -> bytes:
        """A complete RIFF/WAVE file holding these samples."""
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as out:
            out.setnchannels(self.channels)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            out.writeframes(self.frames)
        return buffer.getvalue()


def parse_wav(data: bytes) -> PcmAudio:
    """The samples of a 16-bit PCM WAV, tolerating unknown (0xFFFFFFFF) chunk sizes.

    Walks the RIFF chunks (`fmt `, then `data`); a data size past the end of the bytes is
    clamped to what is there, trimmed to whole frames. Raises `WavFormatError` otherwise.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise WavFormatError("not a RIFF/WAVE file")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk == b"fmt ":
            if size < 16:
                raise WavFormatError("fmt chunk too short")
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", data[body : body + 16])
            # 0xFFFE is WAVE_FORMAT_EXTENSIBLE, which vendors use for plain PCM too.
            if tag not in (1, 0xFFFE) or bits != 16 or channels < 1 or rate <= 0:
                raise WavFormatError(f"need 16-bit PCM, got format {tag} with {bits} bits")
            fmt = (channels, rate)
        elif chunk == b"data":
            if fmt is None:
                raise WavFormatError("data chunk before fmt chunk")
            channels, rate = fmt
            end = min(len(data), body + size)
            frame = 2 * channels
            frames = data[body : body + (end - body) // frame * frame]
            return PcmAudio(frames=frames, sample_rate=rate, channels=channels)
        pos = body + size + (size & 1)  # chunks are word-aligned
    raise WavFormatError("no data chunk")
