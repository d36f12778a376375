"""Loopback stand-ins for two image vendors, for tests and the benchmark (no model runs here).

`ImageStandIn` serves, on one uvicorn port in a thread:

- OpenAI's images API (https://platform.openai.com/docs/api-reference/images):
  `POST /v1/images/generations` (JSON `model, prompt, n, size`) and `POST /v1/images/edits`
  (multipart `image[]` files, `prompt`, `n`, `size`), answering `{"created", "data":
  [{"b64_json"}]}` or `{"error": {"message", "type", "code"}}` with OpenAI's statuses
  (429 with `retry-after`, 5xx, 400 `moderation_blocked`).
- ComfyUI's server API (`comfyui_standin.ComfyUIServer`) running a text-to-image workflow
  (EmptyLatentImage, KSampler, LoadImage references; one PNG out of node 9).

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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from comfyui_standin import ComfyUIServer
from loopback_app import LoopbackApp
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


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
        self.comfyui = ComfyUIServer(self._admit, self._execute, "image/png")
        self.uploads = self.comfyui.uploads
        self.cancelled = self.comfyui.cancelled
        self.in_flight = 0
        self.peak_in_flight = 0
        app = Starlette(
            routes=[
                Route("/v1/images/generations", self._generate, methods=["POST"]),
                Route("/v1/images/edits", self._edit, methods=["POST"]),
                *self.comfyui.routes(),
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

    # --- ComfyUI (the protocol in comfyui_standin) -----------------------------------------

    async def _admit(self, workflow: dict[str, Any]) -> tuple[int, Behaviour]:
        self.attempts += 1
        return self.attempts, self.behave("comfyui", self.attempts)

    async def _execute(
        self, prompt_id: str, workflow: dict[str, Any], client_id: str, b: Behaviour
    ) -> None:
        """A text-to-image workflow: the size from its empty latent, the seed and steps from
        its KSampler, the references its LoadImage nodes name; one PNG from SaveImage."""
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
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            await self.comfyui.report_start(client_id, prompt_id)
            steps = int(sampler["inputs"]["steps"])
            for step in range(1, steps + 1):
                await asyncio.sleep((self.latency_s + b.delay_s) / steps)
                await self.comfyui.report_progress(client_id, prompt_id, step, steps, "3")
            if b.never_finish:
                await asyncio.sleep(3600)
        finally:
            self.in_flight -= 1
        self.requests.append(seen)
        name = f"storyreel_{len(self.requests):05d}_.png"
        image = png(seen.width, seen.height, colour(len(self.requests) * 10))
        seen.images = [image]
        await self.comfyui.finish(
            client_id,
            prompt_id,
            self.attempts,
            workflow,
            "9",
            {"images": [{"filename": name, "subfolder": "", "type": "output"}]},
            {name: image},
        )
