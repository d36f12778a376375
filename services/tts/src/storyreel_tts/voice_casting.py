"""Which voice speaks which part: the offline catalogue, the narrator, and character casting.

A short drama only works if the audience can tell the speakers apart and each one keeps the
same voice from shot to shot. Two rules follow:

- **Apart, measurably.** Every offline voice has a known median pitch (`Voice.hz`): eSpeak's
  from `ESPEAK_PITCH_HZ`, a table measured with `storyreel_tts.pitch` (the test suite
  re-measures it), Piper's from the joe voice's measured pitch and the semitone shift the
  voice applies. Casting keeps every character at least `MIN_GAP_ST` semitones from the
  narrator and from every other character, relaxing the gap only for casts larger than the
  pitch range holds (then `FALLBACK_GAP_ST`, then any unused voice).
- **Stable.** A character's preferences are a pure function of its id (SHA-256), and
  characters are cast in id order, so the same cast comes out in every shot, run and process.

Gender decides the family: women get eSpeak's female variants (f1…f5), men eSpeak's male
variants — in English preferably the Piper joe voice shifted in pitch (neural, like the
English narrator), while a shift stays free. A character of unknown gender takes a stable
coin flip of its id, so strangers are not all women (nor all men).

Voice ids say everything needed to speak again: `female-2/p45` (catalogue timbre at eSpeak
pitch 45), `joe/st+3.0` (Piper joe three semitones up), `narrator-en`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from storyreel_core.drama_models import Character, Gender, Language
from storyreel_core.errors import ValidationFailed
from storyreel_core.logging import get_logger
from storyreel_core.providers.ports import VoiceInfo

log = get_logger(__name__)

NARRATOR = "narrator"  # the speaker key of narration in casts and segments
# Ids that mean "the narrator of the story's language" (a Mandarin narrator reading English
# would be garbled); any other narrator-* id is unknown, like every unknown voice.
NARRATOR_IDS: tuple[str, ...] = (NARRATOR, "narrator-zh", "narrator-en")

Engine = Literal["espeak", "piper"]

# eSpeak NG voice names for each story language.
ESPEAK_LANGUAGE: dict[Language, str] = {"zh": "cmn", "en": "en-us"}

MIN_GAP_ST = 2.0  # semitones between any two voices of a cast (about 12 % in pitch)
FALLBACK_GAP_ST = 1.0  # for casts larger than the range holds at MIN_GAP_ST
RATE_BASE = 165
RATE_SPREAD = 10  # characters speak at RATE_BASE ± RATE_SPREAD words per minute
RANGE_MIN = 40
RANGE_SPAN = 31

# The eSpeak pitch parameters casting draws from, and the median pitch (Hz) each variant
# speaks at with them: measured with `storyreel_tts.pitch.median_pitch` on
# CALIBRATION_TEXT (eSpeak NG from espeakng-loader, range 50, rate 165). eSpeak's output is
# bit-identical for the same input, so the table is exact for that text; other sentences
# stay within a few percent (their intonation differs). "" is the plain voice.
ESPEAK_PITCHES: tuple[int, ...] = (20, 35, 50, 65, 80)
CALIBRATION_TEXT: dict[Language, str] = {
    "en": "The old lighthouse keeper walked down to the shore at dawn.",
    "zh": "林小雨在钟楼下等了三个小时，终于看见哥哥走出来。",
}
ESPEAK_PITCH_HZ: dict[Language, dict[str, tuple[int, ...]]] = {
    "en": {
        "": (77, 87, 100, 116, 137),
        "m1": (71, 80, 92, 107, 126),
        "m2": (73, 84, 99, 118, 140),
        "m3": (80, 90, 103, 120, 140),
        "m4": (72, 81, 92, 106, 123),
        "m6": (75, 86, 100, 117, 137),
        "m7": (83, 92, 104, 120, 138),
        "f1": (132, 152, 176, 207, 244),
        "f2": (146, 167, 193, 223, 261),
        "f3": (162, 182, 207, 238, 274),
        "f4": (132, 153, 178, 209, 246),
        "f5": (151, 174, 203, 238, 280),
    },
    "zh": {
        "": (71, 75, 88, 104, 125),
        "m1": (66, 71, 82, 97, 115),
        "m2": (68, 76, 91, 109, 132),
        "m3": (73, 76, 90, 106, 126),
        "m4": (68, 73, 79, 93, 110),
        "m6": (70, 75, 88, 106, 126),
        "m7": (76, 78, 88, 104, 122),
        "f1": (112, 133, 157, 188, 225),
        "f2": (122, 142, 167, 199, 236),
        "f3": (130, 151, 175, 206, 243),
        "f4": (113, 133, 158, 189, 227),
        "f5": (130, 153, 181, 217, 259),
    },
}

# Piper: the bundled en_US-joe-medium voice, median pitch measured the same way on the
# English calibration text; shifts move it by resampling (see `storyreel_tts.piper_speech`).
PIPER_VOICE = "joe"
PIPER_HZ = 84.0
PIPER_SHIFTS_ST: tuple[float, ...] = (-3.5, 2.5, 4.5)  # 2 semitones apart, below ~125 Hz
# Piper alone (the `piper` provider, no eSpeak): its one voice is a man's, so women are joe
# raised into the female band (about 150-190 Hz): audibly raised, but apart from every man.
PIPER_FEMALE_SHIFTS_ST: tuple[float, ...] = (10.0, 12.0, 14.0)


def espeak_hz(language: Language, variant: str, pitch: int) -> float:
    """The median pitch (Hz) of eSpeak `variant` at pitch parameter `pitch` in `language`.

    Interpolated in log-frequency between the measured points of `ESPEAK_PITCH_HZ` (clamped
    at its ends). Raises KeyError for a variant the table does not know.
    """
    points = ESPEAK_PITCH_HZ[language][variant]
    if pitch <= ESPEAK_PITCHES[0]:
        return float(points[0])
    if pitch >= ESPEAK_PITCHES[-1]:
        return float(points[-1])
    for i in range(len(ESPEAK_PITCHES) - 1):
        lo, hi = ESPEAK_PITCHES[i], ESPEAK_PITCHES[i + 1]
        if lo <= pitch <= hi:
            t = (pitch - lo) / (hi - lo)
            return float(math.exp((1 - t) * math.log(points[i]) + t * math.log(points[i + 1])))
    raise AssertionError("unreachable")


def _st(a: float, b: float) -> float:
    return abs(12.0 * math.log2(a / b))


@dataclass(frozen=True)
class Voice:
    """Everything the offline engines need to speak as one person.

    `engine` "espeak": `variant`, `pitch` and `range` (eSpeak's 0-99 scales) and `rate`
    (words per minute). `engine` "piper": `shift` in semitones and `rate` (pace relative to
    RATE_BASE words per minute). `hz` is the expected median pitch, for casting and checks.
    """

    id: str
    language: Language
    espeak_name: str
    variant: str
    pitch: int
    rate: int
    range: int
    engine: Engine = "espeak"
    shift: float = 0.0
    hz: float = 0.0

    def __post_init__(self) -> None:
        for name in ("pitch", "range"):
            value = getattr(self, name)
            if not 0 <= value <= 99:
                raise ValueError(f"voice {name} must be 0-99, got {value}")
        if self.rate <= 0:
            raise ValueError(f"voice rate must be positive, got {self.rate}")

    @property
    def espeak_voice_name(self) -> str:
        """The name eSpeak selects, e.g. "cmn+f3", or "en-us" for the plain voice."""
        return f"{self.espeak_name}+{self.variant}" if self.variant else self.espeak_name


@dataclass(frozen=True)
class Timbre:
    """A catalogue entry: a voice colour (engine, variant and prosody)."""

    id: str
    gender: Gender
    variant: str
    pitch: int
    rate: int
    range: int
    description: str
    language: Language | None = None  # None: speaks every story language
    engine: Engine = "espeak"
    shift: float = 0.0

    def voice(self, language: Language) -> Voice:
        """This colour speaking `language`."""
        if self.engine == "piper":
            return Voice(
                id=self.id,
                language=language,
                espeak_name=ESPEAK_LANGUAGE[language],
                variant="",
                pitch=50,
                rate=self.rate,
                range=50,
                engine="piper",
                shift=self.shift,
                hz=PIPER_HZ * 2 ** (self.shift / 12),
            )
        return Voice(
            id=self.id,
            language=language,
            espeak_name=ESPEAK_LANGUAGE[language],
            variant=self.variant,
            pitch=self.pitch,
            rate=self.rate,
            range=self.range,
            hz=espeak_hz(language, self.variant, self.pitch),
        )


NARRATORS: dict[Language, Timbre] = {
    "zh": Timbre(
        "narrator-zh",
        "male",
        "",
        45,
        160,
        40,
        "Mandarin narrator: calm, even male voice (eSpeak NG)",
        "zh",
    ),
    "en": Timbre(
        "narrator-en",
        "male",
        "",
        50,
        RATE_BASE,
        50,
        "English narrator: Piper neural voice en_US-joe-medium",
        "en",
        engine="piper",
    ),
}

# The narrators when only eSpeak speaks (the `espeak` provider, or Piper unavailable).
ESPEAK_NARRATORS: dict[Language, Timbre] = {
    "zh": NARRATORS["zh"],
    "en": Timbre(
        "narrator-en",
        "male",
        "",
        45,
        165,
        45,
        "English narrator: calm, even male voice (eSpeak NG)",
        "en",
    ),
}

FEMALE_TIMBRES: tuple[Timbre, ...] = (
    Timbre("female-1", "female", "f1", 50, 165, 50, "Female, warm mid pitch"),
    Timbre("female-2", "female", "f2", 50, 165, 50, "Female, bright"),
    Timbre("female-3", "female", "f3", 50, 165, 50, "Female, high and breathy"),
    Timbre("female-4", "female", "f4", 50, 165, 50, "Female, clear and even"),
    Timbre("female-5", "female", "f5", 50, 165, 50, "Female, soft and airy"),
)
MALE_TIMBRES: tuple[Timbre, ...] = (
    Timbre("male-1", "male", "m1", 50, 165, 50, "Male, low and rough"),
    Timbre("male-2", "male", "m2", 50, 165, 50, "Male, plain mid pitch"),
    Timbre("male-3", "male", "m3", 50, 165, 50, "Male, wide intonation"),
    Timbre("male-4", "male", "m4", 50, 165, 50, "Male, deep"),
    Timbre("male-6", "male", "m6", 50, 165, 50, "Male, brisk"),
    Timbre("male-7", "male", "m7", 50, 165, 50, "Male, expressive"),
)
PIPER_TIMBRES: tuple[Timbre, ...] = (
    Timbre(
        PIPER_VOICE,
        "male",
        "",
        50,
        RATE_BASE,
        50,
        "Piper en_US-joe-medium: neural male voice (English only)",
        "en",
        engine="piper",
    ),
)
TIMBRES: dict[str, Timbre] = {
    t.id: t for t in (*NARRATORS.values(), *PIPER_TIMBRES, *FEMALE_TIMBRES, *MALE_TIMBRES)
}

_CAST_ID = re.compile(
    r"^(?P<timbre>[a-z0-9-]+)(?:/p(?P<pitch>\d{1,2})|/st(?P<shift>[+-]\d{1,2}\.\d))?$"
)


def catalogue(language: Language | None = None, engine: Engine | None = None) -> list[Timbre]:
    """The catalogue's timbres that can speak `language` (all with None), on `engine`."""
    return [
        t
        for t in TIMBRES.values()
        if (language is None or t.language in (None, language))
        and (engine is None or t.engine == engine)
    ]


def list_voices(language: Language | None = None) -> list[dict[str, str]]:
    """The built-in catalogue, for `GET /voices`.

    Each entry has `id`, `language` ("zh", "en", or "any" for a voice colour that speaks
    every story language), `gender` and `description`. With `language`, only the voices
    that can narrate that language are listed.
    """
    return [
        {
            "id": t.id,
            "language": t.language or "any",
            "gender": t.gender,
            "description": t.description,
        }
        for t in catalogue(language)
    ]


def resolve_voice(voice_id: str, language: Language) -> Voice:
    """The `Voice` a catalogue or cast id names, speaking `language`.

    Accepts a catalogue id (`female-2`), a cast id (`female-2/p45`, `joe/st+3.0`), and any
    narrator id (`NARRATOR_IDS`) as "the narrator of `language`". Raises `ValidationFailed` (field
    `voice`) naming the catalogue for anything else, or for a voice that cannot speak
    `language` (Piper's voice is English only).
    """
    key = voice_id.strip().lower()
    if key in NARRATOR_IDS:
        return NARRATORS[language].voice(language)
    match = _CAST_ID.match(key)
    timbre = TIMBRES.get(match.group("timbre")) if match else None
    if match is None or timbre is None or timbre.language not in (None, language):
        known = ", ".join(t.id for t in catalogue(language))
        raise ValidationFailed(
            f"unknown voice {voice_id!r} for language {language!r}; available: {known}",
            field="voice",
        )
    voice = timbre.voice(language)
    if match.group("pitch") is not None and voice.engine == "espeak":
        pitch = int(match.group("pitch"))
        voice = replace(voice, id=key, pitch=pitch, hz=espeak_hz(language, voice.variant, pitch))
    elif match.group("shift") is not None and voice.engine == "piper":
        shift = float(match.group("shift"))
        voice = replace(voice, id=key, shift=shift, hz=PIPER_HZ * 2 ** (shift / 12))
    return voice


def narrator_voice(
    language: Language, preference: str | None = None, *, piper: bool = True
) -> Voice:
    """The narrator for a story in `language`: the preference when given, else the default.

    "narrator", "narrator-zh" and "narrator-en" mean "the narrator", in the story's language.
    An unknown id raises `ValidationFailed` naming the catalogue: a request that asks for a
    voice gets it or a clear 400, never a substitute.
    """
    if (preference or "").strip().lower() in ("", *NARRATOR_IDS):
        return (NARRATORS if piper else ESPEAK_NARRATORS)[language].voice(language)
    voice = resolve_voice(preference or "", language)
    if voice.engine == "piper" and not piper:
        known = ", ".join(t.id for t in catalogue(language, "espeak"))
        raise ValidationFailed(
            f"voice {preference!r} needs Piper; eSpeak voices: {known}", field="voice"
        )
    return voice


def _digest(character_id: str) -> int:
    """A stable 256-bit number per character id (unlike `hash()`, same in every process)."""
    return int.from_bytes(hashlib.sha256(character_id.encode("utf-8")).digest(), "big")


def character_gender(character: Character) -> Literal["male", "female"]:
    """The voice family: the character's gender, or a stable coin flip of its id."""
    if character.gender in ("male", "female"):
        return character.gender
    return "female" if _digest(character.id) & 1 else "male"


def _candidates(
    gender: Literal["male", "female"],
    language: Language,
    digest: int,
    piper: bool = True,
    espeak: bool = True,
) -> list[Voice]:
    """Every voice the character could take, its hashed preference first."""
    rate = RATE_BASE - RATE_SPREAD + (digest >> 32) % (2 * RATE_SPREAD + 1)
    voice_range = RANGE_MIN + (digest >> 48) % RANGE_SPAN
    options: list[Voice] = []
    shifts = PIPER_SHIFTS_ST if gender == "male" or espeak else PIPER_FEMALE_SHIFTS_ST
    if language == "en" and piper and (gender == "male" or not espeak):
        for shift in shifts:
            options.append(
                Voice(
                    id=f"{PIPER_VOICE}/st{shift:+.1f}",
                    language=language,
                    espeak_name=ESPEAK_LANGUAGE[language],
                    variant="",
                    pitch=50,
                    rate=rate,
                    range=50,
                    engine="piper",
                    shift=shift,
                    hz=PIPER_HZ * 2 ** (shift / 12),
                )
            )
    if not espeak:
        return options
    pool = FEMALE_TIMBRES if gender == "female" else MALE_TIMBRES
    # Women stay above and men below the band where the two overlap (about 125-135 Hz).
    pitches = ESPEAK_PITCHES[1:] if gender == "female" else ESPEAK_PITCHES[:-1]
    for timbre in pool:
        for pitch in pitches:
            options.append(
                Voice(
                    id=f"{timbre.id}/p{pitch}",
                    language=language,
                    espeak_name=ESPEAK_LANGUAGE[language],
                    variant=timbre.variant,
                    pitch=pitch,
                    rate=rate,
                    range=voice_range,
                    hz=espeak_hz(language, timbre.variant, pitch),
                )
            )
    # Piper first (neural, like the English narrator), then eSpeak; each rotated by the hash.
    neural = [v for v in options if v.engine == "piper"]
    rest = [v for v in options if v.engine != "piper"]

    def rotated(voices: list[Voice]) -> list[Voice]:
        start = (digest >> 8) % len(voices) if voices else 0
        return voices[start:] + voices[:start]

    return rotated(neural) + rotated(rest)


def _character_voice(
    character: Character,
    language: Language,
    taken: list[Voice],
    piper: bool = True,
    espeak: bool = True,
) -> Voice:
    """The first candidate that keeps the cast apart, relaxing the gap in three passes; a
    cast with more characters of one gender than voices shares its preferred one."""
    digest = _digest(character.id)
    options = _candidates(character_gender(character), language, digest, piper, espeak)
    taken_ids = {v.id for v in taken}
    for gap in (MIN_GAP_ST, FALLBACK_GAP_ST, 0.0):
        for voice in options:
            if voice.id in taken_ids:
                continue
            if all(_st(voice.hz, other.hz) >= gap for other in taken):
                return voice
    # More characters of one gender than distinct voices (20 each): share, and say so.
    log.warning("tts.casting.voice_shared", character_id=character.id, voice=options[0].id)
    return options[0]


def cast_voices(
    characters: Sequence[Character],
    language: Language,
    *,
    narrator: str | None = None,
    piper: bool = True,
    espeak: bool = True,
) -> dict[str, Voice]:
    """Voices for a story: key "narrator" plus one per character id.

    Characters are cast in id order so the result never depends on the caller's order; a
    repeated id is cast once. `piper=False` casts eSpeak voices only (the `espeak`
    provider); `espeak=False` Piper voices only (the `piper` provider: English, women raised
    by `PIPER_FEMALE_SHIFTS_ST`). Raises `ValidationFailed` for an unknown narrator voice, a
    character with the reserved id "narrator", or a language Piper alone cannot speak.
    """
    if not espeak and language != "en":
        raise ValidationFailed(
            f"the piper provider speaks English only, not {language!r}; use the offline"
            " provider (Piper and eSpeak NG)",
            field="audio_provider",
        )
    cast: dict[str, Voice] = {NARRATOR: narrator_voice(language, narrator, piper=piper)}
    if not espeak and cast[NARRATOR].engine != "piper":
        raise ValidationFailed(
            f"voice {narrator!r} is an eSpeak voice; the piper provider has joe and narrator-en",
            field="voice",
        )
    taken = [cast[NARRATOR]]
    unique = {c.id: c for c in characters}
    for character_id in sorted(unique):
        if character_id == NARRATOR:
            raise ValidationFailed(
                f"character id {NARRATOR!r} is reserved for narration", field="characters"
            )
        voice = _character_voice(unique[character_id], language, taken, piper, espeak)
        cast[character_id] = voice
        taken.append(voice)
    return cast


def cast_from_list(
    characters: Sequence[Character],
    voices: Sequence[VoiceInfo],
    language: Language,
    *,
    narrator: str | None = None,
) -> dict[str, str]:
    """Voice ids from a vendor's list: key "narrator" plus one per character id.

    The narrator is `narrator` (which must be in the list: else `ValidationFailed` naming
    the list) or the first male voice for `language`. Each character, in id order, takes the
    first unused voice of its gender (`character_gender`) from a hashed starting point, then
    any unused voice; only when the list is exhausted do voices repeat, least used first.
    """
    usable = [
        v
        for v in voices
        if v.language in ("any", "")
        or v.language.split("-")[0] in (language, "cmn" if language == "zh" else language)
    ] or list(voices)
    if not usable:
        raise ValidationFailed("the provider offers no voices", field="voice")
    ids = [v.id for v in voices]
    wanted = (narrator or "").strip()
    if wanted and wanted.lower() not in NARRATOR_IDS:
        if wanted not in ids:
            raise ValidationFailed(
                f"unknown voice {wanted!r}; available: {', '.join(ids)}", field="voice"
            )
        narrator_id = wanted
    else:
        males = [v.id for v in usable if v.gender == "male"]
        narrator_id = (males or [usable[0].id])[0]
    cast = {NARRATOR: narrator_id}
    used = {narrator_id: 1}
    unique = {c.id: c for c in characters}
    for character_id in sorted(unique):
        if character_id == NARRATOR:
            raise ValidationFailed(
                f"character id {NARRATOR!r} is reserved for narration", field="characters"
            )
        gender = character_gender(unique[character_id])
        digest = _digest(character_id)
        same = [v.id for v in usable if v.gender == gender]
        other = [v.id for v in usable if v.gender != gender]
        if same:
            start = (digest >> 8) % len(same)
            same = same[start:] + same[:start]
        order = same + other
        free = [vid for vid in order if vid not in used]
        choice = free[0] if free else min(order, key=lambda vid: used.get(vid, 0))
        cast[character_id] = choice
        used[choice] = used.get(choice, 0) + 1
    return cast
