"""One shot's soundtrack: its lines in story order, timed from the audio itself.

Segment times come from real sample counts, not from estimates such as characters per
second, so subtitles and cues line up with what is heard. Each utterance has its leading
and trailing silence trimmed, so a segment starts when the voice starts. The shot then
lasts as long as its speech needs: `shot_duration(speech.duration, shot.duration)` is the
planned duration, or longer when the words do not fit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from storyreel_core.drama_models import Shot, SpeechSegment, ordered_lines
from storyreel_core.errors import ValidationFailed
from storyreel_core.logging import get_logger
from storyreel_tts.espeak_engine import EspeakEngine
from storyreel_tts.voice_casting import NARRATOR, Voice

log = get_logger(__name__)

Pcm = npt.NDArray[np.int16]

SILENCE_THRESHOLD = 300  # |sample| at or below this (about -40 dBFS) counts as silence
EDGE_MARGIN = 0.01  # seconds kept beyond the threshold crossings, so soft onsets survive


@dataclass(frozen=True, eq=False)
class ShotSpeech:
    """The shot's audio and who speaks when.

    `duration` is `len(pcm) / sample_rate`: lead-in, speech and a short tail — or, for a
    shot with nothing to say, its planned duration of silence. It is *not* padded to the
    planned duration; pass it to `shot_duration` for the shot's final length. `speech_end`
    is when the last voice stops (0 when nobody speaks).
    """

    pcm: Pcm
    sample_rate: int
    segments: list[SpeechSegment] = field(default_factory=list)
    duration: float = 0.0
    speech_end: float = 0.0


def shot_duration(speech_duration: float, planned: float, tail: float = 0.5) -> float:
    """How long a shot lasts: as planned, unless its speech (plus a tail) needs longer."""
    return max(planned, speech_duration + tail)


def trim_silence(
    pcm: Pcm, sample_rate: int, threshold: int = SILENCE_THRESHOLD, margin: float = EDGE_MARGIN
) -> Pcm:
    """Cut the quiet run-in and run-out of one utterance; all-quiet audio becomes empty."""
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > threshold)
    if loud.size == 0:
        return pcm[:0]
    pad = round(margin * sample_rate)
    start = max(0, int(loud[0]) - pad)
    end = min(pcm.size, int(loud[-1]) + 1 + pad)
    return pcm[start:end]


def _utterances(shot: Shot) -> list[tuple[str, str]]:
    """(speaker, text) in speaking order: the shot's `lines` as the story has them, or, for a
    shot without them, the narration first and then the dialogue."""
    lines = ordered_lines(shot.narration, shot.dialogue, shot.lines)
    return [(line.speaker, line.text.strip()) for line in lines if line.text.strip()]


def _voice_for(speaker: str, voices: Mapping[str, Voice]) -> Voice:
    voice = voices.get(speaker)
    if voice is not None:
        return voice
    narrator = voices.get(NARRATOR)
    if narrator is None:
        raise ValidationFailed(f"no voice for {speaker!r} and no narrator", field="voices")
    # A line by someone missing from the cast is still worth hearing; say it, don't fail.
    log.warning("tts.voice.missing_character", speaker=speaker)
    return narrator


def speak_shot(
    shot: Shot,
    voices: Mapping[str, Voice],
    engine: EspeakEngine,
    *,
    speed: float = 1.0,
    gap: float = 0.25,
    lead_in: float = 0.3,
    tail: float = 0.2,
) -> ShotSpeech:
    """Voice one shot: `lead_in` of silence, utterances `gap` apart, then `tail` of silence.

    `voices` maps "narrator" and character ids to voices (see `cast_voices`); `speed`
    scales every voice's speaking rate. A shot with no narration or dialogue gives its
    planned duration of silence and no segments.
    """
    if speed <= 0:
        raise ValidationFailed(f"speed must be positive, got {speed}", field="speed")
    if min(gap, lead_in, tail) < 0:
        raise ValidationFailed("gap, lead_in and tail must not be negative")
    rate = engine.sample_rate
    pieces: list[Pcm] = []
    segments: list[SpeechSegment] = []
    cursor = 0  # samples so far
    for speaker, text in _utterances(shot):
        spoken = engine.synthesize(text, _voice_for(speaker, voices), speed=speed)
        audio = trim_silence(spoken, rate)
        if audio.size == 0:
            log.warning("tts.utterance.silent", shot_id=shot.id, speaker=speaker)
            continue
        pause = round((gap if segments else lead_in) * rate)
        pieces.append(np.zeros(pause, dtype=np.int16))
        cursor += pause
        segments.append(
            SpeechSegment(
                speaker=speaker,
                text=text,
                start=cursor / rate,
                end=(cursor + audio.size) / rate,
            )
        )
        pieces.append(audio)
        cursor += audio.size

    if not segments:
        silence = np.zeros(round(max(0.0, shot.duration) * rate), dtype=np.int16)
        return ShotSpeech(pcm=silence, sample_rate=rate, duration=silence.size / rate)
    pieces.append(np.zeros(round(tail * rate), dtype=np.int16))
    pcm = np.concatenate(pieces)
    return ShotSpeech(
        pcm=pcm,
        sample_rate=rate,
        segments=segments,
        duration=pcm.size / rate,
        speech_end=cursor / rate,
    )
