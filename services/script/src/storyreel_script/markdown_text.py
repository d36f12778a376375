"""Turn Markdown (or plain text) into clean prose sections plus an optional title.

Stories arrive as pasted chapters or Markdown documents. Narration is read aloud, so markup
(`#`, `*`, image and link syntax) must never reach the voice; headings are kept as hints of
where one scene ends and the next begins, and the first H1 names the drama. A heading, each
list item and each paragraph are separate paragraphs, so each is read as its own beat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_SETEXT_H1 = re.compile(r"^\s*=+\s*$")
_SETEXT_H2 = re.compile(r"^\s*-+\s*$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_REF_DEF = re.compile(r"^\s*\[[^\]]+\]:\s+\S+.*$")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>]+)>")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_LIST_MARK = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_QUOTE_MARK = re.compile(r"^\s*(?:>\s?)+")
_EMPHASIS = re.compile(r"(\*\*|__|\*|~~|`)")
_UNDERSCORE_EMPHASIS = re.compile(r"(?<!\w)_(\S(?:.*?\S)?)_(?!\w)")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}")
# Plain-text chapter lines ("第一章 荒城", "Chapter One") act like level-2 headings.
_CHAPTER_LINE = re.compile(
    r"^\s*(?:第[一二三四五六七八九十百千零〇两\d]+[章回节幕集卷部]|"
    r"(?:chapter|part|act|scene|prologue|epilogue)\b)[^。！？.!?]{0,30}$",
    re.IGNORECASE,
)


@dataclass
class Section:
    """A run of paragraphs under one heading; `heading` is empty before the first one."""

    heading: str = ""
    paragraphs: list[str] = field(default_factory=list)


@dataclass
class CleanStory:
    """The story with markup removed: an optional H1 title and its sections in order."""

    title: str = ""
    first_heading: str = ""
    sections: list[Section] = field(default_factory=list)

    @property
    def paragraphs(self) -> list[str]:
        return [p for s in self.sections for p in s.paragraphs]


def clean_inline(text: str) -> str:
    """Strip inline markup (images, links, emphasis, HTML) and keep the readable words.

    A link keeps its text; a URL written in the story (bare or `<https://…>`) is part of
    what the author wrote, so it stays and is read and subtitled like any word.
    """
    text = _IMAGE.sub("", text)
    text = _LINK.sub(r"\1", text)
    text = _REF_LINK.sub(r"\1", text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _HTML_TAG.sub("", text)
    text = _UNDERSCORE_EMPHASIS.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    return re.sub(r"[ \t\u3000]+", " ", text).strip()


def parse_story(raw: str) -> CleanStory:
    """Split raw text into sections at headings and into paragraphs at blank lines.

    Plain prose without headings becomes one untitled section, so callers need not care
    whether the author used Markdown.
    """
    story = CleanStory()
    current = Section()
    story.sections.append(current)
    buffer: list[str] = []
    in_fence = False

    def flush() -> None:
        if buffer:
            paragraph = clean_inline(" ".join(buffer) if _is_latin(buffer) else "".join(buffer))
            if paragraph:
                current.paragraphs.append(paragraph)
            buffer.clear()

    def start_section(level: int, heading: str) -> None:
        nonlocal current
        flush()
        heading = clean_inline(heading)
        if level == 1 and not story.title and heading:
            story.title = heading
        if not story.first_heading and heading:
            story.first_heading = heading
        current = Section(heading=heading)
        story.sections.append(current)

    lines = raw.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
            flush()
            continue
        if in_fence:
            continue  # code is not story
        heading = _HEADING.match(line)
        if heading:
            start_section(len(heading.group(1)), heading.group(2))
            continue
        next_line = lines[index + 1] if index + 1 < len(lines) else ""
        if line.strip() and not buffer and _SETEXT_H1.match(next_line):
            start_section(1, line)
            continue
        if line.strip() and not buffer and _SETEXT_H2.match(next_line) and next_line.strip():
            start_section(2, line)
            continue
        if (_SETEXT_H1.match(line) and line.strip()) or _RULE.match(line) or _REF_DEF.match(line):
            flush()
            continue
        if _TABLE_RULE.match(line):
            continue
        if not buffer and _CHAPTER_LINE.match(line) and not next_line.strip():
            start_section(2, line)
            continue
        if not line.strip():
            flush()
            continue
        stripped = _QUOTE_MARK.sub("", line)
        if _LIST_MARK.match(stripped):
            # Each list item is a beat of its own: items never run into each other or into
            # the paragraph before them.
            flush()
            stripped = _LIST_MARK.sub("", stripped)
        stripped = stripped.replace("|", " ").strip()
        if stripped:
            buffer.append(stripped)
    flush()
    story.sections = [s for s in story.sections if s.paragraphs or s.heading]
    return story


def _is_latin(lines: list[str]) -> bool:
    """Join wrapped English lines with spaces, Chinese lines without (no spaces in CJK)."""
    sample = "".join(lines)
    cjk = len(re.findall(r"[\u4e00-\u9fff]", sample))
    return cjk * 3 < len(sample)
