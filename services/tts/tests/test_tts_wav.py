"""WAV packing: what goes in comes back out of the standard `wave` reader."""

from __future__ import annotations

import io
import wave

import numpy as np
import pytest

from storyreel_tts.wav import read_wav, wav_bytes


def test_round_trips_through_wave() -> None:
    pcm = (np.sin(np.linspace(0, 200, 22050)) * 20000).astype(np.int16)
    data = wav_bytes(pcm, 22050)
    with wave.open(io.BytesIO(data), "rb") as src:
        assert (src.getnchannels(), src.getsampwidth(), src.getframerate()) == (1, 2, 22050)
        assert src.getnframes() == pcm.size
        frames = src.readframes(src.getnframes())
    assert np.array_equal(np.frombuffer(frames, dtype="<i2"), pcm)
    samples, rate = read_wav(data)
    assert rate == 22050 and np.array_equal(samples, pcm)


def test_empty_audio_is_a_valid_wav() -> None:
    samples, rate = read_wav(wav_bytes(np.zeros(0, dtype=np.int16), 16000))
    assert samples.size == 0 and rate == 16000


def test_out_of_range_input_is_clipped_not_wrapped() -> None:
    samples, _ = read_wav(wav_bytes(np.array([40000.0, -40000.0, 1.4]), 8000))
    assert samples.tolist() == [32767, -32768, 1]


@pytest.mark.parametrize(
    ("pcm", "rate"), [(np.zeros((2, 2), dtype=np.int16), 8000), (np.zeros(4, dtype=np.int16), 0)]
)
def test_rejects_non_mono_or_bad_rate(pcm: np.ndarray, rate: int) -> None:
    with pytest.raises(ValueError):
        wav_bytes(pcm, rate)
