"""Pull quoted speech out of a sentence, with the clause that says who spoke it.

Narration is read by a narrator voice and dialogue by character voices, so a sentence such
as `小红笑着说：“我们走吧。”` must become a spoken line for 小红 and no narration at all,
while `“快跑！”老张喊道，转身冲进黑暗。` keeps `转身冲进黑暗。` as narration.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from storyreel_core.drama_models import Language
from storyreel_script.sentences import is_speech_clause

_QUOTE = re.compile(r"“([^”]*)”|「([^」]*)」|『([^』]*)』|\"([^\"]*)\"")
_ZH_CLAUSE_BREAK = re.compile(r"[。！？；!?;，,…]")
# A full stop after a title ("said Mr. Smith") does not end the attribution clause.
_EN_CLAUSE_BREAK = re.compile(r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)[.!?;,…]")
_EDGE_PUNCT = " \t，,：:；;。.、\u3000—-"


@dataclass
class Quote:
    """One quoted line; `attribution` is the speech clause naming the speaker, if any."""

    text: str
    attribution: str = ""


@dataclass
class SentenceParts:
    """A sentence split into what the narrator reads and what characters say."""

    narration: str
    quotes: list[Quote] = field(default_factory=list)
    # The narration lost its subject with the attribution (`老张喊道，转身…`): prefix the speaker.
    narration_needs_subject: bool = False


def split_dialogue(sentence: str, language: Language) -> SentenceParts:
    """Separate quoted speech (and its attribution clauses) from narration in one sentence."""
    matches = list(_QUOTE.finditer(sentence))
    if not matches:
        return SentenceParts(narration=sentence.strip())
    breaker = _ZH_CLAUSE_BREAK if language == "zh" else _EN_CLAUSE_BREAK
    quotes: list[Quote] = []
    removed: list[tuple[int, int]] = []
    needs_subject = False
    for index, match in enumerate(matches):
        content = next(g for g in match.groups() if g is not None).strip()
        prev_end = matches[index - 1].end() if index else 0
        next_start = matches[index + 1].start() if index + 1 < len(matches) else len(sentence)

        before = sentence[prev_end : match.start()]
        before_clause_start = _last_break(before, breaker)
        before_clause = before[before_clause_start:]
        after = sentence[match.end() : next_start]
        after_clause_end = _first_break(after, breaker)
        after_clause = after[:after_clause_end]

        attribution = ""
        if is_speech_clause(before_clause.strip(_EDGE_PUNCT), language):
            attribution = before_clause.strip(_EDGE_PUNCT)
            removed.append((prev_end + before_clause_start, match.start()))
        elif is_speech_clause(after_clause.strip(_EDGE_PUNCT), language):
            attribution = after_clause.strip(_EDGE_PUNCT)
            removed.append((match.end(), match.end() + after_clause_end))
            tail = after[after_clause_end:].strip(_EDGE_PUNCT + "。.!?！？")
            if tail:
                needs_subject = True
        removed.append((match.start(), match.end()))
        if content and _has_words(content):
            quotes.append(Quote(text=_close_line(content, language), attribution=attribution))

    narration = _remove_spans(sentence, removed)
    return SentenceParts(
        narration=_tidy(narration, language), quotes=quotes, narration_needs_subject=needs_subject
    )


def _last_break(text: str, breaker: re.Pattern[str]) -> int:
    position = 0
    for found in breaker.finditer(text):
        # A clause break right at the end (`小红说，“…”`) belongs to the attribution itself.
        if text[found.end() :].strip(_EDGE_PUNCT):
            position = found.end()
    return position


def _first_break(text: str, breaker: re.Pattern[str]) -> int:
    found = breaker.search(text)
    return found.start() if found else len(text)


def _remove_spans(text: str, spans: list[tuple[int, int]]) -> str:
    keep = [True] * len(text)
    for start, end in spans:
        for i in range(start, min(end, len(text))):
            keep[i] = False
    return "".join(ch for ch, kept in zip(text, keep, strict=True) if kept)


def _tidy(text: str, language: Language) -> str:
    """Clean punctuation left dangling where quotes were cut out."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^[，,：:；;、。.!?！？\s—-]+", "", text)
    if language == "zh":
        text = re.sub(r"([，,：:；;、])+([。！？])", r"\2", text)
        text = re.sub(r"[，,：:；;、]+$", "。", text)
    else:
        text = re.sub(r"\s+([,.;:!?])", r"\1", text)
        text = re.sub(r"([,;:])+([.!?])", r"\2", text)
        text = re.sub(r"[,;:]+$", ".", text)
    if not _has_words(text):
        return ""
    return text


def _close_line(text: str, language: Language) -> str:
    """`"You're late,"` is a whole line once spoken: end it with a full stop, not a comma."""
    trimmed = text.rstrip("，,；;：:、 —-")
    if trimmed == text:
        return text
    return trimmed + ("。" if language == "zh" else ".")


def _has_words(text: str) -> bool:
    return bool(re.search(r"[\w\u4e00-\u9fff]", text))
