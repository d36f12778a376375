"""The body of `POST /dramas/{id}/scripts/generate`: JSON, or multipart with a text file.

A multipart request carries the same fields as form fields plus `file`, an uploaded UTF-8
text or Markdown document that becomes `input_content`. Binary or non-UTF-8 files answer 415
(3002), more than 1 MB of text 413 (3003), an empty file 400 (1001).
"""

from __future__ import annotations

import unicodedata
from typing import Any, Literal

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import AliasChoices, BaseModel, Field, ValidationError
from starlette.datastructures import UploadFile

from storyreel_core.errors import AppError, Code, ValidationFailed
from storyreel_gateway.json_body import read_json

MAX_TEXT_BYTES = 1024 * 1024
MAX_BODY_BYTES = 8 * MAX_TEXT_BYTES  # JSON escapes may inflate the text; anything past this is
MAX_FORM_OVERHEAD = 64 * 1024  # … refused before it is read
FORM_FIELDS = (
    "prompt",
    "style",
    "length",
    "language",
    "input_type",
    "input_content",
    "title",
    "scene_count",
    "ai_provider",
    "model",
    "budget",
)
_BINARY_TYPES = ("image/", "audio/", "video/", "application/pdf", "application/zip")
_MARKDOWN_SUFFIXES = (".md", ".markdown", ".mdown", ".mkd")


class GenerateIn(BaseModel):
    prompt: str = Field(default="", examples=["高中生小明通过努力实现梦想的故事"])
    style: str = Field(default="", max_length=100, examples=["温馨励志"])
    length: Literal["short", "medium", "long"] = Field(
        default="medium", description="scene count: short 3, medium 6, long 10"
    )
    language: Literal["zh", "en"] | None = None
    input_type: Literal["prompt", "novel", "markdown"] = Field(
        default="prompt", description="prompt uses `prompt`; novel and markdown `input_content`"
    )
    input_content: str = Field(default="", description="novel text or Markdown, up to 1 MB")
    title: str = Field(default="", max_length=200)
    scene_count: int | None = Field(default=None, ge=1, le=30, description="overrides length")
    ai_provider: str | None = Field(
        default=None,
        max_length=64,
        description="a text provider of GET /providers; unset = the offline screenwriter",
    )
    model: str | None = Field(
        default=None, max_length=200, description="one of the provider's text models"
    )
    budget: float | None = Field(
        default=None, ge=0, description="US dollars the provider calls may cost"
    )
    persona_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        validation_alias=AliasChoices("persona_id", "personaId"),
        description="a persona (GET /personas): its style and tone shape the script",
    )
    conversation_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        validation_alias=AliasChoices("conversation_id", "conversationId"),
        description="the caller's conversation that gets a message when the task ends",
    )


class GenerateUpload(GenerateIn):
    file: bytes | None = Field(default=None, description="UTF-8 .txt or .md file, up to 1 MB")


def _too_large(field: str) -> AppError:
    return AppError(f"{field} is larger than 1 MB", code=Code.FILE_TOO_LARGE, field=field)


def _unsupported(reason: str) -> AppError:
    return AppError(reason, code=Code.UNSUPPORTED_FILE, field="file")


def _validate(data: dict[str, Any]) -> GenerateIn:
    try:
        body = GenerateIn.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    for field in ("prompt", "input_content"):
        if len(getattr(body, field).encode("utf-8")) > MAX_TEXT_BYTES:
            raise _too_large(field)
    return body


def decode_text(raw: bytes, content_type: str) -> str:
    """Uploaded bytes → text, refusing binary and non-UTF-8 content."""
    if content_type.startswith(_BINARY_TYPES) or b"\x00" in raw:
        raise _unsupported("file must be UTF-8 text or Markdown, not binary")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _unsupported("file is not valid UTF-8 text") from exc
    controls = sum(1 for ch in text if ch not in "\t\n\r\f\v" and unicodedata.category(ch) == "Cc")
    if controls > max(2, len(text) // 100):
        raise _unsupported("file looks binary (control characters), not text")
    if not text.strip():
        raise ValidationFailed("file is empty", field="file")
    return text


async def _from_form(request: Request) -> tuple[GenerateIn, str]:
    form = await request.form(max_files=1, max_fields=len(FORM_FIELDS) + 1)
    data: dict[str, Any] = {}
    for name in FORM_FIELDS:
        value = form.get(name)
        if isinstance(value, str) and value != "":
            data[name] = value
    upload = form.get("file")
    if upload is None or upload == "":
        return _validate(data), ""
    if not isinstance(upload, UploadFile):
        raise ValidationFailed("file must be an uploaded file", field="file")
    if data.get("input_content"):
        raise ValidationFailed("send either file or input_content, not both", field="file")
    raw = await upload.read(MAX_TEXT_BYTES + 1)
    if len(raw) > MAX_TEXT_BYTES:
        raise _too_large("file")
    name = upload.filename or ""
    content_type = (upload.content_type or "").lower()
    data["input_content"] = decode_text(raw, content_type)
    if "input_type" not in data:
        markdown = name.lower().endswith(_MARKDOWN_SUFFIXES) or "markdown" in content_type
        data["input_type"] = "markdown" if markdown else "novel"
    return _validate(data), name[:255]


async def read_generate_body(request: Request) -> tuple[GenerateIn, str]:
    """The request as GenerateIn and the uploaded file's name ("" without a file)."""
    content_type = request.headers.get("content-type", "").lower()
    declared = request.headers.get("content-length", "")
    length = int(declared) if declared.isdigit() else 0
    if content_type.startswith("multipart/form-data"):
        if length > MAX_TEXT_BYTES + MAX_FORM_OVERHEAD:
            raise _too_large("file")
        return await _from_form(request)
    if content_type and not content_type.startswith("application/json"):
        raise AppError(
            "send application/json or multipart/form-data",
            code=Code.UNSUPPORTED_FILE,
            field="content-type",
        )
    if length > MAX_BODY_BYTES:
        raise _too_large("input_content")
    data = await read_json(request, MAX_BODY_BYTES)
    if not isinstance(data, dict):
        raise ValidationFailed("request body must be a JSON object", field="body")
    return _validate(data), ""
