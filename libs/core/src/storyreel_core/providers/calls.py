"""The call layer: what every provider call goes through, whatever the vendor.

    cache → for each target (the provider, then its `fallback` list in order):
        retries (tenacity) → budget check → limits (concurrency, requests/minute) → adapter
    → cost from the provider's prices → the job's `UsageLedger`

It is built as wrapper models around any adapter, after pydantic-ai's `WrapperModel`,
`FallbackModel` and rate-limited models: `ManagedTextModel` is a `TextModel`,
`ManagedSpeechModel` a `SpeechModel`, so domain code cannot tell a managed model from a bare
one. Adapters stay small: they make one call and raise the `ProviderError` family.

Retries: `ProviderRateLimited`, `ProviderUnavailable` and `ProviderTimeout` are tried again up
to the provider's `max_attempts`, waiting the vendor's `Retry-After` when it sent one (capped at
`MAX_RETRY_AFTER_S`), else an exponential backoff with jitter. `ContentRefused` fails at once and
is not handed to a fallback either: the same story would be refused again, and the caller must
see the provider's reason. Any other `ProviderError` that survives the retries moves on to the
next fallback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from storyreel_core.logging import get_logger
from storyreel_core.providers.config import Provider
from storyreel_core.providers.costs import cost_of
from storyreel_core.providers.ports import (
    ContentRefused,
    FailedAttempt,
    ImageModel,
    ImageRequest,
    ImageResult,
    Modality,
    Progress,
    ProviderError,
    SchemaT,
    SpeechModel,
    SpeechRequest,
    SpeechResult,
    TextModel,
    TextRequest,
    TextResult,
    Usage,
    VideoModel,
    VideoRequest,
    VideoResult,
    VoiceInfo,
)
from storyreel_core.providers.result_cache import ResultCache, cache_key
from storyreel_core.providers.usage import UsageLedger

log = get_logger("storyreel.providers")

MAX_RETRY_AFTER_S = 60.0
R = TypeVar("R")
M = TypeVar("M")


class ProviderLimiter:
    """One provider's limits, shared by every job of the process: at most `max_concurrency`
    calls in flight and `requests_per_minute` started per minute (aiolimiter's leaky bucket)."""

    def __init__(self, max_concurrency: int, requests_per_minute: int | None) -> None:
        self.max_concurrency = max_concurrency
        self._slots = asyncio.Semaphore(max_concurrency)
        self._rate = AsyncLimiter(requests_per_minute, 60) if requests_per_minute else None
        self.in_flight = 0
        self.peak_in_flight = 0

    async def run(self, call: Callable[[], Awaitable[R]]) -> R:
        async with self._slots:
            if self._rate is not None:
                await self._rate.acquire()
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                return await call()
            finally:
                self.in_flight -= 1


@dataclass(frozen=True)
class Target(Generic[M]):
    """One provider and model able to serve the call, with its adapter and limits."""

    provider: Provider
    model_name: str
    model: M
    limiter: ProviderLimiter


class _Codec(Protocol[R]):
    """How one modality's results are stored in the cache and re-labelled with their usage."""

    def usage(self, result: R) -> Usage: ...

    def with_usage(self, result: R, usage: Usage) -> R: ...

    def encode(self, result: R) -> tuple[dict[str, Any], bytes]: ...

    def decode(self, meta: dict[str, Any], payload: bytes) -> R: ...


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, ProviderError) and exc.retryable


def _waiter(backoff_s: float) -> Callable[[RetryCallState], float]:
    """The vendor's Retry-After when it sent one, else `backoff_s` doubling, with jitter."""
    backoff = wait_exponential_jitter(multiplier=backoff_s, max=10.0, jitter=backoff_s)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ProviderError) and exc.retry_after_s is not None:
            return min(max(exc.retry_after_s, 0.0), MAX_RETRY_AFTER_S)
        return float(backoff(state))

    return wait


async def managed_call(
    *,
    modality: Modality,
    targets: list[Target[M]],
    params: dict[str, Any],
    invoke: Callable[[M], Awaitable[R]],
    codec: _Codec[R],
    ledger: UsageLedger,
    cache: ResultCache | None,
    failures: list[FailedAttempt] | None = None,
) -> R:
    """Run one call through the cache, retries, limits and fallbacks; record its usage.

    `params` is every input that decides the answer (it forms the cache key with the first
    target's provider and model). Each call that raised a `ProviderError` (every retry of
    every target) is appended to `failures` when given. Raises the last target's
    `ProviderError`, `ContentRefused` at once, or `BudgetExceeded` once the ledger's spend
    reached its budget.
    """
    first = targets[0]
    key = cache_key(
        {"modality": modality, "provider": first.provider.name, "model": first.model_name, **params}
    )
    if cache is not None:
        hit = await cache.get(modality, key)
        if hit is not None:
            result = codec.decode(hit.meta, hit.payload)
            usage = replace(codec.usage(result), cached=True, cost=0.0, latency_s=0.0)
            ledger.add(usage)
            log.info("provider.cache.hit", provider=usage.provider, model=usage.model, key=key)
            return codec.with_usage(result, usage)
    last: ProviderError | None = None
    for index, target in enumerate(targets):
        if index:
            log.warning(
                "provider.call.fallback",
                failed=targets[index - 1].provider.name,
                provider=target.provider.name,
                model=target.model_name,
                error=str(last)[:300],
            )
        try:
            result = await _call_target(target, modality, invoke, codec, ledger, failures)
        except ContentRefused:
            raise
        except ProviderError as exc:
            last = exc
            continue
        if cache is not None:
            meta, payload = codec.encode(result)
            await cache.put(modality, key, meta, payload)
        return result
    assert last is not None
    raise last


