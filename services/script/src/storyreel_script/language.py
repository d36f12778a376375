"""Language detection and character-class helpers shared by the screenwriter modules.

The screenwriter treats Chinese and English with different rules (sentence marks, name
finding, reading budgets), so everything starts by deciding which rule set applies.
"""

from __future__ import annotations

import re

from storyreel_core.drama_models import Language

CJK_CHAR = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_LETTER = re.compile(r"[A-Za-z]")
ENGLISH_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")

# A story counts as Chinese once a fifth of its letters are CJK: English names or brand words
# inside a Chinese chapter must not flip it, while a stray 你好 in English prose should not either.
CJK_RATIO_THRESHOLD = 0.2


def cjk_count(text: str) -> int:
    """Number of CJK ideographs; Chinese reading time and budgets are measured in these."""
    return len(CJK_CHAR.findall(text))


def english_word_count(text: str) -> int:
    """Number of Latin words; English reading time and budgets are measured in these."""
    return len(ENGLISH_WORD.findall(text))


def detect_language(text: str) -> Language:
    """Pick "zh" when CJK ideographs make up a real share of the letters, else "en".

    Letters are compared rather than characters so punctuation, digits and spaces do not
    dilute the ratio.
    """
    cjk = cjk_count(text)
    latin = len(LATIN_LETTER.findall(text))
    if cjk == 0:
        return "en"
    # One ideograph carries about as much as a short English word (~4.5 letters).
    ratio = cjk / (cjk + latin / 4.5)
    return "zh" if ratio >= CJK_RATIO_THRESHOLD else "en"


def text_length(text: str, language: Language) -> int:
    """Length in the unit the language is budgeted in: ideographs for zh, words for en."""
    return cjk_count(text) if language == "zh" else english_word_count(text)
