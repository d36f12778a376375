"""The providers file: which AI providers a deployment may call, read once at start-up.

A TOML file named by `STORYREEL_PROVIDERS` holds one `[[provider]]` table per provider:

    [[provider]]
    name = "local"                      # what requests send as ai_provider / audio_provider
    type = "openai"                     # offline, openai, elevenlabs, piper, espeak, comfyui,
                                        # async_video
    base_url = "http://127.0.0.1:8080/v1"
    api_key_env = "LOCAL_LLM_KEY"       # the variable holding the key (or LOCAL_LLM_KEY_FILE)
    text_model = ["qwen2.5-7b", "qwen2.5-14b"]   # the first is the default
    max_concurrency = 4
    requests_per_minute = 60
    timeout_s = 60
    fallback = ["backup"]
    prices = { input_per_1m_tokens = 0.15, output_per_1m_tokens = 0.60 }

Video providers (`video_model`) run long jobs: their `timeout_s` is the overall limit of one
clip (submit, every poll, the download), after which the call fails with `ProviderTimeout`;
`poll_interval_s` paces the polls. An `async_video` provider (a Kling/Seedance-like HTTP API)
describes its protocol in a `[provider.video_api]` table (`AsyncVideoApi`).

Keys never live in the file: `api_key_env` names an environment variable, read here (or the
file named by `<VAR>_FILE`, for container secrets). A file that does not parse or validate
raises `ProvidersFileError` with the line of the offending table, so a deployment stops at
start-up instead of failing its first render. Without a file the built-in `offline` provider
(the rule-based screenwriter, eSpeak NG, the procedural frames) is the only one; it is always
present, so `ai_provider = "offline"` works in every deployment.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from storyreel_core.providers.ports import MODALITIES, Modality

ProviderType = Literal[
    "offline", "openai", "elevenlabs", "piper", "espeak", "comfyui", "async_video"
]

# What each provider type can serve. `offline` is the built-in rule-based path of every stage;
# `openai` covers every OpenAI-compatible server (OpenAI, DeepSeek, Qwen, vLLM, llama.cpp…).
TYPE_MODALITIES: dict[str, frozenset[Modality]] = {
    "offline": frozenset(MODALITIES),
    # OpenAI's videos API (Sora) through the SDK's `client.videos`.
    "openai": frozenset({"text", "speech", "image", "video"}),
    "elevenlabs": frozenset({"speech"}),
    "piper": frozenset({"speech"}),
    "espeak": frozenset({"speech"}),
    # A ComfyUI server runs workflow templates: images now, image-to-video on the video side.
    "comfyui": frozenset({"image", "video"}),
    # A generic submit → poll → download video API described by `video_api` (Kling, Seedance…).
    "async_video": frozenset({"video"}),
}
# The workflow templates a `comfyui` provider may replace with its own (`templates`).
TEMPLATE_KINDS: frozenset[str] = frozenset({"text_to_image", "image_reference", "image_to_video"})
# Types that cannot work without a key (a local OpenAI-compatible server often needs none).
KEY_REQUIRED: frozenset[str] = frozenset({"elevenlabs"})
OFFLINE: Final = "offline"
RESERVED_NAMES: Final = frozenset({OFFLINE, "piper", "espeak"})
OFFLINE_MODEL = "rule-based"
MODEL_FIELDS: dict[Modality, str] = {m: f"{m}_model" for m in MODALITIES}

_NAME = r"^[a-z0-9][a-z0-9._-]{0,62}$"
_TABLE_HEADER = re.compile(r"^\s*\[\[\s*provider\s*\]\]")


class ProvidersFileError(ValueError):
    """The providers file is unreadable, malformed or inconsistent; the message names the line."""


class Prices(BaseModel):
    """US dollars per unit, for the cost of a call and the estimate before it (0 = free)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    input_per_1m_tokens: float = Field(default=0.0, ge=0)
    output_per_1m_tokens: float = Field(default=0.0, ge=0)
    per_1k_characters: float = Field(default=0.0, ge=0)
    per_image: float = Field(default=0.0, ge=0)
    per_second: float = Field(default=0.0, ge=0)


DEFAULT_VIDEO_BODY: dict[str, Any] = {
    "model": "{{model}}",
    "prompt": "{{prompt}}",
    "image": "{{start_image}}",
    "end_image": "{{end_image}}",
    "duration": "{{duration}}",
    "width": "{{width}}",
    "height": "{{height}}",
    "fps": "{{fps}}",
    "seed": "{{seed}}",
}


