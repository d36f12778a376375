"""Voicing a shot: who speaks when, measured from the audio, and how long the shot lasts."""

from __future__ import annotations

import numpy as np
import pytest

from storyreel_core.drama_models import Character, DialogueLine, Line, Shot
from storyreel_core.errors import ValidationFailed
from storyreel_tts.espeak_engine import EspeakEngine
from storyreel_tts.shot_speech import (
    ShotSpeech,
    Spoken,
    assemble_shot,
    shot_duration,
    trim_silence,
    utterances,
)
from storyreel_tts.voice_casting import NARRATOR, Voice, cast_voices


def speak_shot(
    shot: Shot,
    voices: dict[str, Voice],
    engine: EspeakEngine,
    *,
    speed: float = 1.0,
    **timing: float,
) -> ShotSpeech:
    """Each utterance spoken by eSpeak, then laid out by `assemble_shot` (the job's path)."""
    if speed <= 0:
        raise ValidationFailed("speed must be positive", field="speed")
    spoken = [
        Spoken(
            who,
            text,
            engine.synthesize(text, voices.get(who, voices[NARRATOR]), speed=speed),
            engine.sample_rate,
        )
        for who, text in utterances(shot)
    ]
    return assemble_shot(shot, spoken, sample_rate=engine.sample_rate, **timing)


CHARACTERS = [
    Character(id="char-lin", name="林雪", gender="female"),
    Character(id="char-wei", name="王伟", gender="male"),
]
SHOT = Shot(
    id="shot-1",
    number=1,
    scene_id="scene-1",
    narration="雨夜，林雪推开了老宅的大门。",
    dialogue=[
        DialogueLine(character_id="char-lin", text="有人在吗？"),
        DialogueLine(character_id="char-wei", text="你终于回来了。"),
        DialogueLine(character_id="char-lin", text="爸爸，是你吗？"),
    ],
    duration=2.0,
)


@pytest.fixture(scope="module")
def cast() -> dict[str, Voice]:
    return cast_voices(CHARACTERS, "zh")


def test_segments_are_ordered_timed_and_inside_the_audio(
    engine: EspeakEngine, cast: dict[str, Voice]
) -> None:
    speech = speak_shot(SHOT, cast, engine)
    assert [s.speaker for s in speech.segments] == [NARRATOR, "char-lin", "char-wei", "char-lin"]
    assert [s.text for s in speech.segments] == [SHOT.narration] + [d.text for d in SHOT.dialogue]
    assert speech.segments[0].start == pytest.approx(0.3, abs=0.02)  # the lead-in
    for before, after in zip(speech.segments, speech.segments[1:], strict=False):
        assert after.start - before.end == pytest.approx(0.25, abs=0.001)  # the gap
    for segment in speech.segments:
        assert 0 <= segment.start < segment.end <= speech.duration
    assert speech.speech_end == speech.segments[-1].end
    assert speech.duration == speech.pcm.size / speech.sample_rate
    assert speech.duration == pytest.approx(speech.speech_end + 0.2, abs=1e-3)  # the tail
    # The speech outgrew the 2 s plan, so the shot lasts the speech plus the shot tail.
    assert shot_duration(speech.duration, SHOT.duration) == speech.duration + 0.5


def test_each_line_is_the_audio_of_its_speakers_voice(
    engine: EspeakEngine, cast: dict[str, Voice]
) -> None:
    speech = speak_shot(SHOT, cast, engine)
    rate = speech.sample_rate
    for segment in speech.segments:
        expected = trim_silence(engine.synthesize(segment.text, cast[segment.speaker]), rate)
        start = round(segment.start * rate)
        heard = speech.pcm[start : start + expected.size]
        assert round(segment.end * rate) - start == expected.size
        assert np.array_equal(heard, expected)
    # And not somebody else's: the same line in the other character's voice differs.
    other = trim_silence(engine.synthesize(SHOT.dialogue[0].text, cast["char-wei"]), rate)
    first_line = speech.segments[1]
    start = round(first_line.start * rate)
    assert not np.array_equal(speech.pcm[start : start + other.size], other)


def test_silence_between_segments(engine: EspeakEngine, cast: dict[str, Voice]) -> None:
    speech = speak_shot(SHOT, cast, engine)
    rate = speech.sample_rate
    edges = [0.0, *(t for s in speech.segments for t in (s.start, s.end)), speech.duration]
    for quiet_from, quiet_to in zip(edges[::2], edges[1::2], strict=True):
        quiet = speech.pcm[round(quiet_from * rate) : round(quiet_to * rate)]
        assert quiet.size == 0 or np.abs(quiet).max() == 0
    for segment in speech.segments:
        spoken = speech.pcm[round(segment.start * rate) : round(segment.end * rate)]
        assert np.abs(spoken).max() > 1000


