"""Loopback stand-ins for image-to-video vendors, for tests (no video model runs here).

`VideoStandIn` stands in, on one uvicorn port in a thread, for:

- a ComfyUI server running an image-to-video workflow (ComfyUI's `server.py` protocol,
  `comfyui_standin.ComfyUIServer`): the MP4 is listed in `GET /history/{prompt_id}` the way
  core `SaveVideo` lists it, under `images` with `animated: [true]`;
- an asynchronous video API of the OpenAI videos / Kling / Seedance kind
  (https://platform.openai.com/docs/api-reference/videos): `POST /v1/videos` (JSON, or
  OpenAI's multipart with `input_reference`) → `{"id", "object": "video", "status":
  "queued", "progress": 0, …}`; `GET /v1/videos/{id}` → the job, advancing `progress` by
  `step` percent a poll until `completed` (with `video_url`) or `failed` (with `error:
  {code, message}`); `GET /v1/videos/{id}/content` → the MP4. Errors are OpenAI-shaped
  `{"error": {"message", "type", "code"}}` with 429 (+ `retry-after`) and 5xx.

Every clip is a real H.264 MP4 made with ffmpeg of ANOTHER size and rate than asked
(`CLIP_SIZE` at `CLIP_FPS`, 2 s), one solid colour per job, kept in `requests` beside what the
request carried (prompt, the start image's SHA-256, size, duration), so a test can check a
rendered frame against what the "vendor" returned. `behave(kind, number, prompt)` decides
failures: kind is "submit" (async API) or "comfyui", number counts those calls from 1.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import imageio_ffmpeg
from comfyui_standin import ComfyUIServer
from loopback_app import LoopbackApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

CLIP_SIZE = (480, 480)
CLIP_FPS = 12
CLIP_SECONDS = 2.0


@dataclass
class Behaviour:
    status: int = 200  # an HTTP error status for the submit / queue call
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # before answering the submit / queue call
    refuse: bool = False  # the job fails with a content-policy code
    never_finish: bool = False  # the job stays in progress forever
    hold: threading.Event | None = None  # progress stops at 50% until set


@dataclass
class Seen:
    """One job the stand-in accepted."""

    kind: str  # "async" or "comfyui"
    prompt: str
    image_sha256: str
    width: int
    height: int
    duration: float
    fps: int
    rgb: tuple[int, int, int] = (0, 0, 0)
    mp4: bytes = b""
    image: bytes = b""
    body: dict[str, Any] = field(default_factory=dict)


def colour(number: int) -> tuple[int, int, int]:
    """A clearly distinct, mid-range colour per job (kept away from black and white)."""
    digest = hashlib.sha256(f"clip{number}".encode()).digest()
    return tuple(40 + d % 176 for d in digest[:3])  # type: ignore[return-value]


def solid_mp4(rgb: tuple[int, int, int]) -> bytes:
    """A real H.264 MP4 of `CLIP_SIZE` at `CLIP_FPS`, `CLIP_SECONDS` long, in colour `rgb`."""
    w, h = CLIP_SIZE
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.mp4"
        subprocess.run(
            [
                imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-loglevel", "error",
                "-f", "lavfi", "-i",
                f"color=c=0x{rgb[0]:02x}{rgb[1]:02x}{rgb[2]:02x}:s={w}x{h}:r={CLIP_FPS}"
                f":d={CLIP_SECONDS}",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
                "-y", str(out),
            ],
            check=True,
        )  # fmt: skip
        return out.read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _image_bytes(value: Any) -> bytes:
    """A start image sent as a data URI or bare base64."""
    text = str(value or "")
    if text.startswith("data:"):
        text = text.split(",", 1)[1]
    return base64.b64decode(text) if text else b""


class VideoStandIn:
    """Stands in for a ComfyUI image-to-video server and an async video API (module doc)."""

    def __init__(
        self, behave: Callable[[str, int, str], Behaviour] | None = None, *, step: int = 50
    ) -> None:
        self.behave = behave or (lambda kind, n, prompt: Behaviour())
        self.step = step
        self.requests: list[Seen] = []
        self.calls: dict[str, int] = {"submit": 0, "comfyui": 0}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.behaviours: dict[str, Behaviour] = {}
        self.clips: dict[str, bytes] = {}
        self.comfyui = ComfyUIServer(self._admit, self._execute, "video/mp4")
        self.uploads = self.comfyui.uploads
        self.cancelled = self.comfyui.cancelled
        app = Starlette(
            routes=[
                Route("/v1/videos", self._submit, methods=["POST"]),
                Route("/v1/videos/{job_id}", self._poll),
                Route("/v1/videos/{job_id}/content", self._content),
                *self.comfyui.routes(),
            ]
        )
        self._app = LoopbackApp(app, "video stand-in")

    @property
    def base_url(self) -> str:
        return self._app.base_url

    def start(self) -> VideoStandIn:
        self._app.start()
        return self

    def stop(self) -> None:
        self._app.stop()

    def _clip(self, seen: Seen) -> bytes:
        self.requests.append(seen)
        seen.rgb = colour(len(self.requests))
        seen.mp4 = solid_mp4(seen.rgb)
        return seen.mp4

    # --- the async video API ------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str | None, message: str, headers: dict[str, str]) -> Response:
        kind = "server_error" if status >= 500 else "invalid_request_error"
        body = {"error": {"message": message, "type": kind, "param": None, "code": code}}
        return JSONResponse(body, status_code=status, headers=headers)

    async def _submit(self, request: Request) -> Response:
        if request.headers.get("content-type", "").startswith("multipart/"):
            form = await request.form()
            upload = form.get("input_reference")
            image = b"" if upload is None or isinstance(upload, str) else await upload.read()
            body: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str)}
            width, height = (int(v) for v in str(body.get("size", "720x1280")).split("x"))
            duration, fps = float(body.get("seconds", 4)), 24
        else:
            body = json.loads(await request.body())
            image = _image_bytes(body.get("image"))
            width, height = int(body["width"]), int(body["height"])
            duration, fps = float(body["duration"]), int(body["fps"])
        self.calls["submit"] += 1
        behaviour = self.behave("submit", self.calls["submit"], str(body.get("prompt", "")))
        await asyncio.sleep(behaviour.delay_s)
        if behaviour.status != 200:
            return self._error(
                behaviour.status, None, f"HTTP {behaviour.status}", behaviour.headers
            )
        seen = Seen("async", str(body.get("prompt", "")), sha(image), width, height, duration, fps)
        seen.image = image
        seen.body = {k: v for k, v in body.items() if k not in ("image", "end_image")}
        job_id = f"video_{uuid.uuid4().hex[:16]}"
        self.jobs[job_id] = {
            "id": job_id,
            "object": "video",
            "model": str(body.get("model", "")),
            "status": "queued",
            "progress": 0,
            "created_at": int(time.time()),
            "seconds": str(body.get("seconds", "4")),
            "size": f"{width}x{height}",
            "prompt": seen.prompt,
        }
        self.behaviours[job_id] = behaviour
        if not behaviour.refuse:
            self.clips[job_id] = await asyncio.to_thread(self._clip, seen)
        return JSONResponse(self.jobs[job_id])

    async def _poll(self, request: Request) -> Response:
        job_id = request.path_params["job_id"]
        job = self.jobs.get(job_id)
        if job is None:
            return self._error(404, "not_found", "no such video", {})
        b = self.behaviours[job_id]
        if job["status"] in ("queued", "in_progress"):
            job["status"] = "in_progress"
            if b.refuse:
                job["status"] = "failed"
                job["error"] = {
                    "code": "moderation_blocked",
                    "message": "Your request was blocked by our moderation system.",
                }
            elif b.never_finish:
                job["progress"] = min(99, job["progress"] + 1)
            elif b.hold is not None and job["progress"] >= 50 and not b.hold.is_set():
                job["progress"] = 50
            else:
                job["progress"] = min(100, job["progress"] + self.step)
                if job["progress"] >= 100:
                    job["status"] = "completed"
                    job["completed_at"] = int(time.time())
                    job["video_url"] = f"/v1/videos/{job_id}/content"
        return JSONResponse(job)

    async def _content(self, request: Request) -> Response:
        data = self.clips.get(request.path_params["job_id"])
        if data is None or self.jobs[request.path_params["job_id"]]["status"] != "completed":
            return self._error(404, "not_found", "the video is not ready", {})
        return Response(data, media_type="video/mp4")

    # --- ComfyUI (the protocol in comfyui_standin) -----------------------------------------

    async def _admit(self, workflow: dict[str, Any]) -> tuple[int, Behaviour]:
        self.calls["comfyui"] += 1
        text = next(
            (n["inputs"]["text"] for n in workflow.values() if n["class_type"] == "CLIPTextEncode"),
            "",
        )
        behaviour = self.behave("comfyui", self.calls["comfyui"], str(text))
        await asyncio.sleep(behaviour.delay_s)
        return self.calls["comfyui"], behaviour

    async def _execute(
        self, prompt_id: str, workflow: dict[str, Any], client_id: str, b: Behaviour
    ) -> None:
        """An image-to-video workflow: size and length from the node with `length`, the rate
        from the one with `frame_rate`, the start frame its LoadImage names; one MP4 listed
        the way core SaveVideo lists it (under `images`, `animated: [true]`)."""
        i2v = next(n for n in workflow.values() if "length" in n["inputs"])
        text = next(n for n in workflow.values() if n["class_type"] == "CLIPTextEncode")
        start = next(n for n in workflow.values() if n["class_type"] == "LoadImage")
        rate = next(n for n in workflow.values() if "frame_rate" in n["inputs"])
        fps = int(rate["inputs"]["frame_rate"])
        seen = Seen(
            "comfyui",
            text["inputs"]["text"],
            sha(self.uploads[start["inputs"]["image"]]),
            int(i2v["inputs"]["width"]),
            int(i2v["inputs"]["height"]),
            int(i2v["inputs"]["length"]) / fps,
            fps,
            body=workflow,
        )
        await self.comfyui.report_start(client_id, prompt_id)
        steps = 4
        for step in range(1, steps + 1):
            await asyncio.sleep(0.02)
            if b.hold is not None and step > steps // 2:
                await asyncio.to_thread(b.hold.wait, 30)
            await self.comfyui.report_progress(client_id, prompt_id, step, steps, "12")
        if b.never_finish:
            await asyncio.sleep(3600)
        if b.refuse:
            await self.comfyui.fail(
                client_id, prompt_id, "SamplerCustomAdvanced", "content refused"
            )
            return
        data = await asyncio.to_thread(self._clip, seen)
        name = f"storyreel_clip_{len(self.requests):05d}_.mp4"
        await self.comfyui.finish(
            client_id,
            prompt_id,
            self.calls["comfyui"],
            workflow,
            "15",
            {
                "images": [{"filename": name, "subfolder": "video", "type": "output"}],
                "animated": [True],
            },
            {name: data},
        )
