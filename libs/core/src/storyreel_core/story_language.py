"""Which of the two languages StoryReel speaks a story is in, decided in one place for every
service that must pick a voice or a prompt for it (the gateway, tts)."""

from __future__ import annotations

from storyreel_core.drama_models import Language


def story_language(text: str, language: str = "") -> Language:
    """`language` when it names Chinese ("zh", "zh-CN", "cmn…") or English ("en", "en-US", …);
    otherwise "zh" if `text` has a CJK ideograph (U+4E00–U+9FFF, the unified block), else "en".

    One ideograph is enough: the callers speak or prompt in the story's language, and a
    Chinese story with English names in it must still be read as Chinese.
    """
    if language.startswith(("zh", "cmn")):
        return "zh"
    if language.startswith("en"):
        return "en"
    return "zh" if any("\u4e00" <= ch <= "\u9fff" for ch in text) else "en"
