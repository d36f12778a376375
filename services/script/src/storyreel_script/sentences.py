"""Quote-aware sentence segmentation for Chinese and English prose.

Scenes are built from whole sentences, and a spoken line must stay in the same sentence as
its attribution (`小红笑着说：“我们走吧。”`, `"Run!" Anna shouted.`), otherwise the speaker
would be lost. So terminators inside quotes never split, and a closing quote only ends a
sentence when no speech verb follows it.
"""

from __future__ import annotations

import re

from storyreel_core.drama_models import Language

ZH_TERMINATORS = frozenset("。！？；!?;…")
EN_TERMINATORS = frozenset(".!?…")
OPEN_QUOTES = frozenset("“「『《")
CLOSE_QUOTES = frozenset("”」』》")
STRAIGHT_QUOTE = '"'
TRAILING_CLOSERS = frozenset("”」』）)]’'\"")

ZH_SPEECH_VERB = re.compile(r"说|问|喊|答|嚷|吼|叫|道|低语|喃喃|嘀咕")
EN_SPEECH_VERB = re.compile(
    r"\b(said|says|say|asked|asks|replied|replies|shouted|shouts|whispered|whispers|cried|"
    r"cries|answered|answers|called|calls|yelled|yells|muttered|mutters|added|adds|"
    r"exclaimed|murmured|murmurs|told|tells|sighed|laughed|snapped|growled|began|continued|"
    r"insisted|screamed|demanded|pleaded|warned|begged|breathed|hissed|agreed)\b",
    re.IGNORECASE,
)
EN_ABBREVIATIONS = frozenset(
    {"mr", "mrs", "ms", "dr", "st", "jr", "sr", "prof", "vs", "etc", "mt", "no", "capt", "gen"}
)

# Attribution clauses are short; a long clause after a quote is new narration.
_MAX_ZH_ATTRIBUTION = 14
_MAX_EN_ATTRIBUTION_WORDS = 8


def is_speech_clause(clause: str, language: Language) -> bool:
    """Whether `clause` reads like `小红说` / `said Anna`: short and holding a speech verb."""
    clause = clause.strip()
    if not clause:
        return False
    if language == "zh":
        return len(clause) <= _MAX_ZH_ATTRIBUTION and bool(ZH_SPEECH_VERB.search(clause))
    words = clause.split()
    return len(words) <= _MAX_EN_ATTRIBUTION_WORDS and bool(EN_SPEECH_VERB.search(clause))


def split_sentences(paragraph: str, language: Language) -> list[str]:
    """Split one paragraph into sentences, keeping quotes and their attributions together."""
    text = paragraph.strip()
    if not text:
        return []
    terminators = ZH_TERMINATORS if language == "zh" else EN_TERMINATORS
    sentences: list[str] = []
    start = 0
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in OPEN_QUOTES or (ch == STRAIGHT_QUOTE and depth == 0):
            depth += 1
            i += 1
            continue
        if ch in CLOSE_QUOTES or (ch == STRAIGHT_QUOTE and depth > 0):
            depth = max(0, depth - 1)
            i += 1
            ends_sentence = depth == 0 and i >= 2 and text[i - 2] in terminators
            if ends_sentence and not _attribution_follows(text, i, language):
                sentences.append(text[start:i])
                start = i
            continue
        if depth == 0 and ch in terminators:
            j = i + 1
            while j < n and (text[j] in terminators or text[j] in TRAILING_CLOSERS - {'"'}):
                j += 1
            if language == "en" and not _english_boundary(text, i, j):
                i = j
                continue
            sentences.append(text[start:j])
            start = j
            i = j
            continue
        i += 1
    if start < n:
        sentences.append(text[start:])
    return [s.strip() for s in sentences if _has_words(s)]


def _attribution_follows(text: str, index: int, language: Language) -> bool:
    """Look past a closing quote: does a speech clause (`老张喊道`, `he said`) come next?"""
    rest = text[index:]
    if language == "en":
        stripped = rest.lstrip()
        if stripped[:1].islower():
            return True
        clause = re.split(r'[.!?;:,"“”]', rest, maxsplit=1)[0]
    else:
        clause = re.split(r"[。！？；!?;，,：:“”「」…]", rest, maxsplit=1)[0]
    return is_speech_clause(clause, language)


def _english_boundary(text: str, term_index: int, after: int) -> bool:
    """An English terminator ends a sentence only before whitespace/end and not after `Mr`."""
    if after < len(text) and not text[after].isspace():
        return False
    if text[term_index] == ".":
        word = re.search(r"([A-Za-z]+)$", text[:term_index])
        if word and word.group(1).lower() in EN_ABBREVIATIONS:
            return False
        if word and len(word.group(1)) == 1 and word.group(1).isupper():
            return False  # an initial such as "J. Smith"
    return True


def _has_words(sentence: str) -> bool:
    return bool(re.search(r"[\w\u4e00-\u9fff]", sentence))