def test_a_short_shot_keeps_its_planned_duration(
    engine: EspeakEngine, cast: dict[str, Voice]
) -> None:
    shot = SHOT.model_copy(update={"dialogue": [], "narration": "雨夜。", "duration": 6.0})
    speech = speak_shot(shot, cast, engine)
    assert len(speech.segments) == 1 and speech.duration < 3.0
    assert shot_duration(speech.duration, shot.duration) == 6.0


def test_an_empty_shot_is_silence_of_the_planned_duration(
    engine: EspeakEngine, cast: dict[str, Voice]
) -> None:
    shot = Shot(id="shot-2", number=2, scene_id="scene-1", duration=3.5, narration="  ")
    speech = speak_shot(shot, cast, engine)
    assert speech.segments == []
    assert speech.duration == pytest.approx(3.5, abs=1e-3)
    assert speech.pcm.size == round(3.5 * speech.sample_rate)
    assert not speech.pcm.any()


def test_faster_speech_is_shorter(engine: EspeakEngine, cast: dict[str, Voice]) -> None:
    normal = speak_shot(SHOT, cast, engine)
    fast = speak_shot(SHOT, cast, engine, speed=1.5)
    assert fast.speech_end < 0.85 * normal.speech_end
    assert fast.duration < normal.duration


def test_english_shot(engine: EspeakEngine) -> None:
    cast = cast_voices(CHARACTERS, "en", piper=False)
    shot = Shot(
        id="shot-3",
        number=3,
        scene_id="scene-2",
        narration="The rain did not stop.",
        dialogue=[DialogueLine(character_id="char-wei", text="Come inside, quickly!")],
        duration=4.5,
    )
    speech = speak_shot(shot, cast, engine, lead_in=0.0, gap=0.5)
    assert [s.speaker for s in speech.segments] == [NARRATOR, "char-wei"]
    assert speech.segments[0].start < 0.02
    assert speech.segments[1].start - speech.segments[0].end == pytest.approx(0.5, abs=1e-3)
    assert shot_duration(speech.duration, shot.duration) == 4.5  # both lines fit the plan


def test_a_line_by_someone_outside_the_cast_is_read_by_the_narrator(
    engine: EspeakEngine, cast: dict[str, Voice]
) -> None:
    shot = SHOT.model_copy(
        update={"narration": "", "dialogue": [DialogueLine(character_id="ghost", text="走吧。")]}
    )
    speech = speak_shot(shot, cast, engine)
    assert [s.speaker for s in speech.segments] == ["ghost"]
    rate = speech.sample_rate
    expected = trim_silence(engine.synthesize("走吧。", cast[NARRATOR]), rate)
    start = round(speech.segments[0].start * rate)
    assert np.array_equal(speech.pcm[start : start + expected.size], expected)


def test_rejects_bad_timing_arguments(engine: EspeakEngine, cast: dict[str, Voice]) -> None:
    with pytest.raises(ValidationFailed):
        speak_shot(SHOT, cast, engine, speed=0)
    with pytest.raises(ValidationFailed):
        speak_shot(SHOT, cast, engine, gap=-1)


def test_shot_duration() -> None:
    assert shot_duration(2.0, 4.0) == 4.0
    assert shot_duration(5.0, 4.0) == 5.5
    assert shot_duration(5.0, 4.0, tail=0.0) == 5.0


def test_trim_silence_cuts_only_the_quiet_edges() -> None:
    rate = 1000
    pcm = np.zeros(1000, dtype=np.int16)
    pcm[200:300] = 5000
    pcm[100] = 100  # below the threshold: noise, not speech
    trimmed = trim_silence(pcm, rate)
    assert trimmed.size == 100 + 2 * 10  # the loud part plus a 10 ms margin each side
    assert trim_silence(np.zeros(50, dtype=np.int16), rate).size == 0


def test_a_shot_with_ordered_lines_is_spoken_in_that_order(
    engine: EspeakEngine, cast: dict[str, Voice]
) -> None:
    """小禾's question is heard before the nod that answers it, not after all narration."""
    shot = SHOT.model_copy(
        update={
            "narration": "林雪拉住王伟的袖子。王伟沉默了很久，终于点了点头。",
            "dialogue": [DialogueLine(character_id="char-lin", text="你要去救人吗？")],
            "lines": [
                Line(text="林雪拉住王伟的袖子。"),
                Line(speaker="char-lin", text="你要去救人吗？"),
                Line(text="王伟沉默了很久，终于点了点头。"),
            ],
        }
    )
    speech = speak_shot(shot, cast, engine)

    assert [(s.speaker, s.text) for s in speech.segments] == [
        (NARRATOR, "林雪拉住王伟的袖子。"),
        ("char-lin", "你要去救人吗？"),
        (NARRATOR, "王伟沉默了很久，终于点了点头。"),
    ]
    assert all(a.end < b.start for a, b in zip(speech.segments, speech.segments[1:], strict=False))
