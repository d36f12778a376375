"""Content-addressed provider results in the object store.

The key is the SHA-256 of a canonical JSON of everything that decides the answer: modality,
provider, model, every request parameter and input (bytes inputs enter as their own SHA-256).
A redelivered job or a second identical request finds the answer there and makes no call.

Each entry is two objects under `cache/providers/<modality>/<aa>/<key>`: `.bin` (the payload:
WAV bytes, or nothing for text) written first, then `.json` (the result's fields and its
usage). A reader trusts an entry only once its `.json` exists, so a crash between the two
writes leaves a miss, never half an answer.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from storyreel_core.logging import get_logger
from storyreel_core.stores.object_store import ObjectStore

log = get_logger("storyreel.providers")
PREFIX = "cache/providers"


def _canonical(value: Any) -> Any:
    if isinstance(value, bytes | bytearray):
        return {"sha256": hashlib.sha256(value).hexdigest(), "bytes": len(value)}
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def cache_key(parts: dict[str, Any]) -> str:
    """SHA-256 hex of `parts` as canonical JSON (sorted keys, no whitespace, UTF-8)."""
    text = json.dumps(_canonical(parts), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class CachedEntry:
    meta: dict[str, Any]
    payload: bytes


class ResultCache:
    """Get and put provider results by content key; a store failure is a miss, never an error."""

    def __init__(self, objects: ObjectStore, prefix: str = PREFIX) -> None:
        self.objects = objects
        self.prefix = prefix

    def _base(self, modality: str, key: str) -> str:
        return f"{self.prefix}/{modality}/{key[:2]}/{key}"

    async def get(self, modality: str, key: str) -> CachedEntry | None:
        base = self._base(modality, key)
        try:
            if await self.objects.stat(base + ".json") is None:
                return None
            meta = json.loads(await self.objects.get_bytes(base + ".json"))
            payload = await self.objects.get_bytes(base + ".bin") if meta.get("payload") else b""
        except Exception as exc:  # an unreadable entry is a miss; the call is made again
            log.warning("provider.cache.unreadable", key=key, error=str(exc)[:200])
            return None
        return CachedEntry(meta=meta, payload=payload)

    async def put(self, modality: str, key: str, meta: dict[str, Any], payload: bytes) -> None:
        base = self._base(modality, key)
        try:
            if payload:
                await self.objects.put_bytes(base + ".bin", payload, "application/octet-stream")
            body = json.dumps({**meta, "payload": bool(payload)}, ensure_ascii=False)
            await self.objects.put_bytes(base + ".json", body.encode("utf-8"), "application/json")
        except Exception as exc:  # the answer is still good; only the next call pays again
            log.warning("provider.cache.write_failed", key=key, error=str(exc)[:200])
