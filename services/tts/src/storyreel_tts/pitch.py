"""Median fundamental frequency of speech: how casting keeps voices apart, measurably.

The estimator is the classic normalised autocorrelation method (Boersma 1993, "Accurate
short-term analysis of the fundamental frequency…", the basis of Praat's pitch tracker), cut
down to what casting needs — one number per voice, not a contour:

1. split the signal into 40 ms frames every 10 ms, remove each frame's mean and weight it with
   a Hann window;
2. autocorrelate each frame with numpy's real FFT (zero-padded to avoid wrap-around) and
   divide by the window's own autocorrelation, so a perfectly periodic frame scores 1 at its
   period whatever the lag;
3. a frame is voiced when it is loud enough (RMS within 30 dB of the loudest frame) and its
   best peak between the lags of `fmax` and `fmin` reaches `VOICING_THRESHOLD`; the peak's
   lag, refined by parabolic interpolation, gives that frame's F0;
4. the median over voiced frames is the voice's pitch.

Octave errors (a peak at twice the period) are the known failure of autocorrelation; the
first lag whose score is within `OCTAVE_TOLERANCE` of the best is taken, which prefers the
shorter period, as Praat's octave cost does.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FRAME_S = 0.04
HOP_S = 0.01
FMIN_HZ = 60.0
FMAX_HZ = 500.0
VOICING_THRESHOLD = 0.5
OCTAVE_TOLERANCE = 0.1
SILENCE_DB = 30.0


def _frames(x: npt.NDArray[np.float64], size: int, hop: int) -> npt.NDArray[np.float64]:
    count = 1 + (x.size - size) // hop
    index = np.arange(size)[None, :] + hop * np.arange(count)[:, None]
    frames: npt.NDArray[np.float64] = x[index]
    return frames


def frame_pitches(
    samples: npt.ArrayLike, sample_rate: int, *, fmin: float = FMIN_HZ, fmax: float = FMAX_HZ
) -> npt.NDArray[np.float64]:
    """F0 in Hz of every voiced 40 ms frame (10 ms hop) of mono `samples`; may be empty.

    Raises ValueError for a non-positive rate or a band with `fmin >= fmax`.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    if not 0 < fmin < fmax:
        raise ValueError(f"need 0 < fmin < fmax, got {fmin}, {fmax}")
    x = np.asarray(samples, dtype=np.float64).ravel()
    size, hop = round(FRAME_S * sample_rate), round(HOP_S * sample_rate)
    if x.size < size:
        return np.zeros(0)
    frames = _frames(x, size, hop)
    frames = frames - frames.mean(axis=1, keepdims=True)
    rms = np.sqrt((frames**2).mean(axis=1))
    loud = rms > rms.max() * 10 ** (-SILENCE_DB / 20) if rms.max() > 0 else rms > 0
    window = np.hanning(size)
    n_fft = 1 << int(np.ceil(np.log2(2 * size)))

    def autocorrelation(signal: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        spectrum = np.fft.rfft(signal, n_fft, axis=-1)
        return np.fft.irfft(np.abs(spectrum) ** 2, n_fft, axis=-1)[..., :size]

    window_ac = autocorrelation(window)
    ac = autocorrelation(frames[loud] * window) / np.maximum(window_ac, 1e-12)
    ac = ac / np.maximum(ac[:, :1], 1e-12)
    lo = max(1, int(np.floor(sample_rate / fmax)))
    hi = min(
        size // 2, int(np.ceil(sample_rate / fmin))
    )  # the window correction is reliable to size/2
    band = ac[:, lo:hi]
    pitches: list[float] = []
    for row in band:
        best = float(row.max())
        if best < VOICING_THRESHOLD:
            continue
        # Local maxima within tolerance of the best: take the shortest period (octave guard).
        peaks = np.flatnonzero(
            (row[1:-1] >= row[:-2])
            & (row[1:-1] >= row[2:])
            & (row[1:-1] >= best - OCTAVE_TOLERANCE)
        )
        k = int(peaks[0]) + 1 if peaks.size else int(row.argmax())
        shift = 0.0
        if 0 < k < row.size - 1:
            a, b, c = row[k - 1], row[k], row[k + 1]
            denom = a - 2 * b + c
            shift = 0.5 * (a - c) / denom if denom != 0 else 0.0
        pitches.append(sample_rate / (lo + k + shift))
    return np.asarray(pitches, dtype=np.float64)


def median_pitch(samples: npt.ArrayLike, sample_rate: int) -> float:
    """The median F0 in Hz of the voiced frames of mono `samples`; 0.0 when none is voiced."""
    pitches = frame_pitches(samples, sample_rate)
    return float(np.median(pitches)) if pitches.size else 0.0


def semitones(a_hz: float, b_hz: float) -> float:
    """The distance between two pitches in semitones (12 per octave), always >= 0."""
    if a_hz <= 0 or b_hz <= 0:
        raise ValueError("pitches must be positive")
    return abs(12.0 * float(np.log2(a_hz / b_hz)))
