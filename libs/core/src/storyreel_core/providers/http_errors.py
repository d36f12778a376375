"""Vendor HTTP answers and failures as the port's errors, for every adapter on httpx or an SDK.

- 429 → `ProviderRateLimited` with the vendor's wait: `retry-after-ms` (OpenAI's), else
  `Retry-After` as delta-seconds or an HTTP-date (RFC 9110 §10.2.3);
- 5xx → `ProviderUnavailable`; a refusal the adapter recognises → `ContentRefused`; any other
  4xx → `ProviderError` (not retried);
- a timeout → `ProviderTimeout`, a transport failure (refused, reset) → `ProviderUnavailable`.

Messages name the provider and what was asked, never a key or a URL with credentials.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from storyreel_core.providers.ports import (
    ContentRefused,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
)

MAX_MESSAGE = 500


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds to wait from `retry-after-ms` or `retry-after` (delta-seconds or an HTTP date,
    RFC 9110 §10.2.3); None when absent or unreadable."""
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis:
        try:
            return float(millis) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def status_error(
    provider: str, response: httpx.Response, message: str, *, refused: bool = False
) -> ProviderError:
    """The port error for an HTTP error answer; `refused`: the adapter read a content refusal."""
    message = message[:MAX_MESSAGE]
    if response.status_code == 429:
        wait = retry_after_seconds(response.headers)
        return ProviderRateLimited(message, provider=provider, retry_after_s=wait)
    if response.status_code >= 500:
        return ProviderUnavailable(message, provider=provider)
    if refused:
        return ContentRefused(message, provider=provider)
    return ProviderError(message, provider=provider)


async def send(
    http: httpx.AsyncClient,
    provider: str,
    method: str,
    url: str,
    *,
    what: str,
    error: Callable[[httpx.Response], ProviderError],
    **kwargs: Any,
) -> httpx.Response:
    """One request; a 2xx/3xx answer back, else `error(response)` raised; failures mapped."""
    try:
        response = await http.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise ProviderTimeout(f"{provider}: {what} timed out", provider=provider) from None
    except httpx.HTTPError as exc:
        raise ProviderUnavailable(
            f"{provider}: {what}: {exc}"[:MAX_MESSAGE], provider=provider
        ) from None
    if response.status_code >= 400:
        raise error(response)
    return response
