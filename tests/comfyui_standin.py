"""The ComfyUI server protocol the image and video stand-ins share (no model runs here).

ComfyUI's `server.py`, as `script_examples/websockets_api_example.py` drives it:
`POST /upload/image` (multipart `image` → `{"name", "subfolder", "type"}`), `POST /prompt`
(`{"prompt", "client_id"}` → `{"prompt_id", "number", "node_errors"}`, or an error body with
`node_errors`), `GET /ws?clientId=` (JSON `status`, `execution_start`, `progress`, `executing`
and `execution_error` messages, binary preview frames), `GET /history/{prompt_id}` (`{}` until
the prompt has run), `GET /view?filename=`, `POST /queue` (`{"delete": [ids]}`) and
`POST /interrupt`.

`ComfyUIServer` holds that protocol; the stand-in that owns it decides what a workflow makes:
`admit` numbers a prompt and picks its behaviour, `execute` runs it with the `report_*`
helpers and ends in `finish` (the output listed in the history) or `fail`.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


class Refusal(Protocol):
    """What `POST /prompt` needs of a stand-in's behaviour: an HTTP status and headers."""

    status: int
    headers: dict[str, str]


Admit = Callable[[dict[str, Any]], Awaitable[tuple[int, Any]]]
Execute = Callable[[str, dict[str, Any], str, Any], Awaitable[None]]


class ComfyUIServer:
    """ComfyUI's server API over the owner's `admit` and `execute` (module doc)."""

    def __init__(self, admit: Admit, execute: Execute, media_type: str) -> None:
        self.admit = admit
        self.execute = execute
        self.media_type = media_type
        self.uploads: dict[str, bytes] = {}
        self.history: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, bytes] = {}
        self.sockets: dict[str, WebSocket] = {}
        self.cancelled: list[str] = []

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/upload/image", self._upload, methods=["POST"]),
            Route("/prompt", self._prompt, methods=["POST"]),
            Route("/history/{prompt_id}", self._history),
            Route("/view", self._view),
            Route("/queue", self._queue, methods=["POST"]),
            Route("/interrupt", self._interrupt, methods=["POST"]),
            WebSocketRoute("/ws", self._ws),
        ]

    # --- what `execute` reports over the client's socket ----------------------------------

    async def _send(self, client_id: str, message: dict[str, Any]) -> None:
        socket = self.sockets.get(client_id)
        if socket is not None:
            await socket.send_json(message)

    async def report_start(self, client_id: str, prompt_id: str) -> None:
        await self._send(client_id, {"type": "execution_start", "data": {"prompt_id": prompt_id}})

    async def report_progress(
        self, client_id: str, prompt_id: str, step: int, steps: int, node: str
    ) -> None:
        """A preview frame, then `progress` `value`/`max` of sampler node `node`."""
        socket = self.sockets.get(client_id)
        if socket is None:
            return
        await socket.send_bytes(b"\x00\x00\x00\x01preview")
        await socket.send_json(
            {
                "type": "progress",
                "data": {"value": step, "max": steps, "prompt_id": prompt_id, "node": node},
            }
        )

    async def fail(self, client_id: str, prompt_id: str, node_type: str, message: str) -> None:
        """`execution_error`: the prompt ran and failed; nothing lands in the history."""
        await self._send(
            client_id,
            {
                "type": "execution_error",
                "data": {
                    "prompt_id": prompt_id,
                    "node_type": node_type,
                    "exception_message": message,
                },
            },
        )

    async def finish(
        self,
        client_id: str,
        prompt_id: str,
        number: int,
        workflow: dict[str, Any],
        node: str,
        output: dict[str, Any],
        files: dict[str, bytes],
    ) -> None:
        """Store `files` for `/view`, list `output` as node `node`'s in the history, and tell
        the client the prompt is done (`executing` with node None)."""
        self.outputs.update(files)
        self.history[prompt_id] = {
            "prompt": [number, prompt_id, workflow, {}, [node]],
            "outputs": {node: output},
            "status": {"status_str": "success", "completed": True, "messages": []},
        }
        await self._send(
            client_id, {"type": "executing", "data": {"node": None, "prompt_id": prompt_id}}
        )

    # --- the routes -----------------------------------------------------------------------

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
        number, behaviour = await self.admit(workflow)
        refusal: Refusal = behaviour
        if refusal.status != 200:
            return JSONResponse(
                {"error": {"type": "error", "message": "busy"}, "node_errors": {}},
                status_code=refusal.status,
                headers=refusal.headers,
            )
        prompt_id = str(uuid.uuid4())
        asyncio.get_running_loop().create_task(
            self.execute(prompt_id, workflow, client_id, behaviour)
        )
        return JSONResponse({"prompt_id": prompt_id, "number": number, "node_errors": {}})

    async def _history(self, request: Request) -> Response:
        prompt_id = request.path_params["prompt_id"]
        entry = self.history.get(prompt_id)
        return JSONResponse({prompt_id: entry} if entry else {})

    async def _view(self, request: Request) -> Response:
        data = self.outputs.get(request.query_params.get("filename", ""))
        if data is None:
            return Response(status_code=404)
        return Response(data, media_type=self.media_type)

    async def _queue(self, request: Request) -> Response:
        body = json.loads(await request.body())
        self.cancelled.extend(body.get("delete") or [])
        return JSONResponse({})

    async def _interrupt(self, request: Request) -> Response:
        return JSONResponse({})
