"""Loopback stand-ins for image-to-video vendors, for tests (no video model runs here).

`VideoStandIn` stands in, on one uvicorn port in a thread, for:

- a ComfyUI server running an image-to-video workflow (ComfyUI's `server.py` protocol, as
  `script_examples/websockets_api_example.py` uses it): `POST /upload/image` (multipart
  `image`), `POST /prompt` (`{"prompt", "client_id"}` → `{"prompt_id", "number",
  "node_errors"}`), `GET /ws?clientId=` (JSON `progress` and `executing` messages, binary
  previews), `GET /history/{prompt_id}` (the MP4 listed the way core `SaveVideo` lists it:
  under `images` with `animated: [true]`), `GET /view`, `POST /queue`, `POST /interrupt`;
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
from loopback_app import LoopbackApp
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

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
        self.uploads: dict[str, bytes] = {}
        self.history: dict[str, dict[str, Any]] = {}
        self.sockets: dict[str, WebSocket] = {}
        self.cancelled: list[str] = []
        app = Starlette(
            routes=[
                Route("/v1/videos", self._submit, methods=["POST"]),
                Route("/v1/videos/{job_id}", self._poll),
                Route("/v1/videos/{job_id}/content", self._content),
                Route("/upload/image", self._upload, methods=["POST"]),
                Route("/prompt", self._prompt, methods=["POST"]),
                Route("/history/{prompt_id}", self._history),
                Route("/view", self._view),
                Route("/queue", self._queue, methods=["POST"]),
                Route("/interrupt", self._interrupt, methods=["POST"]),
                WebSocketRoute("/ws", self._ws),
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
        self.calls["comfyui"] += 1
        text = next(
            (n["inputs"]["text"] for n in workflow.values() if n["class_type"] == "CLIPTextEncode"),
            "",
        )
        behaviour = self.behave("comfyui", self.calls["comfyui"], str(text))
        await asyncio.sleep(behaviour.delay_s)
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
        return JSONResponse(
            {"prompt_id": prompt_id, "number": self.calls["comfyui"], "node_errors": {}}
        )

    async def _execute(
        self, prompt_id: str, workflow: dict[str, Any], client_id: str, b: Behaviour
    ) -> None:
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
        socket = self.sockets.get(client_id)
        if socket is not None:
            await socket.send_json({"type": "execution_start", "data": {"prompt_id": prompt_id}})
        steps = 4
        for step in range(1, steps + 1):
            await asyncio.sleep(0.02)
            if b.hold is not None and step > steps // 2:
                await asyncio.to_thread(b.hold.wait, 30)
            if socket is not None:
                await socket.send_bytes(b"\x00\x00\x00\x01preview")
                await socket.send_json(
                    {
                        "type": "progress",
                        "data": {"value": step, "max": steps, "prompt_id": prompt_id, "node": "12"},
                    }
                )
        if b.never_finish:
            await asyncio.sleep(3600)
        if b.refuse:
            if socket is not None:
                await socket.send_json(
                    {
                        "type": "execution_error",
                        "data": {
                            "prompt_id": prompt_id,
                            "node_type": "SamplerCustomAdvanced",
                            "exception_message": "content refused",
                        },
                    }
                )
            return
        data = await asyncio.to_thread(self._clip, seen)
        name = f"storyreel_clip_{len(self.requests):05d}_.mp4"
        self.clips[name] = data
        self.history[prompt_id] = {
            "prompt": [self.calls["comfyui"], prompt_id, workflow, {}, ["15"]],
            "outputs": {
                "15": {
                    "images": [{"filename": name, "subfolder": "video", "type": "output"}],
                    "animated": [True],
                }
            },
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
        data = self.clips.get(request.query_params.get("filename", ""))
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type="video/mp4")

    async def _queue(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.cancelled.extend(body.get("delete") or [])
        return JSONResponse({})

    async def _interrupt(self, request: Request) -> Response:
        return JSONResponse({})