async def _call_target(
    target: Target[M],
    modality: Modality,
    invoke: Callable[[M], Awaitable[R]],
    codec: _Codec[R],
    ledger: UsageLedger,
    failures: list[FailedAttempt] | None = None,
) -> R:
    config = target.provider.config
    tried = 0

    async def attempt() -> R:
        nonlocal tried
        ledger.check_budget()
        started = time.perf_counter()
        tried += 1
        try:
            result = await target.limiter.run(lambda: invoke(target.model))
        except ProviderError as exc:
            if failures is not None:
                failures.append(
                    FailedAttempt(
                        config.name, target.model_name, tried, int(exc.code), str(exc)[:300]
                    )
                )
            raise
        latency = time.perf_counter() - started
        usage = codec.usage(result)
        usage = replace(
            usage,
            provider=config.name,
            model=target.model_name,
            modality=modality,
            latency_s=round(usage.latency_s or latency, 4),
            cost=cost_of(config.prices, usage),
            cached=False,
        )
        ledger.add(usage)
        log.info(
            "provider.call.done",
            provider=usage.provider,
            model=usage.model,
            modality=modality,
            latency_s=usage.latency_s,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            characters=usage.characters,
            cost=usage.cost,
        )
        return codec.with_usage(result, usage)

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "provider.call.retry",
            provider=config.name,
            model=target.model_name,
            attempt=state.attempt_number,
            wait_s=round(state.upcoming_sleep, 3),
            error=str(exc)[:300],
        )

    retrying = AsyncRetrying(
        stop=stop_after_attempt(config.max_attempts),
        retry=retry_if_exception(_retryable),
        wait=_waiter(config.retry_backoff_s),
        before_sleep=before_sleep,
        reraise=True,
    )
    result: R = await retrying(attempt)
    return result


class _Managed(Generic[M]):
    """What every managed model holds: its targets (the provider, then its fallbacks), the
    job's ledger and the result cache; `_call` runs one request through `managed_call`."""

    def __init__(
        self, targets: list[Target[M]], ledger: UsageLedger, cache: ResultCache | None
    ) -> None:
        self.targets = targets
        self.ledger = ledger
        self.cache = cache
        self.provider = targets[0].provider.name
        self.model = targets[0].model_name

    async def _call(
        self,
        modality: Modality,
        params: dict[str, Any],
        invoke: Callable[[M], Awaitable[R]],
        codec: _Codec[R],
        failures: list[FailedAttempt] | None = None,
    ) -> R:
        return await managed_call(
            modality=modality,
            targets=self.targets,
            params=params,
            invoke=invoke,
            codec=codec,
            ledger=self.ledger,
            cache=self.cache,
            failures=failures,
        )


# --- text -------------------------------------------------------------------------------


class _TextCodec(Generic[SchemaT]):
    def __init__(self, schema: type[SchemaT]) -> None:
        self.schema = schema

    def usage(self, result: TextResult[SchemaT]) -> Usage:
        return result.usage

    def with_usage(self, result: TextResult[SchemaT], usage: Usage) -> TextResult[SchemaT]:
        return TextResult(value=result.value, usage=usage)

    def encode(self, result: TextResult[SchemaT]) -> tuple[dict[str, Any], bytes]:
        return {"value": result.value.model_dump(mode="json"), "usage": asdict(result.usage)}, b""

    def decode(self, meta: dict[str, Any], payload: bytes) -> TextResult[SchemaT]:
        return TextResult(
            value=self.schema.model_validate(meta["value"]), usage=Usage(**meta["usage"])
        )


class ManagedTextModel(_Managed[TextModel]):
    """A `TextModel` that runs every call through the call layer (see the module doc)."""

    async def generate(self, request: TextRequest[SchemaT]) -> TextResult[SchemaT]:
        params = {
            "prompt": request.prompt,
            "system": request.system,
            "schema": request.schema.model_json_schema(),
            "temperature": request.temperature,
            "max_output_tokens": request.max_output_tokens,
            "seed": request.seed,
        }
        codec: _TextCodec[SchemaT] = _TextCodec(request.schema)

        async def invoke(model: TextModel) -> TextResult[SchemaT]:
            return await model.generate(request)

        return await self._call("text", params, invoke, codec)


# --- speech -----------------------------------------------------------------------------


