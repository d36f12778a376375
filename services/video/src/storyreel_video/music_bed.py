"""A procedural ambient pad to sit under the narration: no assets, no licences, no network.

A slow minor progression (i–VI–III–VII) voiced as soft sine tones (plus a touch of octave) with long
raised-cosine crossfades between chords, a gentle tremolo and a slight left/right detune for
width. It is deliberately quiet and featureless so it never competes with speech; the mix
ducks it further under voices (sidechaincompress) and fades it at both ends.
"""

from __future__ import annotations

import math
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt

from storyreel_video.interpolation import upsample_window

SAMPLE_RATE = 48_000
_SYNTH_RATE = 12_000  # the pad has nothing above ~2 kHz: synthesise at 1/4 rate, interpolate up
_Array = npt.NDArray[np.float32]

# Semitone offsets from the key root for i, VI, III, VII (A minor: Am, F, C, G).
_PROGRESSION: tuple[tuple[int, ...], ...] = (
    (0, 7, 12, 15),
    (-4, 3, 8, 12),
    (3, 10, 15, 19),
    (-2, 5, 10, 14),
)
_ROOTS_HZ = (110.0, 116.54, 98.0, 103.83, 123.47)  # A2, Bb2, G2, Ab2, B2 — chosen by seed


def _tone(freq: float, t: _Array, phase: float) -> _Array:
    """A sine with a soft second harmonic for warmth (cos 2x = 1 − 2 sin²x: no second sin)."""
    x = np.float32(2.0 * math.pi * freq) * t
    x += np.float32(phase)
    s = np.sin(x)
    out: _Array = np.float32(0.88) * s + np.float32(0.12) * (np.float32(1.0) - 2.0 * s * s)
    return out


class AmbientPad:
    """The pad of `duration` seconds, drawn window by window: `window(lo, hi)` is samples
    lo:hi (48 kHz) of the whole pad, so a long soundtrack never holds more than a window.

    Every synthesised sample is a function of its index alone (the chords' phases are drawn
    up front, in chord order), so windows join seamlessly. The level is set from the first
    four chords (16 s): about −14 dBFS peak there, the same everywhere after (the same
    chords recur)."""

    def __init__(self, duration: float, *, seed: int = 0, chord_seconds: float = 4.0) -> None:
        self.n = max(1, round(duration * SAMPLE_RATE))
        self._synth_n = max(1, round(duration * _SYNTH_RATE))
        self._root = _ROOTS_HZ[seed % len(_ROOTS_HZ)]
        self._step = round(chord_seconds * _SYNTH_RATE)
        self._fade = self._step // 2  # chords overlap by half a chord: no audible seams
        rng = np.random.default_rng(seed)
        chords = len(range(-self._fade, self._synth_n, self._step))
        per_chord = len(_PROGRESSION[0])
        self._phases = [
            [float(rng.uniform(0.0, 2.0 * math.pi)) for _ in range(per_chord)]
            for _ in range(chords)
        ]
        self._scale = np.float32(1.0)
        head = self._synth(0, min(self._synth_n, 4 * self._step))
        self._scale = np.float32(0.2 / (float(np.max(np.abs(head))) or 1.0))

    def _synth(self, lo: int, hi: int) -> _Array:
        """Synthesis-rate samples lo:hi, (hi − lo, 2)."""
        out = np.zeros((hi - lo, 2), dtype=np.float32)
        t = np.arange(lo, hi, dtype=np.float32) / np.float32(_SYNTH_RATE)
        step, fade = self._step, self._fade
        first = max(0, lo // step - 1)  # chord k sounds over [k·step − fade, (k + 1)·step)
        for k in range(first, len(self._phases)):
            start = -fade + k * step
            c_lo, c_hi = max(lo, start), min(hi, self._synth_n, start + step + fade)
            if start >= hi:
                break
            if c_hi <= c_lo:
                continue
            seg_t = t[c_lo - lo : c_hi - lo]
            # Raised-cosine window over the chord's life (attack and release of `fade` samples).
            pos = (np.arange(c_lo, c_hi, dtype=np.float32) - start) / np.float32(step + fade)
            env = np.sin(np.pi * np.clip(pos, 0.0, 1.0)) ** 2
            chord = _PROGRESSION[k % len(_PROGRESSION)]
            for j, semis in enumerate(chord):
                freq = self._root * 2.0 ** (semis / 12.0)
                gain = 0.16 if j == 0 else 0.1
                phase = self._phases[k][j]
                detune = 0.25 * (j + 1) / len(chord)
                out[c_lo - lo : c_hi - lo, 0] += gain * env * _tone(freq - detune, seg_t, phase)
                out[c_lo - lo : c_hi - lo, 1] += (
                    gain * env * _tone(freq + detune, seg_t, phase + 0.7)
                )
        tremolo = 0.85 + 0.15 * np.sin(np.float32(2.0 * math.pi * 0.13) * t)
        out *= (tremolo * self._scale)[:, None]
        return out

    def window(self, lo: int, hi: int) -> _Array:
        """(hi − lo, 2) float32 samples at 48 kHz, for 0 ≤ lo ≤ hi ≤ n."""
        factor = SAMPLE_RATE // _SYNTH_RATE
        s_lo = min(lo // factor, self._synth_n - 1)
        s_hi = min(self._synth_n, -(-hi // factor) + 1)
        # Linear interpolation is transparent here: the highest partial is oversampled ~6x.
        return upsample_window(
            self._synth(s_lo, max(s_hi, s_lo + 1)), factor, lo - s_lo * factor, hi - s_lo * factor
        )


def ambient_pad(duration: float, *, seed: int = 0, chord_seconds: float = 4.0) -> _Array:
    """(n, 2) float32 stereo pad in [-1, 1], peaking around −14 dBFS (the whole `AmbientPad`)."""
    pad = AmbientPad(duration, seed=seed, chord_seconds=chord_seconds)
    return pad.window(0, pad.n)


def write_wav(samples: _Array, path: Path, sample_rate: int = SAMPLE_RATE) -> Path:
    """Write float samples (n, channels) as 16-bit PCM WAV."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(pcm.shape[1] if pcm.ndim == 2 else 1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(pcm.tobytes())
    return path


def write_music_bed(path: Path, duration: float, *, seed: int = 0) -> Path:
    return write_wav(ambient_pad(duration, seed=seed), path)
