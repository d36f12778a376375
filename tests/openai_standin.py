"""A loopback stand-in for OpenAI's chat completions API, for the error paths a real local
model cannot produce on demand (429 with Retry-After, 5xx, slow answers, refusals, a server
without `json_schema`).

It speaks the documented protocol (https://platform.openai.com/docs/api-reference/chat):
`POST /v1/chat/completions` answers a `chat.completion` object (`choices[0].message.content`,
`finish_reason`, `usage.prompt_tokens`/`completion_tokens`) or an error body
`{"error": {"message", "type", "code"}}` with the HTTP status and headers OpenAI uses
(`retry-after` on 429). Each test says what it makes the stand-in do through `reply`, a function
of the request body and its 1-based number. Served by uvicorn on a free port in a thread.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storyreel_core.testing import free_port


@dataclass
class Reply:
    """What the stand-in answers: `content` (a JSON string or text) or an error `status`."""

    content: str = "{}"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error_code: str | None = None
    error_message: str = "error"
    finish_reason: str = "stop"
    refusal: str | None = None
    delay_s: float = 0.0
    prompt_tokens: int = 20
    completion_tokens: int = 10


def completion_body(reply: Reply, model: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{time.time_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": reply.content,
                    "refusal": reply.refusal,
                },
                "finish_reason": reply.finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": reply.prompt_tokens,
            "completion_tokens": reply.completion_tokens,
            "total_tokens": reply.prompt_tokens + reply.completion_tokens,
        },
    }


ReplyFn = Callable[[dict[str, Any], int], Reply | Awaitable[Reply]]


class OpenAIStandIn:
    """Stands in for OpenAI's `POST /v1/chat/completions` on 127.0.0.1 (see the module doc)."""

    def __init__(self, reply: ReplyFn | None = None) -> None:
        self.reply: ReplyFn = reply or (lambda body, n: Reply())
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        self.port = free_port()
        app = Starlette(routes=[Route("/v1/chat/completions", self._chat, methods=["POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def calls(self) -> int:
        return len(self.requests)

    def start(self) -> OpenAIStandIn:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the OpenAI stand-in did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    async def _chat(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.requests.append(body)
        number = len(self.requests)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            made = self.reply(body, number)
            reply = await made if asyncio.iscoroutine(made) else made
            assert isinstance(reply, Reply)
            if reply.delay_s:
                await asyncio.sleep(reply.delay_s)
        finally:
            self.in_flight -= 1
        if reply.status != 200:
            error = {
                "error": {
                    "message": reply.error_message,
                    "type": "invalid_request_error" if reply.status < 500 else "server_error",
                    "param": None,
                    "code": reply.error_code,
                }
            }
            return JSONResponse(error, status_code=reply.status, headers=reply.headers)
        return JSONResponse(completion_body(reply, body.get("model", "")), headers=reply.headers)