class AsyncVideoApi(BaseModel):
    """The protocol of an `async_video` provider: submit a job, poll it, download the MP4.

    Paths are relative to the provider's `base_url` (`{id}` is the job id); `body` is the
    JSON submitted, with `{{placeholders}}` filled as in ComfyUI templates: `{{model}}`,
    `{{prompt}}`, `{{start_image}}` (a `data:image/png;base64,…` URI),
    `{{start_image_base64}}` (bare base64), `{{end_image}}` / `{{end_image_base64}}` (null
    when the request has none), `{{duration}}` (seconds, float), `{{duration_int}}` (whole
    seconds, rounded up), `{{width}}`, `{{height}}`, `{{size}}` ("WxH"), `{{fps}}`,
    `{{seed}}`. The `*_path` fields are dotted paths into the JSON answers (`data.task_id`,
    `output.video_url`, `data.videos.0.url`); the status is compared with `done`, `failed`
    and `refused`, and an error code with `refusal_codes` (a refusal is never retried).
    `progress_scale` is the value that means "finished" (100 for percentages, 1 for fractions).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    submit_path: str = "/v1/videos"
    poll_path: str = "/v1/videos/{id}"
    body: dict[str, Any] = Field(default_factory=lambda: dict(DEFAULT_VIDEO_BODY))
    id_path: str = "id"
    status_path: str = "status"
    progress_path: str = "progress"
    progress_scale: float = Field(default=100.0, gt=0)
    result_url_path: str = "video_url"
    error_path: str = "error.message"
    error_code_path: str = "error.code"
    done: list[str] = Field(default_factory=lambda: ["succeeded", "completed", "success"])
    failed: list[str] = Field(default_factory=lambda: ["failed", "error", "cancelled"])
    refused: list[str] = Field(default_factory=lambda: ["refused", "rejected"])
    refusal_codes: list[str] = Field(
        default_factory=lambda: ["content_filter", "moderation_blocked", "content_policy_violation"]
    )


def _as_list(value: object) -> object:
    return [value] if isinstance(value, str) else value


class ProviderConfig(BaseModel):
    """One `[[provider]]` table. Models per modality: a name or a list, the first the default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=_NAME)
    type: ProviderType
    base_url: str | None = None
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    text_model: list[str] = Field(default_factory=list)
    speech_model: list[str] = Field(default_factory=list)
    image_model: list[str] = Field(default_factory=list)
    video_model: list[str] = Field(default_factory=list)
    max_concurrency: int = Field(default=4, ge=1, le=256)
    requests_per_minute: int | None = Field(default=None, ge=1)
    max_attempts: int = Field(default=3, ge=1, le=10)
    retry_backoff_s: float = Field(default=0.5, ge=0, le=60)  # first wait; doubles, jittered
    timeout_s: float = Field(default=60.0, gt=0, le=3600)
    prices: Prices = Field(default_factory=Prices)
    fallback: list[str] = Field(default_factory=list)
    # comfyui: template kind → path of a ComfyUI API-format workflow JSON (relative paths are
    # read from the process's working directory); kinds not named use the shipped templates.
    templates: dict[str, str] = Field(default_factory=dict)
    # Video jobs: seconds between two polls (ComfyUI reports over its WebSocket instead).
    poll_interval_s: float = Field(default=2.0, ge=0.01, le=600)
    # async_video: the vendor's protocol (defaults: an OpenAI-videos-like JSON API).
    video_api: AsyncVideoApi | None = None

    @model_validator(mode="before")
    @classmethod
    def _lists(cls, data: object) -> object:
        if isinstance(data, dict):
            data = dict(data)
            for key in MODEL_FIELDS.values():
                if key in data:
                    data[key] = _as_list(data[key])
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ProviderConfig:
        served = TYPE_MODALITIES[self.type]
        for modality, key in MODEL_FIELDS.items():
            models = self.models(modality)
            if models and modality not in served:
                raise ValueError(f"type {self.type!r} serves no {modality}; remove {key}")
            if any(not m.strip() for m in models):
                raise ValueError(f"{key} has an empty model name")
        # The built-in names keep their meaning: requests without a provider use `offline`, and
        # the speech service's in-process engines answer to `piper` and `espeak`.
        if self.name in RESERVED_NAMES and self.type != self.name:
            raise ValueError(
                f"name {self.name!r} is the built-in {self.name} provider's; only type"
                f" {self.name!r} may use it (choose another name)"
            )
        if self.base_url is not None and not self.base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http:// or https:// URL")
        if self.type == "openai" and not self.base_url:
            raise ValueError("type 'openai' needs base_url (https://api.openai.com/v1 for OpenAI)")
        if self.type == "comfyui" and not self.base_url:
            raise ValueError("type 'comfyui' needs base_url (http://comfyui:8188)")
        if self.type == "async_video" and not self.base_url:
            raise ValueError("type 'async_video' needs base_url (the vendor's API root)")
        if self.video_api is not None and self.type != "async_video":
            raise ValueError("video_api is an async_video field")
        if self.templates and self.type != "comfyui":
            raise ValueError("templates is a comfyui field")
        unknown = sorted(set(self.templates) - TEMPLATE_KINDS)
        if unknown:
            raise ValueError(
                f"unknown template kind(s) {', '.join(unknown)}; known:"
                f" {', '.join(sorted(TEMPLATE_KINDS))}"
            )
        if self.type in KEY_REQUIRED and not self.api_key_env:
            raise ValueError(f"type {self.type!r} needs api_key_env")
        if self.type != OFFLINE and not any(self.models(m) for m in served):
            names = ", ".join(MODEL_FIELDS[m] for m in sorted(served))
            raise ValueError(f"name at least one model ({names})")
        return self

    def models(self, modality: Modality) -> list[str]:
        value: list[str] = getattr(self, MODEL_FIELDS[modality])
        return value

    @property
    def modalities(self) -> list[Modality]:
        """The modalities this entry serves: those with a model (every one for `offline`)."""
        if self.type == OFFLINE:
            return list(MODALITIES)
        return [m for m in MODALITIES if self.models(m)]


