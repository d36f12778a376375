"""The eSpeak binding: real, audible, deterministic speech in Mandarin and English."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pytest

from storyreel_core.drama_models import Character, Language
from storyreel_tts.espeak_engine import EspeakEngine
from storyreel_tts.voice_casting import cast_voices, narrator_voice

EN_SHORT = "She opened the door."
EN_LONG = (
    "She opened the door slowly, and the cold wind of the winter night rushed into the "
    "empty hall where her father had waited for her for twenty years."
)
ZH_SHORT = "她打开了门。"
ZH_LONG = "她慢慢地打开了门，冬夜的寒风涌进了空荡荡的大厅，她的父亲在那里等了她整整二十年。"

MIN_RMS = 500.0  # eSpeak speaks at roughly 2-4k RMS; silence or clicks are far below this


def rms(pcm: npt.NDArray[np.int16]) -> float:
    return float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))) if pcm.size else 0.0


def estimate_f0(pcm: npt.NDArray[np.int16], sample_rate: int) -> float:
    """Median fundamental frequency of the voiced frames, by autocorrelation.

    A frame counts as voiced when it is loud (above a third of the clip's RMS) and its
    autocorrelation has a strong peak in the 60-400 Hz lag range.
    """
    x = pcm.astype(np.float64)
    frame, hop = int(0.04 * sample_rate), int(0.02 * sample_rate)
    shortest, longest = int(sample_rate / 400), int(sample_rate / 60)
    loud = rms(pcm) / 3
    estimates = []
    for start in range(0, x.size - frame, hop):
        chunk = x[start : start + frame] - x[start : start + frame].mean()
        if np.sqrt(np.mean(chunk**2)) < loud:
            continue
        ac = np.correlate(chunk, chunk, "full")[frame - 1 :]
        lag = shortest + int(np.argmax(ac[shortest:longest]))
        if ac[0] > 0 and ac[lag] / ac[0] > 0.5:
            estimates.append(sample_rate / lag)
    assert len(estimates) >= 10, "too few voiced frames to measure pitch"
    return float(np.median(estimates))


def test_sample_rate_is_espeaks(engine: EspeakEngine) -> None:
    assert engine.sample_rate == 22050


@pytest.mark.parametrize(
    ("language", "short", "long"), [("en", EN_SHORT, EN_LONG), ("zh", ZH_SHORT, ZH_LONG)]
)
def test_speaks_audibly_for_a_plausible_time(
    engine: EspeakEngine, language: Language, short: str, long: str
) -> None:
    voice = narrator_voice(language)
    short_pcm = engine.synthesize(short, voice)
    long_pcm = engine.synthesize(long, voice)
    assert short_pcm.dtype == np.int16 and short_pcm.ndim == 1
    assert rms(short_pcm) > MIN_RMS
    assert rms(long_pcm) > MIN_RMS
    short_s = short_pcm.size / engine.sample_rate
    long_s = long_pcm.size / engine.sample_rate
    assert 0.5 < short_s < 4.0
    assert 4.0 < long_s < 20.0
    assert long_s > 3 * short_s


def test_same_voice_and_text_give_identical_samples(engine: EspeakEngine) -> None:
    cast = cast_voices([Character(id="c-ann", name="Ann", gender="female")], "en", piper=False)
    for voice in cast.values():  # a plain and a breathy (noise-using) voice
        first = engine.synthesize(EN_SHORT, voice)
        engine.synthesize(ZH_LONG, narrator_voice("zh"))  # disturb any leftover state
        assert np.array_equal(first, engine.synthesize(EN_SHORT, voice))


def test_faster_speed_gives_shorter_audio(engine: EspeakEngine) -> None:
    voice = narrator_voice("en")
    normal = engine.synthesize(EN_LONG, voice).size
    fast = engine.synthesize(EN_LONG, voice, speed=1.5).size
    slow = engine.synthesize(EN_LONG, voice, speed=0.7).size
    assert fast < 0.8 * normal
    assert slow > 1.2 * normal


def test_blank_text_is_empty_audio(engine: EspeakEngine) -> None:
    assert engine.synthesize("  \n", narrator_voice("zh")).size == 0


def test_rejects_non_positive_speed(engine: EspeakEngine) -> None:
    with pytest.raises(ValueError):
        engine.synthesize(EN_SHORT, narrator_voice("en"), speed=0)


@pytest.mark.parametrize(("language", "text"), [("en", EN_LONG), ("zh", ZH_LONG)])
def test_female_character_sounds_higher_than_male(
    engine: EspeakEngine, language: Language, text: str
) -> None:
    cast = cast_voices(
        [
            Character(id="c-lin", name="Lin", gender="female"),
            Character(id="c-wei", name="Wei", gender="male"),
        ],
        language,
        piper=False,
    )
    rate = engine.sample_rate
    female_f0 = estimate_f0(engine.synthesize(text, cast["c-lin"]), rate)
    male_f0 = estimate_f0(engine.synthesize(text, cast["c-wei"]), rate)
    assert 130 < female_f0 < 350
    assert 60 < male_f0 < 150
    assert female_f0 > 1.3 * male_f0


def test_concurrent_calls_do_not_mix_voices(engine: EspeakEngine) -> None:
    jobs = [
        (EN_SHORT, narrator_voice("en")),
        (ZH_SHORT, narrator_voice("zh")),
        (EN_LONG, narrator_voice("en", "female-3")),
        (ZH_LONG, narrator_voice("zh", "male-1")),
    ] * 3
    serial = [engine.synthesize(text, voice) for text, voice in jobs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        parallel = list(pool.map(lambda job: engine.synthesize(*job), jobs))
    for expected, got in zip(serial, parallel, strict=True):
        assert np.array_equal(expected, got)