class _SpeechCodec:
    def usage(self, result: SpeechResult) -> Usage:
        return result.usage

    def with_usage(self, result: SpeechResult, usage: Usage) -> SpeechResult:
        return replace(result, usage=usage)

    def encode(self, result: SpeechResult) -> tuple[dict[str, Any], bytes]:
        meta = {
            "sample_rate": result.sample_rate,
            "duration_s": result.duration_s,
            "usage": asdict(result.usage),
        }
        return meta, result.wav

    def decode(self, meta: dict[str, Any], payload: bytes) -> SpeechResult:
        return SpeechResult(
            wav=payload,
            sample_rate=int(meta["sample_rate"]),
            duration_s=float(meta["duration_s"]),
            usage=Usage(**meta["usage"]),
        )


class ManagedSpeechModel(_Managed[SpeechModel]):
    """A `SpeechModel` that runs every synthesis through the call layer.

    A fallback speaks with its own voices, so a voice id the fallback does not offer would
    fail there; the speech side decides whether to list fallbacks for speech providers.
    """

    async def voices(self) -> list[VoiceInfo]:
        return await self.targets[0].model.voices()

    async def synthesize(self, request: SpeechRequest) -> SpeechResult:
        params = {
            "text": request.text,
            "voice": request.voice,
            "speed": request.speed,
            "language": request.language,
        }

        async def invoke(model: SpeechModel) -> SpeechResult:
            return await model.synthesize(request)

        return await self._call("speech", params, invoke, _SpeechCodec())


# --- image ------------------------------------------------------------------------------


class _ImageCodec:
    """Images are stored back to back in the payload; `sizes` splits them again."""

    def usage(self, result: ImageResult) -> Usage:
        return result.usage

    def with_usage(self, result: ImageResult, usage: Usage) -> ImageResult:
        return replace(result, usage=usage)

    def encode(self, result: ImageResult) -> tuple[dict[str, Any], bytes]:
        meta = {"sizes": [len(i) for i in result.images], "usage": asdict(result.usage)}
        return meta, b"".join(result.images)

    def decode(self, meta: dict[str, Any], payload: bytes) -> ImageResult:
        images: list[bytes] = []
        offset = 0
        for size in meta["sizes"]:
            images.append(payload[offset : offset + int(size)])
            offset += int(size)
        return ImageResult(images=tuple(images), usage=Usage(**meta["usage"]))


def image_params(request: ImageRequest) -> dict[str, Any]:
    """Everything that decides an image: the cache key hashes each reference's bytes, so a
    shot whose characters (or their sheets) changed misses and an untouched one hits."""
    return {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "width": request.width,
        "height": request.height,
        "seed": request.seed,
        "steps": request.steps,
        "cfg_scale": request.cfg_scale,
        "count": request.count,
        "references": [
            {"role": r.role, "name": r.name, "seed": r.seed, "data": r.data}
            for r in request.references
        ],
    }


class ManagedImageModel(_Managed[ImageModel]):
    """An `ImageModel` that runs every generation through the call layer."""

    async def generate(
        self, request: ImageRequest, on_progress: Progress | None = None
    ) -> ImageResult:
        async def invoke(model: ImageModel) -> ImageResult:
            return await model.generate(request, on_progress)

        return await self._call("image", image_params(request), invoke, _ImageCodec())


# --- video ------------------------------------------------------------------------------


class _VideoCodec:
    """The MP4 is the payload; the meta holds its usage."""

    def usage(self, result: VideoResult) -> Usage:
        return result.usage

    def with_usage(self, result: VideoResult, usage: Usage) -> VideoResult:
        return replace(result, usage=usage)

    def encode(self, result: VideoResult) -> tuple[dict[str, Any], bytes]:
        return {"usage": asdict(result.usage)}, result.mp4

    def decode(self, meta: dict[str, Any], payload: bytes) -> VideoResult:
        return VideoResult(mp4=payload, usage=Usage(**meta["usage"]))


def video_params(request: VideoRequest) -> dict[str, Any]:
    """Everything that decides a clip (the images enter the cache key by their SHA-256)."""
    return {
        "prompt": request.prompt,
        "start_image": request.start_image,
        "end_image": request.end_image,
        "duration_s": request.duration_s,
        "width": request.width,
        "height": request.height,
        "fps": request.fps,
        "seed": request.seed,
    }


class ManagedVideoModel(_Managed[VideoModel]):
    """A `VideoModel` that runs every clip through the call layer: the same request twice
    (a rerender, a redelivered job) is answered from the cache without a second job.

    The answer's `usage.provider`/`model` name the target that made the clip, and its
    `failed_attempts` the calls that failed first; a `ProviderError` raised after every target
    failed carries them as `failed_attempts` too (the video service reports them per shot)."""

    async def generate(
        self, request: VideoRequest, on_progress: Progress | None = None
    ) -> VideoResult:
        async def invoke(model: VideoModel) -> VideoResult:
            return await model.generate(request, on_progress)

        failures: list[FailedAttempt] = []
        try:
            result = await self._call(
                "video", video_params(request), invoke, _VideoCodec(), failures
            )
        except ProviderError as exc:
            exc.failed_attempts = tuple(failures)
            raise
        return replace(result, failed_attempts=tuple(failures))
