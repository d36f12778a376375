"""The `openai` image adapter: `images.generate`, and `images.edit` with reference images.

One `AsyncOpenAI` client per provider (`base_url`, the registry's key, the provider's timeout,
`max_retries=0`: the call layer retries), so it reaches OpenAI and every OpenAI-compatible
image service (LocalAI, SiliconFlow, Ark, a vLLM-omni or sd.cpp server…).

- No references → `images.generate(model, prompt, n, size)`.
- References (character and location sheets) → `images.edit(model, image=[…], prompt, n,
  size)`: the SDK sends them as the multipart `image[]` list OpenAI documents for
  `gpt-image-1`; the prompt names what each picture is, in order.
- The answer's `data[i].b64_json` is decoded; a service that answers with `data[i].url`
  instead is downloaded with the same HTTP client.
- OpenAI has no negative prompt, seed, steps or cfg: the negative prompt joins the prompt as
  "Avoid: …"; seed, steps and cfg are sent as extra fields (`seed`, `num_inference_steps`,
  `guidance_scale`) only to compatible services (a base URL other than api.openai.com),
  which read them.
- OpenAI's models accept a few sizes only: `dall-e-*` and `gpt-image-*` get the supported
  size of the closest aspect ratio (the asset service fits the picture to the frame);
  other models get the asked `WIDTHxHEIGHT`.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import httpx
import openai

from storyreel_core.providers.config import Provider
from storyreel_core.providers.openai_text import map_openai_error
from storyreel_core.providers.ports import (
    ContentRefused,
    ImageRequest,
    ImageResult,
    Progress,
    ProviderError,
    Usage,
)

# gpt-image-1's refusal code (OpenAI's image moderation), besides the text side's codes.
_IMAGE_REFUSAL_CODES = {"moderation_blocked", "content_policy_violation", "content_filter"}
_OPENAI_SIZES = {
    "gpt-image": ((1024, 1024), (1024, 1536), (1536, 1024)),
    "dall-e-3": ((1024, 1024), (1024, 1792), (1792, 1024)),
    "dall-e-2": ((256, 256), (512, 512), (1024, 1024)),
}


def openai_size(model: str, width: int, height: int) -> str:
    """`WIDTHxHEIGHT` for the request: OpenAI's supported size of the closest aspect ratio for
    its own models, else the asked size."""
    for prefix, sizes in _OPENAI_SIZES.items():
        if model.startswith(prefix):
            aspect = width / height
            w, h = min(sizes, key=lambda s: abs(s[0] / s[1] - aspect))
            return f"{w}x{h}"
    return f"{width}x{height}"


def _prompt(request: ImageRequest) -> str:
    text = request.prompt
    if request.references:
        named = "; ".join(
            f"image {i + 1}: {r.role} {r.name}" for i, r in enumerate(request.references)
        )
        text += f"\nReference images ({named}). Keep each character and place as shown."
    if request.negative_prompt:
        text += f"\nAvoid: {request.negative_prompt}"
    return text


class OpenAIImageModel:
    """`ImageModel` over the OpenAI images API of any compatible server."""

    def __init__(
        self, provider: str, model: str, client: openai.AsyncOpenAI, *, extras: bool
    ) -> None:
        self.provider = provider
        self.model = model
        self.client = client
        self.extras = extras  # send seed/steps/cfg (compatible services read them)

    @classmethod
    def from_provider(cls, provider: Provider, model: str) -> OpenAIImageModel:
        config = provider.config
        client = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=provider.api_key.get_secret_value() if provider.api_key else "unused",
            timeout=config.timeout_s,
            max_retries=0,  # the call layer retries, honouring Retry-After
        )
        extras = "api.openai.com" not in (config.base_url or "")
        return cls(config.name, model, client, extras=extras)

    async def generate(
        self, request: ImageRequest, on_progress: Progress | None = None
    ) -> ImageResult:
        """One generate or edit call. Raises the `ProviderError` family (`ContentRefused` on a
        moderation refusal, `ProviderRateLimited` on 429 with its Retry-After)."""
        started = time.perf_counter()
        extra: dict[str, Any] = {}
        if self.extras:
            body: dict[str, Any] = {}
            if request.seed is not None:
                body["seed"] = request.seed
            if request.steps is not None:
                body["num_inference_steps"] = request.steps
            if request.cfg_scale is not None:
                body["guidance_scale"] = request.cfg_scale
            if request.negative_prompt:
                body["negative_prompt"] = request.negative_prompt
            if body:
                extra["extra_body"] = body
        size = openai_size(self.model, request.width, request.height)
        try:
            if request.references:
                files = [
                    (f"{i:02d}_{r.role}.png", r.data, "image/png")
                    for i, r in enumerate(request.references)
                ]
                answer = await self.client.images.edit(
                    model=self.model,
                    image=files,
                    prompt=_prompt(request),
                    n=request.count,
                    size=size,
                    **extra,
                )
            else:
                answer = await self.client.images.generate(
                    model=self.model,
                    prompt=_prompt(request),
                    n=request.count,
                    size=size,
                    **extra,
                )
        except openai.APIStatusError as exc:
            if exc.code in _IMAGE_REFUSAL_CODES:
                message = f"{self.provider}: refused: {exc.message}"[:500]
                raise ContentRefused(message, provider=self.provider) from None
            raise map_openai_error(exc, self.provider) from None
        except openai.OpenAIError as exc:
            raise map_openai_error(exc, self.provider) from None
        images: list[bytes] = []
        for item in answer.data or []:
            if item.b64_json:
                images.append(base64.b64decode(item.b64_json))
            elif item.url:
                images.append(await self._download(item.url))
        if not images:
            raise ProviderError(
                f"{self.provider}: the answer holds no image", provider=self.provider
            )
        if on_progress is not None:
            await on_progress(1.0)
        usage = Usage(
            provider=self.provider,
            model=self.model,
            modality="image",
            latency_s=round(time.perf_counter() - started, 4),
            images=len(images),
        )
        return ImageResult(images=tuple(images), usage=usage)

    async def _download(self, url: str) -> bytes:
        try:
            async with httpx.AsyncClient(timeout=self.client.timeout) as http:  # type: ignore[arg-type]
                response = await http.get(url)
                response.raise_for_status()
                return response.content
        except httpx.HTTPError as exc:
            raise ProviderError(
                f"{self.provider}: cannot download the image: {exc}"[:500], provider=self.provider
            ) from None
