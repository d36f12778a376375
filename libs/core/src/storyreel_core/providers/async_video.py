"""The `async_video` adapter: any image-to-video HTTP API that works as submit → poll → download.

Kling, Seedance (Ark), MiniMax Hailuo, Runway and most hosted video models share that shape and
differ only in paths and field names, so one adapter configured by the providers file serves
them (`config.AsyncVideoApi`):

1. `POST {base_url}{submit_path}` with `body` filled in (the shot's frame as a data URI, the
   prompt, duration, size, fps, seed) and `Authorization: Bearer <key>` when the provider has
   a key → the job id at `id_path`.
2. `GET {base_url}{poll_path}` (`{id}` replaced) every `poll_interval_s`: the status at
   `status_path` (one of `done`, `failed`, `refused`, else still running), the progress at
   `progress_path` (divided by `progress_scale`), reported to the caller as it changes.
3. Done → `GET` the URL at `result_url_path` (absolute, or relative to `base_url`) → MP4 bytes.

Errors: HTTP 429 → `ProviderRateLimited` (with `Retry-After`), 5xx or a broken connection →
`ProviderUnavailable`, a refusal (a `refused` status, or an error code in `refusal_codes`, in
a failed job or a 4xx answer) → `ContentRefused`, any other failure → `ProviderError` quoting
the vendor's message. The whole cycle is bounded by the provider's `timeout_s`: a job that has
not finished by then is a `ProviderTimeout` naming the job and the limit.
"""

from __future__ import annotations

import asyncio
import base64
import math
import time
from typing import Any

import httpx

from storyreel_core.logging import get_logger
from storyreel_core.providers.comfyui_client import fill_template
from storyreel_core.providers.config import AsyncVideoApi, Provider
from storyreel_core.providers.http_errors import send, status_error
from storyreel_core.providers.ports import (
    ContentRefused,
    Progress,
    ProviderError,
    ProviderTimeout,
    Usage,
    VideoRequest,
    VideoResult,
)

log = get_logger("storyreel.providers")


def json_path(document: Any, path: str) -> Any:
    """The value at dotted `path` (`data.videos.0.url`; digits index lists), None if absent."""
    value = document
    for part in (p for p in path.split(".") if p):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _data_uri(data: bytes) -> str:
    kind = "image/jpeg" if data[:3] == b"\xff\xd8\xff" else "image/png"
    return f"data:{kind};base64,{base64.b64encode(data).decode()}"


def request_values(request: VideoRequest, model: str) -> dict[str, Any]:
    """The placeholders of a submit body (see `config.AsyncVideoApi`)."""
    end = request.end_image
    return {
        "model": model,
        "prompt": request.prompt,
        "start_image": _data_uri(request.start_image),
        "start_image_base64": base64.b64encode(request.start_image).decode(),
        "end_image": _data_uri(end) if end else None,
        "end_image_base64": base64.b64encode(end).decode() if end else None,
        "duration": request.duration_s,
        "duration_int": max(1, math.ceil(request.duration_s - 1e-9)),
        "width": request.width,
        "height": request.height,
        "size": f"{request.width}x{request.height}",
        "fps": request.fps,
        "seed": max(0, request.seed or 0),
    }


