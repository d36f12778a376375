"""Sample-rate and pitch changes on int16 PCM, band-limited, with numpy's FFT.

Resampling by spectrum truncation or zero-padding (the method of `scipy.signal.resample`)
is exact for a periodic band-limited signal and needs no filter design; utterances are a few
seconds long, so one FFT each is cheap.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Pcm = npt.NDArray[np.int16]


def resample(pcm: Pcm, length: int) -> Pcm:
    """`pcm` stretched or squeezed to `length` samples, band-limited (no aliasing).

    Played at the original rate, the result lasts `length / len(pcm)` as long and every
    frequency is scaled by `len(pcm) / length`. Raises ValueError for a negative length.
    """
    if length < 0:
        raise ValueError(f"length must not be negative, got {length}")
    if length == pcm.size or pcm.size == 0:
        return pcm.copy() if length == pcm.size else np.zeros(length, dtype=np.int16)
    spectrum = np.fft.rfft(pcm.astype(np.float64))
    bins = length // 2 + 1
    if bins <= spectrum.size:
        spectrum = spectrum[:bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - spectrum.size, dtype=complex)])
    out = np.fft.irfft(spectrum, length) * (length / pcm.size)
    return np.clip(np.rint(out), -32768, 32767).astype(np.int16)


def convert_rate(pcm: Pcm, source_rate: int, target_rate: int) -> Pcm:
    """The same sound at `target_rate` samples per second (duration and pitch unchanged)."""
    if source_rate <= 0 or target_rate <= 0:
        raise ValueError("sample rates must be positive")
    if source_rate == target_rate:
        return pcm
    return resample(pcm, round(pcm.size * target_rate / source_rate))


def to_mono(samples: npt.NDArray[np.int16], channels: int) -> Pcm:
    """Interleaved int16 frames of `channels` channels, averaged to one channel."""
    if channels == 1:
        return samples
    frames = samples[: samples.size // channels * channels].reshape(-1, channels)
    mono: Pcm = np.rint(frames.astype(np.float64).mean(axis=1)).astype(np.int16)
    return mono
