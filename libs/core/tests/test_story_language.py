"""The one rule for a story's language (the gateway's persona prompt, tts' voice)."""

from __future__ import annotations

import pytest

from storyreel_core.story_language import story_language


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("The lighthouse keeper found a letter.", "", "en"),
        ("灯塔看守人发现了一封信。", "", "zh"),
        ("Lin Xia 在灯塔里 found a letter from Chen Mo.", "", "zh"),  # one ideograph is enough
        ("ひらがなだけ", "", "en"),  # kana are not in the ideograph block
        ("灯塔看守人", "en-US", "en"),  # a named language wins over the text
        ("The keeper", "zh-CN", "zh"),
        ("The keeper", "cmn", "zh"),
        ("The keeper", "fr", "en"),  # another language: decided by the text
    ],
)
def test_story_language(text: str, language: str, expected: str) -> None:
    assert story_language(text, language) == expected
