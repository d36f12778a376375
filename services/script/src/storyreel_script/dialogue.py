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
class Piece:
    """One beat of a sentence in text order: narration (`quote` None) or a quoted line.

    `needs_subject` marks narration that lost its subject with an attribution clause
    (`“快跑！”老张喊道，转身冲进黑暗。` → `转身冲进黑暗。`): the speaker's name goes in front.
    """

    text: str
    quote: Quote | None = None
    needs_subject: bool = False


@dataclass
class SentenceParts:
    """A sentence split into what the narrator reads and what characters say.

    `pieces` keeps both in the order the sentence has them; `narration` and `quotes` are the
    same words grouped by kind.
    """

    narration: str
    quotes: list[Quote] = field(default_factory=list)
    # The narration lost its subject with the attribution (`老张喊道，转身…`): prefix the speaker.
    narration_needs_subject: bool = False
    pieces: list[Piece] = field(default_factory=list)


def split_dialogue(sentence: str, language: Language) -> SentenceParts:
    """Separate quoted speech (and its attribution clauses) from narration in one sentence."""
    matches = list(_QUOTE.finditer(sentence))
    if not matches:
        text = sentence.strip()
        return SentenceParts(narration=text, pieces=[Piece(text)] if text else [])
    breaker = _ZH_CLAUSE_BREAK if language == "zh" else _EN_CLAUSE_BREAK
    quotes: list[Quote] = []
    removed: list[tuple[int, int]] = []
    needs_subject = False
    # Per quote: the Quote (None for an empty one) and whether narration after it lost its subject.
    spoken: list[tuple[Quote | None, bool]] = []
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
        orphaned = False
        if is_speech_clause(before_clause.strip(_EDGE_PUNCT), language):
            attribution = before_clause.strip(_EDGE_PUNCT)
            removed.append((prev_end + before_clause_start, match.start()))
        elif is_speech_clause(after_clause.strip(_EDGE_PUNCT), language):
            attribution = after_clause.strip(_EDGE_PUNCT)
            removed.append((match.end(), match.end() + after_clause_end))
            tail = after[after_clause_end:].strip(_EDGE_PUNCT + "。.!?！？")
            if tail:
                needs_subject = orphaned = True
        removed.append((match.start(), match.end()))
        quote = None
        if content and _has_words(content):
            quote = Quote(text=_close_line(content, language), attribution=attribution)
            quotes.append(quote)
        spoken.append((quote, orphaned))

    kept = _remove_spans(sentence, removed)
    pieces: list[Piece] = []
    bounds = [0, *(m.end() for m in matches)]
    ends = [*(m.start() for m in matches), len(sentence)]
    for index, (start, end) in enumerate(zip(bounds, ends, strict=True)):
        if index:
            quote, orphaned = spoken[index - 1]
            if quote is not None:
                pieces.append(Piece(quote.text, quote=quote))
        else:
            orphaned = False
        fragment = _tidy(kept[start:end].replace("\0", ""), language)
        if fragment:
            pieces.append(Piece(fragment, needs_subject=orphaned))
    return SentenceParts(
        narration=_tidy(kept.replace("\0", ""), language),
        quotes=quotes,
        narration_needs_subject=needs_subject,
        pieces=pieces,
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
    """`text` with the spans blanked to NUL, so positions still line up with the original."""
    keep = [True] * len(text)
    for start, end in spans:
        for i in range(start, min(end, len(text))):
            keep[i] = False
    return "".join(ch if kept else "\0" for ch, kept in zip(text, keep, strict=True))


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
