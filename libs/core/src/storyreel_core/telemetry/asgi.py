"""The gateway's request histogram, as a plain ASGI middleware.

Labelled by the route *template* (`/api/v1/dramas/{drama_id}`), never the raw path, so ids do
not explode the series count; requests that match no route share the label `unmatched`. Plain
ASGI rather than Starlette's BaseHTTPMiddleware so streamed media (Range) is not buffered.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from storyreel_core.telemetry.metrics import HTTP_REQUEST_SECONDS

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNMATCHED = "unmatched"


def route_template(scope: Scope) -> str:
    """The matched route's path template; the router leaves the route in the shared scope."""
    path = getattr(scope.get("route"), "path", None)
    return path if isinstance(path, str) and path else UNMATCHED


class RequestMetricsMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # what the client gets when the app raises before responding

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            HTTP_REQUEST_SECONDS.labels(
                scope.get("method", ""), route_template(scope), str(status)
            ).observe(time.perf_counter() - start)
