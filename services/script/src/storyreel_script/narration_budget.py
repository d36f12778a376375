"""Keep a scene's narration short enough to be spoken over one or two shots.

A vertical short drama gives each scene a few seconds; about 60 Chinese characters or 30
English words is what a narrator can read in that time. Long chapters are condensed by
keeping whole sentences in order while they fit, and trimming at clause breaks otherwise.
"""

from __future__ import annotations

import re

from storyreel_core.drama_models import Language
from storyreel_script.language import text_length

ZH_NARRATION_BUDGET = 60  # CJK characters
EN_NARRATION_BUDGET = 30  # words
ZH_SUMMARY_BUDGET = 40
EN_SUMMARY_BUDGET = 20

_ZH_CLAUSE = re.compile(r"(?<=[，,；;、：:])")
_EN_CLAUSE = re.compile(r"(?<=[,;:])\s+")


def budget_for(language: Language) -> int:
    return ZH_NARRATION_BUDGET if language == "zh" else EN_NARRATION_BUDGET


def condense(sentences: list[str], language: Language, budget: int | None = None) -> str:
    """Join sentences in story order, skipping ones that no longer fit in the budget."""
    limit = budget if budget is not None else budget_for(language)
    kept: list[str] = []
    used = 0
    for sentence in sentences:
        sentence = sentence.strip()
        if not sentence:
            continue
        size = text_length(sentence, language)
        if used + size <= limit:
            kept.append(sentence)
            used += size
        elif not kept:
            kept.append(shorten(sentence, language, limit))
            used = limit
    return ("" if language == "zh" else " ").join(kept)


def shorten(text: str, language: Language, limit: int) -> str:
    """Cut `text` to `limit` units at a clause break if possible, else hard, marking the cut."""
    text = text.strip()
    if text_length(text, language) <= limit:
        return text
    splitter = _ZH_CLAUSE if language == "zh" else _EN_CLAUSE
    clauses = [c for c in splitter.split(text) if c]
    kept = ""
    for clause in clauses:
        candidate = kept + clause if language == "zh" else f"{kept} {clause}".strip()
        if text_length(candidate, language) > limit:
            break
        kept = candidate
    if kept:
        kept = kept.rstrip("，,；;、：: ")
        return kept + ("。" if language == "zh" else ".")
    if language == "zh":
        out = ""
        count = 0
        for ch in text:
            if count >= limit:
                break
            out += ch
            count += text_length(ch, language)
        return out + "…"
    return " ".join(text.split()[:limit]) + "…"