class _EntryProblem(ValueError):
    """A file-level check that belongs to one entry's field: the message gets its line."""

    def __init__(self, message: str, *, index: int, key: str) -> None:
        super().__init__(message)
        self.index = index
        self.key = key


class ProvidersFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    providers: list[ProviderConfig] = Field(default_factory=list, alias="provider")

    @model_validator(mode="after")
    def _names(self) -> ProvidersFile:
        seen: set[str] = set()
        for index, p in enumerate(self.providers):
            if p.name in seen:
                message = f"provider name {p.name!r} is used twice"
                raise _EntryProblem(message, index=index, key="name")
            seen.add(p.name)
        by_name = {p.name: p for p in self.providers}
        for index, p in enumerate(self.providers):
            for other in p.fallback:
                if other == p.name:
                    message = f"provider {p.name!r} lists itself as its fallback"
                    raise _EntryProblem(message, index=index, key="fallback")
                if other not in by_name and other != OFFLINE:
                    message = f"provider {p.name!r}: fallback {other!r} is not configured"
                    raise _EntryProblem(message, index=index, key="fallback")
        return self


@dataclass(frozen=True)
class Provider:
    """A configured provider with its key resolved; `api_key` is never logged or returned."""

    config: ProviderConfig
    api_key: SecretStr | None = field(default=None, repr=False)
    line: int = 0  # where its table starts in the file, for messages (0 = built in)

    @property
    def name(self) -> str:
        return self.config.name


BUILTIN_OFFLINE = ProviderConfig(name=OFFLINE, type=OFFLINE)


def _table_lines(text: str) -> list[int]:
    """1-based line of each `[[provider]]` header, in order (index i → table i)."""
    return [n for n, line in enumerate(text.splitlines(), 1) if _TABLE_HEADER.match(line)]


def _field_line(text: str, start: int, key: str) -> int:
    """The line of `key = …` inside the table starting at `start`, else `start`."""
    lines = text.splitlines()
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for n in range(start, len(lines) + 1):
        line = lines[n - 1]
        if n > start and line.lstrip().startswith("[["):
            break
        if pattern.match(line):
            return n
    return start


def _where(path: Path, line: int, detail: str = "") -> str:
    """How every providers-file message places a problem: `path:line` (the line 1-based),
    then what in the file, e.g. `p.toml:7 ([[provider]] #1, max_concurrency)`."""
    return f"{path}:{line}" + (f" ({detail})" if detail else "")


def _problem(path: Path, line: int, message: str, detail: str = "") -> str:
    """The one format of a providers-file error: `invalid providers file <path>:<line>
    ([[provider]] #<n>, <field>): <message>`."""
    return f"invalid providers file {_where(path, line, detail)}: {message}"


