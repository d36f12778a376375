"""The model ports: one small interface per modality, and the value types that cross them.

Domain code (the screenwriter, casting, frames, motion) talks only to these protocols; each
vendor adapter (`storyreel_core.providers.<vendor>`) implements one or more of them and keeps
its SDK to itself. The shared call layer (limits, retries, cache, usage, cost, budget,
fallback) wraps any implementation, so adapters stay small (the shape follows pydantic-ai's
`Model` plus wrapper models).

Units: durations in seconds, sizes in pixels, audio as WAV bytes (PCM), images as PNG or
JPEG bytes, video as MP4 bytes, money in US dollars.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, Literal, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from storyreel_core.errors import AppError, Code

Modality = Literal["text", "speech", "image", "video"]
MODALITIES: tuple[Modality, ...] = ("text", "speech", "image", "video")

SchemaT = TypeVar("SchemaT", bound=BaseModel)
Progress = Callable[[float], Awaitable[None]]  # 0.0 … 1.0


@dataclass(frozen=True)
class Usage:
    """What one provider call consumed; summed per task into `usage` and `cost`.

    Only the units the modality meters are non-zero: tokens for text, characters for speech,
    images for image, seconds of output for speech and video.
    """

    provider: str
    model: str
    modality: Modality
    latency_s: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    characters: int = 0
    images: int = 0
    seconds: float = 0.0
    cost: float = 0.0
    cached: bool = False


# --- text -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextRequest(Generic[SchemaT]):
    """Structured generation: the answer must validate against `schema`."""

    prompt: str
    schema: type[SchemaT]
    system: str = ""
    temperature: float = 0.7
    max_output_tokens: int = 4096
    seed: int | None = None


@dataclass(frozen=True)
class TextResult(Generic[SchemaT]):
    value: SchemaT
    usage: Usage


@runtime_checkable
class TextModel(Protocol):
    provider: str
    model: str

    async def generate(self, request: TextRequest[SchemaT]) -> TextResult[SchemaT]: ...


# --- speech -----------------------------------------------------------------------------


@dataclass(frozen=True)
class VoiceInfo:
    """One voice a speech model offers; `id` is what requests send as `voice`/`voice_id`."""

    id: str
    language: str  # BCP-47-ish: "en", "en-US", "zh", "cmn"
    gender: Literal["male", "female", "unknown"] = "unknown"
    description: str = ""


@dataclass(frozen=True)
class SpeechRequest:
    text: str
    voice: str
    speed: float = 1.0  # 0.5 … 2.0, 1.0 = the voice's own pace
    language: str = ""


@dataclass(frozen=True)
class SpeechResult:
    """`wav` is a complete RIFF/WAVE file; `duration_s` is measured from its samples."""

    wav: bytes
    sample_rate: int
    duration_s: float
    usage: Usage


@runtime_checkable
class SpeechModel(Protocol):
    provider: str
    model: str

    async def voices(self) -> list[VoiceInfo]: ...

    async def synthesize(self, request: SpeechRequest) -> SpeechResult: ...


# --- image ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReferenceImage:
    """A picture the model must stay consistent with: a character's sheet or a location."""

    role: Literal["character", "location", "prop", "style"]
    name: str
    data: bytes
    seed: int | None = None  # the per-character seed, where the role has one


@dataclass(frozen=True)
class ImageRequest:
    prompt: str
    width: int
    height: int
    negative_prompt: str = ""
    seed: int | None = None
    steps: int | None = None
    cfg_scale: float | None = None
    count: int = 1
    references: tuple[ReferenceImage, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class ImageResult:
    images: tuple[bytes, ...]  # PNG or JPEG, `count` of them
    usage: Usage


@runtime_checkable
class ImageModel(Protocol):
    provider: str
    model: str

    async def generate(
        self, request: ImageRequest, on_progress: Progress | None = None
    ) -> ImageResult: ...


# --- video ------------------------------------------------------------------------------


@dataclass(frozen=True)
class VideoRequest:
    """Image-to-video: `start_image` is the shot's frame; the clip should last `duration_s`."""

    prompt: str
    start_image: bytes
    duration_s: float
    width: int
    height: int
    fps: int = 24
    end_image: bytes | None = None
    seed: int | None = None


@dataclass(frozen=True)
class FailedAttempt:
    """One call to one provider that raised: which `attempt` (1-based, per provider) of
    `provider`/`model`, the business `code` and the provider's `reason` (never a key)."""

    provider: str
    model: str
    attempt: int
    code: int
    reason: str


@dataclass(frozen=True)
class VideoResult:
    """`usage.provider`/`usage.model` name who made the clip (a fallback when the asked
    provider failed); `failed_attempts` the calls that failed before it, in order."""

    mp4: bytes
    usage: Usage
    failed_attempts: tuple[FailedAttempt, ...] = ()


@runtime_checkable
class VideoModel(Protocol):
    """Asynchronous vendors submit, poll and download inside `generate`, reporting progress
    (0..1) to `on_progress`. The whole cycle is bounded by the provider's `timeout_s`: past
    it `generate` raises `ProviderTimeout` naming the job and the limit. `VideoResult.mp4`
    is whatever container and codec the vendor answers (the video service conforms it)."""

    provider: str
    model: str

    async def generate(
        self, request: VideoRequest, on_progress: Progress | None = None
    ) -> VideoResult: ...


# --- errors -----------------------------------------------------------------------------


class ProviderError(AppError):
    """A provider call failed. `retryable` tells the call layer whether to try again."""

    code = Code.AI_ERROR
    retryable = False
    # Set by the call layer on the error it finally raises: every failed call of the request.
    failed_attempts: tuple[FailedAttempt, ...] = ()

    def __init__(self, message: str, *, provider: str, retry_after_s: float | None = None) -> None:
        # Permanent for the job: the call layer already retried (and fell back) as the provider
        # allows; redelivering the job would repeat every paid attempt up to max_deliver times.
        super().__init__(message, field="provider", reason=message, permanent=True)
        self.provider = provider
        self.retry_after_s = retry_after_s


class ProviderRateLimited(ProviderError):
    """HTTP 429 or the vendor's equivalent; honour `retry_after_s` when the vendor sent one."""

    code = Code.AI_QUOTA
    retryable = True


class ProviderUnavailable(ProviderError):
    """5xx, a reset connection: worth another try."""

    retryable = True


class ProviderTimeout(ProviderError):
    code = Code.AI_TIMEOUT
    retryable = True


class ContentRefused(ProviderError):
    """The provider's content filter refused the request; never retried."""

    code = Code.AI_FILTERED

    def __init__(self, message: str, *, provider: str) -> None:
        super().__init__(message, provider=provider)
        self.permanent = True
