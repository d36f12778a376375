"""Casting: every speaker gets a voice of its own, the same one every time."""

from __future__ import annotations

import itertools
import math

import pytest

from storyreel_core.drama_models import Character
from storyreel_core.errors import ValidationFailed
from storyreel_tts.voice_casting import (
    MIN_GAP_ST,
    NARRATOR,
    Voice,
    cast_voices,
    list_voices,
    narrator_voice,
)

HERO = Character(id="char-hero", name="李明", gender="male")
HEROINE = Character(id="char-heroine", name="林雪", gender="female")
STRANGER = Character(id="char-stranger", name="陌生人")  # gender unknown


def test_narrator_and_characters_get_distinct_voices() -> None:
    cast = cast_voices([HERO, HEROINE], "zh")
    assert set(cast) == {NARRATOR, HERO.id, HEROINE.id}
    assert len(set(cast.values())) == 3
    assert all(v.language == "zh" and v.espeak_name == "cmn" for v in cast.values())


def test_gender_picks_the_variant_family() -> None:
    cast = cast_voices([HERO, HEROINE, STRANGER], "en")
    assert cast[HERO.id].engine == "piper" or cast[HERO.id].variant.startswith("m")
    assert cast[HEROINE.id].variant.startswith("f")
    assert cast[STRANGER.id].engine == "piper" or cast[STRANGER.id].variant[0] in "mf"
    assert cast[NARRATOR].espeak_name == "en-us"
    zh = cast_voices([HERO, HEROINE], "zh")
    assert zh[HERO.id].variant.startswith("m") and zh[HEROINE.id].variant.startswith("f")


def test_casting_is_stable_across_calls_and_orders() -> None:
    first = cast_voices([HERO, HEROINE, STRANGER], "zh")
    assert cast_voices([HERO, HEROINE, STRANGER], "zh") == first
    assert cast_voices([STRANGER, HEROINE, HERO], "zh") == first
    assert cast_voices([HEROINE, HERO, HERO, STRANGER], "zh") == first  # repeats cast once


def test_a_character_keeps_its_voice_in_either_language_apart_from_the_accent() -> None:
    zh, en = cast_voices([HEROINE], "zh")[HEROINE.id], cast_voices([HEROINE], "en")[HEROINE.id]
    assert (zh.variant, zh.pitch, zh.rate, zh.range) == (en.variant, en.pitch, en.rate, en.range)


def test_no_two_characters_share_a_voice_even_in_a_crowd() -> None:
    crowd = [
        Character(id=f"char-{i}", name=str(i), gender=("male", "female", "unknown")[i % 3])
        for i in range(24)
    ]
    cast = cast_voices(crowd, "en")
    assert len({v.id for v in cast.values()}) == 25
    assert len(cast_voices(crowd * 3, "zh")) == 25


def test_small_casts_keep_the_pitch_gap() -> None:
    sisters = [Character(id=f"sister-{i}", name=str(i), gender="female") for i in range(5)]
    cast = cast_voices(sisters, "zh")
    pitches = sorted(v.hz for v in cast.values())
    gaps = [12 * math.log2(b / a) for a, b in itertools.pairwise(pitches)]
    assert min(gaps) >= MIN_GAP_ST


def test_characters_avoid_a_catalogue_narrator() -> None:
    sisters = [Character(id=f"sister-{i}", name=str(i), gender="female") for i in range(4)]
    cast = cast_voices(sisters, "en", narrator="female-1")
    assert cast[NARRATOR].variant == "f1"
    assert all(
        abs(12 * math.log2(cast[s.id].hz / cast[NARRATOR].hz)) >= MIN_GAP_ST for s in sisters
    )


def test_narrator_preferences() -> None:
    assert narrator_voice("zh").id == "narrator-zh"
    assert narrator_voice("en").id == "narrator-en"
    # A narrator id always reads in the story's language.
    assert narrator_voice("zh", "narrator-en") == narrator_voice("zh")
    female = narrator_voice("en", "female-1")
    assert (female.variant, female.language, female.espeak_name) == ("f1", "en", "en-us")
    assert narrator_voice("zh", "MALE-2").variant == "m2"


@pytest.mark.parametrize("name", ["", "  ", "narrator"])
def test_no_preference_is_the_default_narrator(name: str) -> None:
    assert narrator_voice("zh", name) == narrator_voice("zh")
    assert cast_voices([HERO], "en", narrator=name)[NARRATOR] == narrator_voice("en")


@pytest.mark.parametrize("name", ["cosyvoice-mini", "zh-CN-XiaoxiaoNeural", "narrator-fr"])
def test_unknown_preference_is_refused_naming_the_catalogue(name: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        cast_voices([HERO], "zh", narrator=name)
    assert "narrator-zh" in caught.value.message and caught.value.field == "voice"


def test_english_narrator_is_piper_and_male_characters_may_be_too() -> None:
    assert narrator_voice("en").engine == "piper"
    assert narrator_voice("en", piper=False).engine == "espeak"
    assert narrator_voice("zh").engine == "espeak"
    cast = cast_voices([HERO, HEROINE], "en", piper=False)
    assert all(v.engine == "espeak" for v in cast.values())


def test_piper_alone_casts_only_piper_voices_with_women_raised_apart_from_the_men() -> None:
    """The `piper` provider has no eSpeak: every voice is joe, a woman's raised into the
    female band, and a story it cannot speak is refused before any line is synthesised."""
    cast = cast_voices([HERO, HEROINE, STRANGER], "en", espeak=False)
    assert all(v.engine == "piper" for v in cast.values())
    assert len({v.id for v in cast.values()}) == 4
    assert cast[HEROINE.id].hz > 140 > cast[HERO.id].hz
    assert cast[NARRATOR].hz < 125
    with pytest.raises(ValidationFailed, match="English only"):
        cast_voices([HERO], "zh", espeak=False)
    with pytest.raises(ValidationFailed, match="eSpeak voice"):
        cast_voices([HERO], "en", narrator="female-2", espeak=False)


def test_list_voices_describes_the_catalogue() -> None:
    voices = list_voices()
    ids = [v["id"] for v in voices]
    assert len(ids) == len(set(ids))
    assert {"narrator-zh", "narrator-en", "female-1", "male-1"} <= set(ids)
    for entry in voices:
        assert set(entry) == {"id", "language", "gender", "description"}
        assert entry["language"] in {"zh", "en", "any"}
        assert entry["gender"] in {"male", "female"}
        assert entry["description"]
        # Every listed id is accepted as a preference.
        assert narrator_voice("en", entry["id"]).language == "en"
    zh_ids = {v["id"] for v in list_voices("zh")}
    assert "narrator-zh" in zh_ids and "narrator-en" not in zh_ids and "female-1" in zh_ids


def test_voice_validates_its_ranges() -> None:
    with pytest.raises(ValueError):
        Voice(id="x", language="en", espeak_name="en-us", variant="", pitch=120, rate=160, range=50)
    with pytest.raises(ValueError):
        Voice(id="x", language="en", espeak_name="en-us", variant="", pitch=50, rate=0, range=50)
    assert narrator_voice("en", "female-3").espeak_voice_name == "en-us+f3"
    assert narrator_voice("zh").espeak_voice_name == "cmn"


def test_narrator_is_a_reserved_character_id() -> None:
    with pytest.raises(ValidationFailed):
        cast_voices([Character(id=NARRATOR, name="Narrator")], "en")