class AsyncVideoModel:
    """`VideoModel` over a configured submit/poll/download HTTP API (module doc)."""

    def __init__(
        self,
        provider: str,
        model: str,
        base_url: str,
        api: AsyncVideoApi,
        *,
        timeout_s: float,
        poll_interval_s: float,
        api_key: str | None = None,
    ) -> None:
        self.provider = provider
        self.model = model
        self.api = api
        self.timeout_s = timeout_s
        self.poll_interval_s = poll_interval_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=min(timeout_s, 60.0), headers=headers
        )

    @classmethod
    def from_provider(cls, provider: Provider, model: str) -> AsyncVideoModel:
        config = provider.config
        assert config.base_url is not None  # the providers file requires it
        return cls(
            config.name,
            model,
            config.base_url,
            config.video_api or AsyncVideoApi(),
            timeout_s=config.timeout_s,
            poll_interval_s=config.poll_interval_s,
            api_key=provider.api_key.get_secret_value() if provider.api_key else None,
        )

    def _refused(self, code: Any, status: Any = None) -> bool:
        return str(code) in self.api.refusal_codes or str(status) in self.api.refused

    def _http_error(self, response: httpx.Response, what: str) -> ProviderError:
        try:
            body: Any = response.json()
        except ValueError:
            body = {}
        detail = json_path(body, self.api.error_path) or response.text[:300]
        message = f"{self.provider}: {what}: HTTP {response.status_code}: {detail}"
        refused = self._refused(json_path(body, self.api.error_code_path))
        return status_error(self.provider, response, message, refused=refused)

    async def _call(self, method: str, url: str, what: str, **kwargs: Any) -> httpx.Response:
        return await send(
            self.http,
            self.provider,
            method,
            url,
            what=what,
            error=lambda response: self._http_error(response, what),
            **kwargs,
        )

    async def _run(
        self, request: VideoRequest, on_progress: Progress | None, jobs: list[str]
    ) -> tuple[str, bytes]:
        api = self.api
        body = fill_template(api.body, request_values(request, self.model))
        answer = (await self._call("POST", api.submit_path, "submit", json=body)).json()
        job_id = json_path(answer, api.id_path)
        if job_id in (None, ""):
            raise ProviderError(
                f"{self.provider}: the submit answer has no job id at {api.id_path!r}",
                provider=self.provider,
            )
        job = str(job_id)
        jobs.append(job)
        log.info("provider.video.submitted", provider=self.provider, job_id=job)
        last = -1.0
        while True:
            state = (await self._call("GET", api.poll_path.format(id=job), "poll")).json()
            status = str(json_path(state, api.status_path) or "").lower()
            progress = json_path(state, api.progress_path)
            if isinstance(progress, int | float) and on_progress is not None:
                fraction = min(max(float(progress) / api.progress_scale, 0.0), 1.0)
                if fraction > last:
                    last = fraction
                    await on_progress(fraction)
            if status in api.done:
                url = json_path(state, api.result_url_path)
                if not isinstance(url, str) or not url:
                    raise ProviderError(
                        f"{self.provider}: job {job} is done but has no video at"
                        f" {api.result_url_path!r}",
                        provider=self.provider,
                    )
                video = await self._call("GET", url, "download")
                return job, video.content
            if status in api.failed or status in api.refused:
                reason = json_path(state, api.error_path) or status
                message = f"{self.provider}: job {job} {status}: {reason}"[:500]
                if self._refused(json_path(state, api.error_code_path), status):
                    raise ContentRefused(message, provider=self.provider)
                raise ProviderError(message, provider=self.provider)
            await asyncio.sleep(self.poll_interval_s)

    async def generate(
        self, request: VideoRequest, on_progress: Progress | None = None
    ) -> VideoResult:
        """Submit, poll and download one clip within `timeout_s` (module doc for errors)."""
        started = time.perf_counter()
        jobs: list[str] = []
        try:
            async with asyncio.timeout(self.timeout_s):
                job, mp4 = await self._run(request, on_progress, jobs)
        except TimeoutError:
            name = jobs[0] if jobs else "(not submitted)"
            raise ProviderTimeout(
                f"{self.provider}: video job {name} did not finish within {self.timeout_s:g} s"
                " (timeout_s)",
                provider=self.provider,
            ) from None
        if not mp4:
            raise ProviderError(
                f"{self.provider}: job {job} gave an empty video", provider=self.provider
            )
        usage = Usage(
            provider=self.provider,
            model=self.model,
            modality="video",
            latency_s=round(time.perf_counter() - started, 4),
            seconds=request.duration_s,
        )
        return VideoResult(mp4=mp4, usage=usage)
