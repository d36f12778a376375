"""Shorten a line of text where space is short: scene summaries and labels, never speech.

What is spoken is never cut: every sentence of a story is narrated whole (see
`screenwriter`). Summaries (shown in lists and image prompts) keep to about 40 Chinese
characters or 20 English words, cut at a clause break when one fits, and say so with a mark.
"""

from __future__ import annotations

import re

from storyreel_core.drama_models import Language
from storyreel_script.language import text_length

ZH_SUMMARY_BUDGET = 40  # CJK characters
EN_SUMMARY_BUDGET = 20  # words

_ZH_CLAUSE = re.compile(r"(?<=[，,；;、：:])")
_EN_CLAUSE = re.compile(r"(?<=[,;:])\s+")


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