def _entry_where(text: str, path: Path, index: int, key: str) -> str:
    tables = _table_lines(text)
    start = tables[index] if index < len(tables) else 1
    line = _field_line(text, start, key) if key else start
    return _where(path, line, f"[[provider]] #{index + 1}{', ' + key if key else ''}")


def _describe(exc: ValidationError, text: str, path: Path) -> str:
    problems: list[str] = []
    for err in exc.errors():
        loc = list(err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        message = str(cause) if isinstance(cause, _EntryProblem) else err["msg"]
        if isinstance(cause, _EntryProblem):
            where = _entry_where(text, path, cause.index, cause.key)
        elif len(loc) >= 2 and loc[0] == "provider" and isinstance(loc[1], int):
            where = _entry_where(text, path, loc[1], str(loc[2]) if len(loc) > 2 else "")
        else:
            where = _where(path, 1, ".".join(str(p) for p in loc))
        problems.append(f"{where}: {message}")
    return "invalid providers file " + "; ".join(problems)


class KeyUnavailable(Exception):
    """`$VARIABLE_FILE` is set but names no readable, non-empty file; the message names the
    variable and the file, never a key."""


def read_key(variable: str, environ: dict[str, str] | None = None) -> str | None:
    """The key in `$VARIABLE`, else the content of the file named by `$VARIABLE_FILE`; None
    when neither is set. Raises `KeyUnavailable` when `$VARIABLE_FILE` is set but its file is
    missing, unreadable or empty (a secret that failed to mount must not read as "not set")."""
    env = os.environ if environ is None else environ
    value = env.get(variable)
    if value and value.strip():
        return value.strip()
    name = f"{variable}_FILE"
    file_name = env.get(name)
    if not file_name:
        return None
    try:
        content = Path(file_name).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise KeyUnavailable(f"{name} names {file_name}, which does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise KeyUnavailable(f"{name} names {file_name}, which cannot be read ({why})") from None
    if not content:
        raise KeyUnavailable(f"{name} names {file_name}, which is empty")
    return content


def parse_providers(
    text: str, path: Path | str = "providers.toml", environ: dict[str, str] | None = None
) -> list[Provider]:
    """Parse and validate a providers file; resolve each key. The built-in offline comes last
    unless the file defines `offline` itself.

    Raises `ProvidersFileError` naming the file and line: TOML syntax (tomllib's own line and
    column), a field that does not validate, a key variable that is unset.
    """
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message ends in "(at line L, column C)".
        found = re.search(r"at line (\d+)", str(exc))
        raise ProvidersFileError(
            _problem(path, int(found.group(1)) if found else 1, str(exc))
        ) from None
    try:
        parsed = ProvidersFile.model_validate(data)
    except ValidationError as exc:
        raise ProvidersFileError(_describe(exc, text, path)) from None
    tables = _table_lines(text)
    providers: list[Provider] = []
    for index, config in enumerate(parsed.providers):
        line = tables[index] if index < len(tables) else 0
        key: SecretStr | None = None
        if config.api_key_env:
            at = _field_line(text, line, "api_key_env") if line else 0
            detail = f"[[provider]] #{index + 1}, api_key_env"
            reads = f"provider {config.name!r} reads its key from {config.api_key_env}"
            try:
                value = read_key(config.api_key_env, environ)
            except KeyUnavailable as exc:
                raise ProvidersFileError(_problem(path, at, f"{reads}: {exc}", detail)) from None
            if value is None:
                unset = f"{reads}, which is not set (nor {config.api_key_env}_FILE)"
                raise ProvidersFileError(_problem(path, at, unset, detail))
            key = SecretStr(value)
        providers.append(Provider(config=config, api_key=key, line=line))
    if not any(p.name == OFFLINE for p in providers):
        providers.append(Provider(config=BUILTIN_OFFLINE))
    return providers


def load_providers(path: Path | None, environ: dict[str, str] | None = None) -> list[Provider]:
    """The providers of `path` (None → the built-in offline provider alone)."""
    if path is None:
        return [Provider(config=BUILTIN_OFFLINE)]
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProvidersFileError(f"cannot read providers file {path}: {exc}") from None
    return parse_providers(text, path, environ)


def check_at_start_up(path: Path | None) -> None:
    """Stop the process (exit status 2) with the file's message when it is invalid.

    Called first thing by every entry point, before any server or child process starts, so
    a bad file leaves nothing running behind it.
    """
    try:
        load_providers(path)
    except ProvidersFileError as exc:
        sys.stderr.write(f"storyreel: {exc}\n")
        raise SystemExit(2) from None
