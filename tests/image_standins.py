"""Loopback stand-ins for two image vendors, for tests and the benchmark (no model runs here).

`ImageStandIn` serves, on one uvicorn port in a thread:

- OpenAI's images API (https://platform.openai.com/docs/api-reference/images):
  `POST /v1/images/generations` (JSON `model, prompt, n, size`) and `POST /v1/images/edits`
  (multipart `image[]` files, `prompt`, `n`, `size`), answering `{"created", "data":
  [{"b64_json"}]}` or `{"error": {"message", "type", "code"}}` with OpenAI's statuses
  (429 with `retry-after`, 5xx, 400 `moderation_blocked`).
- ComfyUI's server API (`server.py`; `script_examples/websockets_api_example.py`):
  `POST /upload/image`, `POST /prompt` (`{"prompt", "client_id"}` → `{"prompt_id", "number",
  "node_errors"}`), `GET /ws?clientId=` (JSON `progress` and `executing` messages),
  `GET /history/{prompt_id}` and `GET /view`, plus `POST /queue` and `POST /interrupt`.

Every image is a real PNG made with Pillow at the asked size, a solid colour that differs per
request, and is kept in `requests` beside what the request carried, so a test can compare a
frame's pixels with what the "vendor" returned. `behave(kind, number)` decides failures.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from loopback_app import LoopbackApp
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


@dataclass
class Behaviour:
    status: int = 200
    error_code: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    never_finish: bool = False  # ComfyUI: the prompt stays in the queue forever


@dataclass
class Seen:
    """One request the stand-in answered (or refused)."""

    kind: str  # "generate", "edit", "comfyui"
    prompt: str
    width: int
    height: int
    seed: int | None
    references: list[str]  # SHA-256 of each reference picture, in order
    images: list[bytes] = field(default_factory=list)
    workflow: dict[str, Any] = field(default_factory=dict)


def colour(number: int) -> tuple[int, int, int]:
    digest = hashlib.sha256(str(number).encode()).digest()
    return digest[0], digest[1], digest[2]


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), rgb).save(out, format="PNG")
    return out.getvalue()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ImageStandIn:
    """Stands in for OpenAI's images API and a ComfyUI server on 127.0.0.1 (module doc)."""

    def __init__(
        self, behave: Callable[[str, int], Behaviour] | None = None, latency_s: float = 0.0
    ) -> None:
        self.behave = behave or (lambda kind, n: Behaviour())
        self.latency_s = latency_s
        self.requests: list[Seen] = []
        self.attempts = 0
        self.uploads: dict[str, bytes] = {}
        self.history: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, bytes] = {}
        self.sockets: dict[str, WebSocket] = {}
        self.cancelled: list[str] = []
        self.in_flight = 0
        self.peak_in_flight = 0
        app = Starlette(
            routes=[
                Route("/v1/images/generations", self._generate, methods=["POST"]),
                Route("/v1/images/edits", self._edit, methods=["POST"]),
                Route("/upload/image", self._upload, methods=["POST"]),
                Route("/prompt", self._prompt, methods=["POST"]),
                Route("/history/{prompt_id}", self._history),
                Route("/view", self._view),
                Route("/queue", self._queue, methods=["POST"]),
                Route("/interrupt", self._interrupt, methods=["POST"]),
                WebSocketRoute("/ws", self._ws),
            ]
        )
        self._app = LoopbackApp(app, "image stand-in")

    @property
    def base_url(self) -> str:
        return self._app.base_url

    def start(self) -> ImageStandIn:
        self._app.start()
        return self

    def stop(self) -> None:
        self._app.stop()

    # --- OpenAI images ------------------------------------------------------------------

    def _error(self, b: Behaviour) -> Response:
        body = {
            "error": {
                "message": "blocked by the safety system"
                if b.error_code == "moderation_blocked"
                else f"HTTP {b.status}",
                "type": "image_generation_user_error" if b.status < 500 else "server_error",
                "param": None,
                "code": b.error_code,
            }
        }
        return JSONResponse(body, status_code=b.status, headers=b.headers)

    async def _answer(self, seen: Seen, count: int) -> Response:
        self.attempts += 1
        behaviour = self.behave(seen.kind, self.attempts)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.latency_s + behaviour.delay_s)
        finally:
            self.in_flight -= 1
        if behaviour.status != 200:
            return self._error(behaviour)
        self.requests.append(seen)
        seen.images = [
            png(seen.width, seen.height, colour(len(self.requests) * 10 + i)) for i in range(count)
        ]
        data = [{"b64_json": base64.b64encode(i).decode()} for i in seen.images]
        return JSONResponse({"created": int(time.time()), "data": data})

    async def _generate(self, request: Request) -> Response:
        body = json.loads(await request.body())
        width, height = (int(v) for v in str(body.get("size", "1024x1024")).split("x"))
        seen = Seen("generate", body["prompt"], width, height, body.get("seed"), [])
        return await self._answer(seen, int(body.get("n") or 1))

    async def _edit(self, request: Request) -> Response:
        form = await request.form()
        files = form.getlist("image[]") or form.getlist("image")
        refs = [sha(await f.read()) for f in files if not isinstance(f, str)]
        width, height = (int(v) for v in str(form.get("size", "1024x1024")).split("x"))
        seed = form.get("seed")
        seen = Seen(
            "edit",
            str(form["prompt"]),
            width,
            height,
            int(str(seed)) if seed is not None else None,
            refs,
        )
        return await self._answer(seen, int(str(form.get("n") or 1)))

    # --- ComfyUI ------------------------------------------------------------------------

    async def _upload(self, request: Request) -> Response:
        form = await request.form()
        upload = form["image"]
        assert not isinstance(upload, str)
        name = upload.filename or uuid.uuid4().hex
        self.uploads[name] = await upload.read()
        return JSONResponse({"name": name, "subfolder": "", "type": "input"})

    async def _ws(self, socket: WebSocket) -> None:
        client_id = socket.query_params.get("clientId", "")
        await socket.accept()
        self.sockets[client_id] = socket
        await socket.send_json({"type": "status", "data": {"status": {"exec_info": {}}}})
        try:
            while True:
                await socket.receive_text()
        except WebSocketDisconnect:
            self.sockets.pop(client_id, None)

    async def _prompt(self, request: Request) -> Response:
        body = json.loads(await request.body())
        workflow, client_id = body["prompt"], body.get("client_id", "")
        self.attempts += 1
        behaviour = self.behave("comfyui", self.attempts)
        if behaviour.status != 200:
            return JSONResponse(
                {"error": {"type": "error", "message": "busy"}, "node_errors": {}},
                status_code=behaviour.status,
                headers=behaviour.headers,
            )
        prompt_id = str(uuid.uuid4())
        asyncio.get_running_loop().create_task(
            self._execute(prompt_id, workflow, client_id, behaviour)
        )
        return JSONResponse({"prompt_id": prompt_id, "number": self.attempts, "node_errors": {}})

    async def _execute(
        self, prompt_id: str, workflow: dict[str, Any], client_id: str, b: Behaviour
    ) -> None:
        latent = next(
            n
            for n in workflow.values()
            if "Latent" in n["class_type"] and "Empty" in n["class_type"]
        )
        sampler = next(n for n in workflow.values() if n["class_type"] == "KSampler")
        text = next(n for n in workflow.values() if n["class_type"] == "CLIPTextEncode")
        refs = [
            sha(self.uploads[n["inputs"]["image"]])
            for n in workflow.values()
            if n["class_type"] == "LoadImage"
        ]
        seen = Seen(
            "comfyui",
            text["inputs"]["text"],
            int(latent["inputs"]["width"]),
            int(latent["inputs"]["height"]),
            int(sampler["inputs"]["seed"]),
            refs,
            workflow=workflow,
        )
        socket = self.sockets.get(client_id)
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            if socket is not None:
                await socket.send_json(
                    {"type": "execution_start", "data": {"prompt_id": prompt_id}}
                )
            steps = int(sampler["inputs"]["steps"])
            for step in range(1, steps + 1):
                await asyncio.sleep((self.latency_s + b.delay_s) / steps)
                if socket is not None:
                    await socket.send_bytes(b"\x00\x00\x00\x01preview")  # a preview frame
                    await socket.send_json(
                        {
                            "type": "progress",
                            "data": {
                                "value": step,
                                "max": steps,
                                "prompt_id": prompt_id,
                                "node": "3",
                            },
                        }
                    )
            if b.never_finish:
                await asyncio.sleep(3600)
        finally:
            self.in_flight -= 1
        self.requests.append(seen)
        name = f"storyreel_{len(self.requests):05d}_.png"
        image = png(seen.width, seen.height, colour(len(self.requests) * 10))
        seen.images = [image]
        self.outputs[name] = image
        self.history[prompt_id] = {
            "prompt": [self.attempts, prompt_id, workflow, {}, ["9"]],
            "outputs": {"9": {"images": [{"filename": name, "subfolder": "", "type": "output"}]}},
            "status": {"status_str": "success", "completed": True, "messages": []},
        }
        if socket is not None:
            await socket.send_json(
                {"type": "executing", "data": {"node": None, "prompt_id": prompt_id}}
            )

    async def _history(self, request: Request) -> Response:
        prompt_id = request.path_params["prompt_id"]
        entry = self.history.get(prompt_id)
        return JSONResponse({prompt_id: entry} if entry else {})

    async def _view(self, request: Request) -> Response:
        data = self.outputs.get(request.query_params.get("filename", ""))
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type="image/png")

    async def _queue(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.cancelled.extend(body.get("delete") or [])
        return JSONResponse({})

    async def _interrupt(self, request: Request) -> Response:
        return JSONResponse({})
