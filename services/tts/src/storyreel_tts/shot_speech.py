"""One shot's soundtrack: its lines in story order, timed from the audio itself.

Segment times come from real sample counts, not from estimates such as characters per
second, so subtitles and cues line up with what is heard. Each utterance has its leading
and trailing silence trimmed, so a segment starts when the voice starts. The shot then
lasts as long as its speech needs: `shot_duration(speech.duration, shot.duration)` is the
planned duration, or longer when the words do not fit.

Speaking is split from assembling: `utterances(shot)` lists what must be said, a speech
model speaks every line (the job sends them all at once, under the provider's concurrency
limit), and `assemble_shot` lays the answers out on one timeline at one sample rate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from storyreel_core.drama_models import Shot, SpeechSegment, ordered_lines
from storyreel_core.errors import ValidationFailed
from storyreel_core.logging import get_logger
from storyreel_tts.audio_dsp import convert_rate

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


@dataclass(frozen=True, eq=False)
class Spoken:
    """One utterance as a speech model returned it: mono int16 samples at `sample_rate`."""

    speaker: str
    text: str
    pcm: Pcm
    sample_rate: int


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


def utterances(shot: Shot) -> list[tuple[str, str]]:
    """(speaker, text) in speaking order: the shot's `lines` as the story has them, or, for a
    shot without them, the narration first and then the dialogue."""
    lines = ordered_lines(shot.narration, shot.dialogue, shot.lines)
    return [(line.speaker, line.text.strip()) for line in lines if line.text.strip()]


def assemble_shot(
    shot: Shot,
    spoken: Sequence[Spoken],
    *,
    sample_rate: int,
    gap: float = 0.25,
    lead_in: float = 0.3,
    tail: float = 0.2,
) -> ShotSpeech:
    """Lay a shot's utterances out: `lead_in` of silence, utterances `gap` apart, `tail`.

    Every utterance is converted to `sample_rate` (vendors answer at their own rates) and
    trimmed of silence. A shot with nothing audible gives its planned duration of silence
    and no segments.
    """
    if sample_rate <= 0:
        raise ValidationFailed("sample_rate must be positive", field="sample_rate")
    if min(gap, lead_in, tail) < 0:
        raise ValidationFailed("gap, lead_in and tail must not be negative")
    rate = sample_rate
    pieces: list[Pcm] = []
    segments: list[SpeechSegment] = []
    cursor = 0  # samples so far
    for item in spoken:
        audio = trim_silence(convert_rate(item.pcm, item.sample_rate, rate), rate)
        if audio.size == 0:
            log.warning("tts.utterance.silent", shot_id=shot.id, speaker=item.speaker)
            continue
        pause = round((gap if segments else lead_in) * rate)
        pieces.append(np.zeros(pause, dtype=np.int16))
        cursor += pause
        segments.append(
            SpeechSegment(
                speaker=item.speaker,
                text=item.text,
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
