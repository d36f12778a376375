"""Inspect a rendered MP4 with PyAV (libav, the library inside ffprobe)."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


@dataclass
class Probe:
    video_codec: str
    audio_codec: str
    width: int
    height: int
    fps: float
    duration: float
    audio_rms: float  # full scale = 1.0


def _normalised(samples: np.ndarray) -> np.ndarray:
    """Full scale is 1.0 whatever the decoder's sample format."""
    data = samples.astype(np.float64).ravel()
    if np.issubdtype(samples.dtype, np.integer):
        data /= float(np.iinfo(samples.dtype).max)
    return data


def probe(path: Path) -> Probe:
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        audio = container.streams.audio[0]
        rate = video.average_rate or video.guessed_rate or Fraction(0)
        duration = float(container.duration or 0) / av.time_base
        samples = [_normalised(frame.to_ndarray()) for frame in container.decode(audio)]
    pcm = np.concatenate(samples) if samples else np.zeros(1)
    return Probe(
        video_codec=video.codec_context.name,
        audio_codec=audio.codec_context.name,
        width=video.codec_context.width,
        height=video.codec_context.height,
        fps=float(rate),
        duration=duration,
        audio_rms=float(np.sqrt(np.mean(pcm**2))),
    )
