"""Which voice speaks which part: the built-in catalogue, the narrator, and character casting.

A short drama only works if the audience can tell the speakers apart and each one keeps
the same voice from shot to shot. So a character's voice is a pure function of its id
(a SHA-256 hash picks the eSpeak variant, pitch, rate and range) — the same character
sounds the same in every shot, every run and every process, with no state to store.
Within one cast, collisions are resolved deterministically (characters are visited in id
order, never in the order the caller listed them), so no two characters share a
(variant, pitch) and, while there are enough variants, not even a variant.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from storyreel_core.drama_models import Character, Gender, Language
from storyreel_core.errors import ValidationFailed
from storyreel_core.logging import get_logger

log = get_logger(__name__)

NARRATOR = "narrator"  # the speaker key of narration in casts and segments

# eSpeak NG voice names for each story language.
ESPEAK_LANGUAGE: dict[Language, str] = {"zh": "cmn", "en": "en-us"}

# Character prosody is drawn from these windows: wide enough to tell voices apart,
# narrow enough that a female variant never drops below a male one.
PITCH_MIN = 30
PITCH_SPAN = 41  # pitches 30..70; prime, so stepping by PITCH_STEP visits every pitch
PITCH_STEP = 7
MIN_PITCH_GAP = 6  # two characters on one variant must differ at least this much
RATE_BASE = 165
RATE_SPREAD = 10  # characters speak at RATE_BASE ± RATE_SPREAD words per minute
RANGE_MIN = 40
RANGE_SPAN = 31


@dataclass(frozen=True)
class Voice:
    """Everything eSpeak needs to speak as one person.

    `pitch` and `range` are eSpeak's 0-99 scales (relative to the variant's own pitch
    band, so "f3" at 50 is still far above "m2" at 50); `rate` is words per minute.
    """

    id: str
    language: Language
    espeak_name: str
    variant: str
    pitch: int
    rate: int
    range: int

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
    """A catalogue entry: a language-independent voice colour (variant and prosody)."""

    id: str
    gender: Gender
    variant: str
    pitch: int
    rate: int
    range: int
    description: str
    language: Language | None = None  # None: speaks every story language

    def voice(self, language: Language) -> Voice:
        """This colour speaking `language`."""
        return Voice(
            id=self.id,
            language=language,
            espeak_name=ESPEAK_LANGUAGE[language],
            variant=self.variant,
            pitch=self.pitch,
            rate=self.rate,
            range=self.range,
        )


NARRATORS: dict[Language, Timbre] = {
    "zh": Timbre(
        "narrator-zh", "male", "", 45, 160, 40, "Mandarin narrator: calm, even male voice", "zh"
    ),
    "en": Timbre(
        "narrator-en", "male", "", 45, 165, 45, "English narrator: calm, even male voice", "en"
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
TIMBRES: dict[str, Timbre] = {
    t.id: t for t in (*NARRATORS.values(), *FEMALE_TIMBRES, *MALE_TIMBRES)
}


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
        for t in TIMBRES.values()
        if language is None or t.language in (None, language)
    ]


def narrator_voice(language: Language, preference: str | None = None) -> Voice:
    """The narrator for a story in `language`, honouring a catalogue id if one is given.

    Any "narrator-*" id means "the narrator", in the story's language (a Mandarin
    narrator reading English would be garbled). Unknown names — e.g. "cosyvoice-mini"
    saved by an older API that used model voices — fall back to the default narrator
    rather than failing a whole render over a cosmetic choice.
    """
    key = (preference or "").strip().lower()
    if not key or key.startswith("narrator"):
        return NARRATORS[language].voice(language)
    timbre = TIMBRES.get(key)
    if timbre is None:
        log.warning("tts.voice.unknown_preference", preference=preference, language=language)
        return NARRATORS[language].voice(language)
    return timbre.voice(language)


def _digest(character_id: str) -> int:
    """A stable 256-bit number per character id (unlike `hash()`, same in every process)."""
    return int.from_bytes(hashlib.sha256(character_id.encode("utf-8")).digest(), "big")


def _pool(gender: Gender, digest: int) -> tuple[Timbre, ...]:
    if gender == "female":
        return FEMALE_TIMBRES
    if gender == "male":
        return MALE_TIMBRES
    return FEMALE_TIMBRES if digest & 1 else MALE_TIMBRES  # unknown: a stable coin flip


def _candidates(pool: Sequence[Timbre], digest: int) -> Iterator[tuple[Timbre, int]]:
    """Every (timbre, pitch) the character could take, its hashed preference first."""
    first_timbre = (digest >> 8) % len(pool)
    first_pitch = (digest >> 16) % PITCH_SPAN
    for t in range(len(pool)):
        timbre = pool[(first_timbre + t) % len(pool)]
        for p in range(PITCH_SPAN):
            yield timbre, PITCH_MIN + (first_pitch + p * PITCH_STEP) % PITCH_SPAN


def _character_voice(
    character: Character, language: Language, taken: list[tuple[str, int]]
) -> Voice:
    """Pick the first candidate that keeps the cast apart, relaxing in three passes."""
    digest = _digest(character.id)
    pool = _pool(character.gender, digest)
    taken_variants = {variant for variant, _ in taken}

    def pitch_clear(variant: str, pitch: int) -> bool:
        return all(abs(pitch - p) >= MIN_PITCH_GAP for v, p in taken if v == variant)

    passes = (
        lambda v, p: v not in taken_variants and pitch_clear(v, p),  # a variant of its own
        pitch_clear,  # share a variant, but audibly higher or lower
        lambda v, p: (v, p) not in taken,  # last resort: any unused pair
    )
    for acceptable in passes:
        for timbre, pitch in _candidates(pool, digest):
            if acceptable(timbre.variant, pitch):
                rate = RATE_BASE - RATE_SPREAD + (digest >> 32) % (2 * RATE_SPREAD + 1)
                return Voice(
                    id=f"{timbre.id}/p{pitch}",
                    language=language,
                    espeak_name=ESPEAK_LANGUAGE[language],
                    variant=timbre.variant,
                    pitch=pitch,
                    rate=rate,
                    range=RANGE_MIN + (digest >> 48) % RANGE_SPAN,
                )
    raise ValueError(f"cannot give character {character.id!r} a voice of its own")


def cast_voices(
    characters: Sequence[Character], language: Language, *, narrator: str | None = None
) -> dict[str, Voice]:
    """Voices for a story: key "narrator" plus one per character id.

    Characters are cast in id order so the result never depends on the caller's order;
    a repeated id is cast once.
    """
    cast: dict[str, Voice] = {NARRATOR: narrator_voice(language, narrator)}
    taken = [(cast[NARRATOR].variant, cast[NARRATOR].pitch)]
    unique = {c.id: c for c in characters}
    for character_id in sorted(unique):
        if character_id == NARRATOR:
            raise ValidationFailed(
                f"character id {NARRATOR!r} is reserved for narration", field="characters"
            )
        voice = _character_voice(unique[character_id], language, taken)
        cast[character_id] = voice
        taken.append((voice.variant, voice.pitch))
    return cast
