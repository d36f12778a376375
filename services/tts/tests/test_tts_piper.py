"""Piper really speaks: the bundled en_US-joe-medium voice, offline, through the port."""

from __future__ import annotations

import numpy as np
import pytest

from storyreel_core.errors import ValidationFailed
from storyreel_core.providers.ports import SpeechModel, SpeechRequest
from storyreel_core.providers.wave_files import parse_wav
from storyreel_tts.offline_speech import OfflineSpeech
from storyreel_tts.pitch import median_pitch, semitones

LINE = "The old lighthouse keeper walked down to the shore at dawn."


def samples(wav: bytes) -> tuple[np.ndarray, int]:
    audio = parse_wav(wav)
    return np.frombuffer(audio.frames, dtype="<i2"), audio.sample_rate


async def test_piper_speaks_an_english_line_to_a_wav_of_plausible_duration() -> None:
    model = OfflineSpeech("piper", ("piper",))
    assert isinstance(model, SpeechModel)
    result = await model.synthesize(SpeechRequest(text=LINE, voice="joe", language="en"))
    pcm, rate = samples(result.wav)
    assert rate == 22050 and result.sample_rate == 22050
    assert result.duration_s == pytest.approx(pcm.size / rate)
    # 11 words at an ordinary pace (120-220 words per minute) with short edges.
    assert 2.0 < result.duration_s < 6.5
    assert np.abs(pcm).max() > 3000  # speech, not silence
    assert result.usage.model == "en_US-joe-medium" and result.usage.characters == len(LINE)

    shifted = await model.synthesize(SpeechRequest(text=LINE, voice="joe/st+3.5", language="en"))
    base_hz = median_pitch(pcm, rate)
    up_hz = median_pitch(*samples(shifted.wav))
    assert up_hz > base_hz and semitones(up_hz, base_hz) == pytest.approx(3.5, abs=1.0)
    assert shifted.duration_s == pytest.approx(result.duration_s, rel=0.2)  # same pace


async def test_piper_alone_refuses_what_it_cannot_speak() -> None:
    model = OfflineSpeech("piper", ("piper",))
    with pytest.raises(ValidationFailed) as caught:
        await model.synthesize(SpeechRequest(text="你好。", voice="narrator-zh", language="zh"))
    assert caught.value.field == "voice"
    with pytest.raises(ValidationFailed):
        await model.synthesize(SpeechRequest(text=LINE, voice="female-2", language="en"))


async def test_offline_falls_back_to_espeak_when_piper_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("onnxruntime cannot load the model")

    monkeypatch.setattr("storyreel_tts.offline_speech.piper_pcm", broken)
    model = OfflineSpeech()
    low = await model.synthesize(SpeechRequest(text=LINE, voice="joe/st-3.0", language="en"))
    high = await model.synthesize(SpeechRequest(text=LINE, voice="joe/st+5.0", language="en"))
    assert low.usage.model == "espeak-ng" and low.duration_s > 1.0
    # The stand-ins keep the cast apart: about 8 semitones between them, as cast.
    assert semitones(median_pitch(*samples(high.wav)), median_pitch(*samples(low.wav))) > 4
    with pytest.raises(Exception, match="piper"):
        await OfflineSpeech("piper", ("piper",)).synthesize(SpeechRequest(text=LINE, voice="joe"))
