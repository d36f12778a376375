"""Counting what each API key does: an ASGI middleware that records the outcome of every
request authenticated by `X-API-Key`.

`current_user` marks the request (`scope["state"][USAGE_MARK]`: the store, the API user and
its key generation) as soon as the key is recognised; once the response has started this
middleware counts one request for that key and UTC day, succeeded when the status is below
400 (a refused quota or operation counts as failed). Requests without a key pass untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storyreel_core.logging import get_logger

if TYPE_CHECKING:
    from storyreel_gateway.auth.api_user_store import ApiUserStore

USAGE_MARK = "api_usage"
log = get_logger("storyreel.gateway")


@dataclass(frozen=True)
class ApiUse:
    store: ApiUserStore
    api_user_id: str
    key_id: str


def mark_use(scope: Scope, use: ApiUse) -> None:
    """Ask the middleware to count this request for `use`'s key."""
    scope.setdefault("state", {})[USAGE_MARK] = use


class ApiUsageMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_and_note)
        finally:
            state: dict[str, Any] = scope.get("state") or {}
            use = state.get(USAGE_MARK)
            if isinstance(use, ApiUse):
                try:
                    await use.store.record_use(use.api_user_id, use.key_id, status < 400)
                except Exception as exc:  # counting must never turn an answer into a 500
                    log.warning(
                        "auth.api_usage_failed", api_user_id=use.api_user_id, error=str(exc)
                    )
