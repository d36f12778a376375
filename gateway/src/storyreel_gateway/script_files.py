"""The text of an uploaded story file (seed 001 §3.3): `.txt`, `.md` and `.docx`.

Text and Markdown go through `script_upload.decode_text` (UTF-8, not binary); a Word document's
paragraphs are read with python-docx, one paragraph a line, its heading styles written as
Markdown headings (`# `…) so the screenwriter sees the chapters. Anything else — by name or by
content (a `.docx` that is not a ZIP of WordprocessingML) — is 415 (3002).
"""

from __future__ import annotations

import io
import zipfile
from typing import Literal

from storyreel_core.errors import AppError, Code, ValidationFailed
from storyreel_gateway.routers.script_upload import MAX_TEXT_BYTES, decode_text

FileKind = Literal["text", "markdown", "docx"]
MAX_DOCX_BYTES = 10 * 1024 * 1024
SUFFIXES: dict[str, FileKind] = {
    ".txt": "text",
    ".text": "text",
    ".md": "markdown",
    ".markdown": "markdown",
    ".docx": "docx",
}
CONTENT_TYPES: dict[FileKind, str] = {
    "text": "text/plain",
    "markdown": "text/markdown",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


def unsupported(reason: str) -> AppError:
    return AppError(reason, code=Code.UNSUPPORTED_FILE, field="file")


def file_kind(filename: str) -> FileKind:
    """The kind by the name's suffix; 415 (3002) for any other suffix."""
    name = filename.strip().lower()
    for suffix, kind in SUFFIXES.items():
        if name.endswith(suffix):
            return kind
    raise unsupported("upload a .txt, .md or .docx file")


def docx_text(raw: bytes) -> str:
    """The document's paragraphs as text (headings as Markdown headings); 415 when it is not a
    Word document."""
    import docx  # python-docx; imported here: only this upload needs it

    if not zipfile.is_zipfile(io.BytesIO(raw)):
        raise unsupported("file is not a Word (.docx) document")
    try:
        document = docx.Document(io.BytesIO(raw))
    except Exception as exc:  # python-docx raises several types for a damaged package
        raise unsupported("file is not a readable Word (.docx) document") from exc
    lines: list[str] = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name if paragraph.style is not None else "") or ""
        if style.startswith("Heading") and style[7:].strip().isdigit():
            level = min(6, max(1, int(style[7:].strip())))
            text = f"{'#' * level} {text}"
        elif style == "Title":
            text = f"# {text}"
        lines.append(text)
    return "\n\n".join(lines)


def read_story_file(filename: str, raw: bytes, content_type: str) -> tuple[FileKind, str]:
    """(kind, text) of an upload; 415 for an unsupported or undecodable file, 413 (3003) past
    the size limits, 400 (1001) for an empty one."""
    kind = file_kind(filename)
    if kind == "docx":
        if len(raw) > MAX_DOCX_BYTES:
            raise AppError("file is larger than 10 MB", code=Code.FILE_TOO_LARGE, field="file")
        text = docx_text(raw)
        if not text.strip():
            raise ValidationFailed("the document has no text", field="file")
    else:
        if len(raw) > MAX_TEXT_BYTES:
            raise AppError("file is larger than 1 MB", code=Code.FILE_TOO_LARGE, field="file")
        text = decode_text(raw, content_type.lower())
    if len(text.encode("utf-8")) > MAX_TEXT_BYTES:
        raise AppError("the text is larger than 1 MB", code=Code.FILE_TOO_LARGE, field="file")
    return kind, text
