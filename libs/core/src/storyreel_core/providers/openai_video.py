"""The `openai` video adapter: OpenAI's videos API (Sora) through the SDK's `client.videos`.

`videos.create(model, prompt, seconds, size, input_reference=<the shot's frame>)` → a job;
`videos.retrieve(id)` every `poll_interval_s` until `status` is `completed` or `failed`
(`progress` is a percentage, reported as it grows); `videos.download_content(id)` → the MP4.
The SDK's `create_and_poll` is not used: it has no progress callback and no overall limit.

OpenAI accepts a few durations (4, 8, 12 s) and sizes (720x1280, 1280x720, 1024x1792,
1792x1024): the request gets the shortest duration that covers the shot (the video service
trims the clip to the shot) and the size of the closest aspect ratio, and the frame is
fitted to that size first (the API requires the reference to match it). A compatible service
(a base URL other than api.openai.com) gets the asked seconds and `WIDTHxHEIGHT`.

Errors go through `openai_text.map_openai_error`; a failed job whose error code is a
moderation code is `ContentRefused`. The cycle is bounded by the provider's `timeout_s`.
"""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any

import openai
from PIL import Image, ImageOps

from storyreel_core.providers.config import Provider
from storyreel_core.providers.openai_text import map_openai_error
from storyreel_core.providers.ports import (
    ContentRefused,
    Progress,
    ProviderError,
    ProviderTimeout,
    Usage,
    VideoRequest,
    VideoResult,
)

OPENAI_SECONDS = (4, 8, 12)
OPENAI_SIZES = ((720, 1280), (1280, 720), (1024, 1792), (1792, 1024))
_REFUSAL_CODES = {"moderation_blocked", "content_policy_violation", "content_filter"}


def openai_video_shape(duration_s: float, width: int, height: int) -> tuple[int, int, int]:
    """(seconds, width, height) OpenAI accepts: the shortest duration ≥ the asked one (else
    the longest) and the listed size of the closest aspect ratio (the larger one on a tie
    only when the asked size is larger)."""
    seconds = next((s for s in OPENAI_SECONDS if s >= duration_s - 1e-9), OPENAI_SECONDS[-1])
    aspect = width / height
    w, h = min(
        OPENAI_SIZES, key=lambda s: (abs(s[0] / s[1] - aspect), abs(s[0] * s[1] - width * height))
    )
    return seconds, w, h


def fitted_png(data: bytes, width: int, height: int) -> bytes:
    image = Image.open(io.BytesIO(data)).convert("RGB")
    if image.size != (width, height):
        image = ImageOps.fit(image, (width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


class OpenAIVideoModel:
    """`VideoModel` over `client.videos` of the OpenAI SDK (module doc)."""

    def __init__(
        self,
        provider: str,
        model: str,
        client: openai.AsyncOpenAI,
        *,
        timeout_s: float,
        poll_interval_s: float,
        exact: bool,
    ) -> None:
        self.provider = provider
        self.model = model
        self.client = client
        self.timeout_s = timeout_s
        self.poll_interval_s = poll_interval_s
        self.exact = exact  # a compatible service: send the asked seconds and size

    @classmethod
    def from_provider(cls, provider: Provider, model: str) -> OpenAIVideoModel:
        config = provider.config
        client = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=provider.api_key.get_secret_value() if provider.api_key else "unused",
            timeout=min(config.timeout_s, 120.0),
            max_retries=0,  # the call layer retries, honouring Retry-After
        )
        return cls(
            config.name,
            model,
            client,
            timeout_s=config.timeout_s,
            poll_interval_s=config.poll_interval_s,
            exact="api.openai.com" not in (config.base_url or ""),
        )

    async def _run(
        self, request: VideoRequest, on_progress: Progress | None, jobs: list[str]
    ) -> bytes:
        seconds, width, height = openai_video_shape(
            request.duration_s, request.width, request.height
        )
        if self.exact:
            seconds, width, height = (
                max(1, round(request.duration_s)),
                request.width,
                request.height,
            )
        frame = await asyncio.to_thread(fitted_png, request.start_image, width, height)
        params: dict[str, Any] = {
            "model": self.model,
            "prompt": request.prompt,
            "seconds": str(seconds),
            "size": f"{width}x{height}",
            "input_reference": ("frame.png", frame, "image/png"),
        }
        job = await self.client.videos.create(**params)
        jobs.append(job.id)
        last = -1
        while True:
            if job.progress is not None and job.progress > last and on_progress is not None:
                last = job.progress
                await on_progress(min(max(job.progress / 100.0, 0.0), 1.0))
            if job.status == "completed":
                content = await self.client.videos.download_content(job.id, variant="video")
                return content.content
            if job.status == "failed":
                code = job.error.code if job.error else ""
                reason = job.error.message if job.error else "failed"
                message = f"{self.provider}: video {job.id} failed: {reason}"[:500]
                if code in _REFUSAL_CODES:
                    raise ContentRefused(message, provider=self.provider)
                raise ProviderError(message, provider=self.provider)
            await asyncio.sleep(self.poll_interval_s)
            job = await self.client.videos.retrieve(job.id)

    async def generate(
        self, request: VideoRequest, on_progress: Progress | None = None
    ) -> VideoResult:
        """Create, poll and download one clip within `timeout_s`; the `ProviderError` family."""
        started = time.perf_counter()
        jobs: list[str] = []
        try:
            async with asyncio.timeout(self.timeout_s):
                mp4 = await self._run(request, on_progress, jobs)
        except TimeoutError:
            name = jobs[0] if jobs else "(not created)"
            raise ProviderTimeout(
                f"{self.provider}: video {name} did not finish within {self.timeout_s:g} s"
                " (timeout_s)",
                provider=self.provider,
            ) from None
        except openai.APIStatusError as exc:
            if exc.code in _REFUSAL_CODES:
                message = f"{self.provider}: refused: {exc.message}"[:500]
                raise ContentRefused(message, provider=self.provider) from None
            raise map_openai_error(exc, self.provider) from None
        except openai.OpenAIError as exc:
            raise map_openai_error(exc, self.provider) from None
        usage = Usage(
            provider=self.provider,
            model=self.model,
            modality="video",
            latency_s=round(time.perf_counter() - started, 4),
            seconds=request.duration_s,
        )
        return VideoResult(mp4=mp4, usage=usage)
