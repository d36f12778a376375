"""PCM to WAV bytes: the one audio format every later stage (object store, ffmpeg) reads."""

from __future__ import annotations

import io
import wave

import numpy as np
import numpy.typing as npt

Pcm = npt.NDArray[np.int16]


def wav_bytes(pcm: npt.ArrayLike, sample_rate: int) -> bytes:
    """Encode mono samples as a 16-bit PCM WAV file held in memory.

    Samples are clipped to int16 first, so float or wider-int input never wraps around
    into loud clicks; they are written little-endian as RIFF requires on any host.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    samples = np.asarray(pcm)
    if samples.ndim != 1:
        raise ValueError(f"expected mono samples (1-D), got shape {samples.shape}")
    if samples.dtype != np.int16:
        samples = np.clip(np.rint(samples), -32768, 32767)
    frames = samples.astype("<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(frames)
    return buffer.getvalue()


def read_wav(data: bytes) -> tuple[Pcm, int]:
    """Decode a 16-bit mono WAV produced by `wav_bytes` into (samples, sample rate)."""
    with wave.open(io.BytesIO(data), "rb") as src:
        if src.getnchannels() != 1 or src.getsampwidth() != 2:
            raise ValueError("expected a 16-bit mono WAV")
        rate = src.getframerate()
        frames = src.readframes(src.getnframes())
    return np.frombuffer(frames, dtype="<i2").astype(np.int16), rate
