"""Signed, expiring media URLs: `/media/<key>?exp=<unix>&sig=<hmac>`.

The signature covers the key and the expiry with a key derived from the gateway secret, so a URL
can be handed to a video player or a CDN without a bearer token, and stops working on time.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any
from urllib.parse import quote

from storyreel_core.errors import AppError, Code


class MediaSigner:
    def __init__(self, secret: bytes, ttl_s: int) -> None:
        self._key = hmac.new(secret, b"storyreel-media-v1", hashlib.sha256).digest()
        self.ttl_s = ttl_s

    def _sig(self, key: str, exp: int) -> str:
        return hmac.new(self._key, f"{key}\n{exp}".encode(), hashlib.sha256).hexdigest()

    def sign(self, key: str, base_url: str = "") -> str:
        exp = int(time.time()) + self.ttl_s
        return f"{base_url}/media/{quote(key)}?exp={exp}&sig={self._sig(key, exp)}"

    def verify(self, key: str, exp: int, sig: str) -> None:
        # Compared as bytes: compare_digest refuses str with non-ASCII characters (TypeError).
        if not hmac.compare_digest(self._sig(key, exp).encode(), sig.encode("utf-8", "replace")):
            raise AppError("media signature is invalid", code=Code.FORBIDDEN, field="sig")
        if exp < time.time():
            raise AppError("media link has expired", code=Code.FORBIDDEN, field="exp")

    def with_urls(self, value: Any, base_url: str) -> Any:
        """Add a signed `*_url` beside every `*_key` in a task result, at any depth."""
        if isinstance(value, list):
            return [self.with_urls(v, base_url) for v in value]
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        for name, item in value.items():
            out[name] = self.with_urls(item, base_url)
            if isinstance(item, str) and (name == "key" or name.endswith("_key")):
                url_name = "url" if name == "key" else name[: -len("_key")] + "_url"
                out[url_name] = self.sign(item, base_url)
        return out
