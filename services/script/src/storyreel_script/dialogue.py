"""Pull quoted speech out of a sentence, with the clause that says who spoke it.

Narration is read by a narrator voice and dialogue by character voices. Every word of the
sentence is heard once, except a *bare speech tag*: a speaker (name or pronoun, or none) and
a plain verb of saying (`苏梅说：`, `，说：`, `she said.`, `said Anna`). Its only news is who
speaks, and the character's own voice says that. Anything more in the clause is story and
is narrated verbatim: `林晚秋哭着说：“…”` → narrator `林晚秋哭着说：`, then 林晚秋's line;
`“快跑！”老张喊道，转身冲进黑暗。` → the line, then `老张喊道，转身冲进黑暗。` (a tag followed by
more of its sentence stays with it, so the narration keeps its subject).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field

from storyreel_core.drama_models import Language
from storyreel_script.sentences import is_speech_clause

_QUOTE = re.compile(r"“([^”]*)”|「([^」]*)」|『([^』]*)』|\"([^\"]*)\"")
_ZH_CLAUSE_BREAK = re.compile(r"[。！？；!?;，,…]")
# A full stop after a title ("said Mr. Smith") does not end the attribution clause.
_EN_CLAUSE_BREAK = re.compile(r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)[.!?;,…]")
_EDGE_PUNCT = " \t，,：:；;。.、\u3000—-"
# Plain verbs of saying: a clause of a speaker and these alone is a bare tag, carried by the
# voice. Verbs that tell how (喊道, 哭着说, shouted, whispered) are story and stay narrated.
_ZH_BARE_VERB = re.compile(r"回答道?|说道?|问道?|答道?|道")
_EN_BARE_VERB = re.compile(
    r"\b(said|says|say|asked|asks|replied|replies|answered|answers|added|adds|told|tells)\b",
    re.IGNORECASE,
)
_ZH_TAG_PRONOUN = re.compile(r"[我你他她它]们?")
_EN_TAG_PRONOUN = re.compile(r"\b(he|she|they|i|we|you|it)\b", re.IGNORECASE)


@dataclass
class Quote:
    """One quoted line; `attribution` is the speech clause naming the speaker, if any."""

    text: str
    attribution: str = ""


@dataclass
class Piece:
    """One beat of a sentence in text order: narration (`quote` None) or a quoted line."""

    text: str
    quote: Quote | None = None


@dataclass
class SentenceParts:
    """A sentence split into what the narrator reads and what characters say.

    `pieces` keeps both in the order the sentence has them; `narration` and `quotes` are the
    same words grouped by kind.
    """

    narration: str
    quotes: list[Quote] = field(default_factory=list)
    pieces: list[Piece] = field(default_factory=list)


def split_dialogue(sentence: str, language: Language, names: Collection[str] = ()) -> SentenceParts:
    """Separate quoted speech from narration in one sentence, naming each quote's clause.

    `names` are the characters' name forms: with them `苏梅说` is recognised as a bare tag
    (dropped); without them only a pronoun or no subject makes a tag bare. Every other word
    of the sentence is in `pieces`, in order.
    """
    matches = list(_QUOTE.finditer(sentence))
    if not matches:
        text = sentence.strip()
        return SentenceParts(narration=text, pieces=[Piece(text)] if text else [])
    breaker = _ZH_CLAUSE_BREAK if language == "zh" else _EN_CLAUSE_BREAK
    quotes: list[Quote] = []
    removed: list[tuple[int, int]] = []
    spoken: list[Quote | None] = []  # per quote, None for an empty one
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
            if is_bare_tag(attribution, language, names):
                removed.append((prev_end + before_clause_start, match.start()))
        elif is_speech_clause(after_clause.strip(_EDGE_PUNCT), language):
            attribution = after_clause.strip(_EDGE_PUNCT)
            tail = after[after_clause_end:].strip(_EDGE_PUNCT + "。.!?！？")
            if not tail and is_bare_tag(attribution, language, names):
                removed.append((match.end(), match.end() + after_clause_end))
        removed.append((match.start(), match.end()))
        quote = None
        if content and _has_words(content):
            quote = Quote(text=_close_line(content, language), attribution=attribution)
            quotes.append(quote)
        spoken.append(quote)

    kept = _remove_spans(sentence, removed)
    pieces: list[Piece] = []
    bounds = [0, *(m.end() for m in matches)]
    ends = [*(m.start() for m in matches), len(sentence)]
    for index, (start, end) in enumerate(zip(bounds, ends, strict=True)):
        if index:
            quote = spoken[index - 1]
            if quote is not None:
                pieces.append(Piece(quote.text, quote=quote))
        fragment = _tidy(kept[start:end].replace("\0", ""), language)
        if fragment:
            pieces.append(Piece(fragment))
    return SentenceParts(
        narration=_tidy(kept.replace("\0", ""), language), quotes=quotes, pieces=pieces
    )


def is_bare_tag(clause: str, language: Language, names: Collection[str] = ()) -> bool:
    """Whether a speech clause is only a speaker and a plain verb of saying.

    `苏梅说` (with 苏梅 in `names`), `说`, `他问道`, `she said`, `said Anna` → True;
    `林晚秋哭着说`, `Tom smiled and said`, `老张喊道`, `Mara told Tom` → False (they tell more
    than who speaks: how, or to whom).
    """
    rest = clause
    people = 0
    for name in sorted(names, key=len, reverse=True):
        if name:
            people += rest.count(name)
            rest = rest.replace(name, " ")
    verb, pronoun = (
        (_ZH_BARE_VERB, _ZH_TAG_PRONOUN) if language == "zh" else (_EN_BARE_VERB, _EN_TAG_PRONOUN)
    )
    if not verb.search(rest):
        return False
    rest = verb.sub(" ", rest)
    people += len(pronoun.findall(rest))
    return people <= 1 and not _has_words(pronoun.sub(" ", rest))


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
        lead_in = is_speech_clause(_last_clause(text, _ZH_CLAUSE_BREAK), language)
        # `林晚秋哭着说：` leads into her line; other clauses left open end the beat.
        text = re.sub(r"[，,：:；;、]+$", "：" if lead_in else "。", text)
    else:
        text = re.sub(r"\s+([,.;:!?])", r"\1", text)
        text = re.sub(r"([,;:])+([.!?])", r"\2", text)
        lead_in = is_speech_clause(_last_clause(text, _EN_CLAUSE_BREAK), language)
        text = re.sub(r"[,;:]+$", ":" if lead_in else ".", text)  # `Tom smiled and said:`
        text = text[:1].upper() + text[1:]  # `she called, and…` after a quote is a beat of its own
    if not _has_words(text):
        return ""
    return text


def _last_clause(text: str, breaker: re.Pattern[str]) -> str:
    """The clause `text` ends with, when it ends open (with a comma or colon), else ""."""
    if not text or text[-1] not in "，,：:；;、":
        return ""
    body = text.rstrip("，,：:；;、 ")
    return body[_last_break(body + "。", breaker) :] if body else ""


def _close_line(text: str, language: Language) -> str:
    """`"You're late,"` is a whole line once spoken: end it with a full stop, not a comma."""
    trimmed = text.rstrip("，,；;：:、 —-")
    if trimmed == text:
        return text
    return trimmed + ("。" if language == "zh" else ".")


def _has_words(text: str) -> bool:
    return bool(re.search(r"[\w\u4e00-\u9fff]", text))
