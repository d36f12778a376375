"""A ComfyUI server's HTTP and WebSocket API: upload, queue, follow, read back.

The protocol follows ComfyUI's own `script_examples/websockets_api_example.py`:

1. `POST /upload/image` (multipart `image`, `overwrite=true`) → `{"name", "subfolder", "type"}`;
   the `name` goes into a `LoadImage` node.
2. Open `ws://HOST/ws?clientId=<client_id>` first, then `POST /prompt`
   `{"prompt": <API-format workflow>, "client_id": <client_id>}` → `{"prompt_id", "number",
   "node_errors"}` (HTTP 400 with `error`/`node_errors` for a workflow the server rejects).
3. Read JSON messages: `progress` `{"value", "max", "prompt_id"}` while a sampler runs;
   `executing` `{"node": null, "prompt_id"}` when the prompt is done; `execution_error`
   `{"prompt_id", "exception_message", "node_type"}` when it failed. Binary messages are
   previews and are skipped.
4. `GET /history/{prompt_id}` → `{prompt_id: {"outputs": {node_id: {"images"|"gifs"|"videos":
   [{"filename", "subfolder", "type"}]}}, "status": {...}}}`.
5. `GET /view?filename=&subfolder=&type=` → the file's bytes.

`run()` does 2–5 under one overall limit (the provider's `timeout_s`): a prompt that never
finishes is a `ProviderTimeout` naming the prompt and the limit, after an attempt to remove it
from the queue (`POST /queue {"delete": [prompt_id]}`) and interrupt it (`POST /interrupt`).
The image side (`comfyui_image`) and the image-to-video side both build on it.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.asyncio.client import connect
from websockets.exceptions import WebSocketException

from storyreel_core.logging import get_logger
from storyreel_core.providers.http_errors import send, status_error
from storyreel_core.providers.ports import (
    Progress,
    ProviderError,
    ProviderTimeout,
    ProviderUnavailable,
)

log = get_logger("storyreel.providers")


@dataclass(frozen=True)
class OutputFile:
    """One file a prompt produced, as `/history` lists it."""

    node_id: str
    kind: str  # "images", "gifs" or "videos"
    filename: str
    subfolder: str
    type: str


class ComfyUIClient:
    """One ComfyUI server (`base_url` like `http://comfyui:8188`) for one provider."""

    def __init__(
        self, provider: str, base_url: str, *, timeout_s: float, api_key: str | None = None
    ) -> None:
        self.provider = provider
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._headers = headers
        self.http = httpx.AsyncClient(
            base_url=self.base_url, timeout=min(timeout_s, 60.0), headers=headers
        )

    def _ws_url(self, client_id: str) -> str:
        scheme = "wss" if self.base_url.startswith("https") else "ws"
        host = self.base_url.split("://", 1)[-1]
        return f"{scheme}://{host}/ws?clientId={client_id}"

    def _error(self, response: httpx.Response, what: str) -> ProviderError:
        text = response.text[:300]
        message = f"{self.provider}: {what}: HTTP {response.status_code}: {text}"
        return status_error(self.provider, response, message)

    async def _request(self, method: str, path: str, what: str, **kwargs: Any) -> httpx.Response:
        return await send(
            self.http,
            self.provider,
            method,
            path,
            what=what,
            error=lambda response: self._error(response, what),
            **kwargs,
        )

    async def upload_image(self, name: str, data: bytes, content_type: str = "image/png") -> str:
        """Upload `data` as an input image; the name a `LoadImage` node reads it by."""
        response = await self._request(
            "POST",
            "/upload/image",
            "upload",
            files={"image": (name, data, content_type)},
            data={"overwrite": "true"},
        )
        body = response.json()
        sub = body.get("subfolder") or ""
        return f"{sub}/{body['name']}" if sub else str(body["name"])

    async def queue(self, workflow: dict[str, Any], client_id: str) -> str:
        """`POST /prompt`; the prompt id. A workflow the server rejects is a `ProviderError`
        quoting its `node_errors`."""
        response = await self._request(
            "POST", "/prompt", "queue prompt", json={"prompt": workflow, "client_id": client_id}
        )
        return str(response.json()["prompt_id"])

    async def history(self, prompt_id: str) -> dict[str, Any]:
        response = await self._request("GET", f"/history/{prompt_id}", "history")
        entry: dict[str, Any] = response.json().get(prompt_id) or {}
        return entry

    async def view(self, file: OutputFile) -> bytes:
        params = {"filename": file.filename, "subfolder": file.subfolder, "type": file.type}
        response = await self._request("GET", "/view", "view", params=params)
        return response.content

    async def _cancel(self, prompt_id: str) -> None:
        """Best effort: drop the prompt from the queue and stop it if it runs."""
        for path, body in (("/queue", {"delete": [prompt_id]}), ("/interrupt", {})):
            try:
                await self.http.post(path, json=body, timeout=5.0)
            except httpx.HTTPError:
                continue

    async def _follow(self, ws: Any, prompt_id: str, on_progress: Progress | None) -> None:
        """Read messages until `executing` with `node: null` for our prompt."""
        while True:
            message = await ws.recv()
            if isinstance(message, bytes):
                continue  # a preview image
            event = json.loads(message)
            kind, data = event.get("type"), event.get("data") or {}
            if data.get("prompt_id") not in (None, prompt_id):
                continue
            if kind == "progress" and on_progress is not None and data.get("max"):
                await on_progress(min(float(data["value"]) / float(data["max"]), 1.0))
            elif kind == "execution_success" or (
                kind == "executing" and data.get("node") is None and data.get("prompt_id")
            ):
                return
            elif kind == "execution_error":
                reason = data.get("exception_message") or "execution error"
                node = data.get("node_type") or data.get("node_id") or "?"
                raise ProviderError(
                    f"{self.provider}: prompt {prompt_id} failed in {node}: {reason}"[:500],
                    provider=self.provider,
                )

    async def run(
        self, workflow: dict[str, Any], on_progress: Progress | None = None
    ) -> tuple[str, list[OutputFile]]:
        """Queue `workflow`, follow it to the end, return its prompt id and output files.

        Raises `ProviderTimeout` when it has not finished within `timeout_s`, the
        `ProviderError` family for HTTP failures and execution errors.
        """
        client_id = uuid.uuid4().hex
        prompt_id = ""
        try:
            async with asyncio.timeout(self.timeout_s):
                try:
                    async with connect(
                        self._ws_url(client_id),
                        additional_headers=self._headers,
                        max_size=None,
                        open_timeout=min(self.timeout_s, 30.0),
                    ) as ws:
                        prompt_id = await self.queue(workflow, client_id)
                        log.info(
                            "provider.comfyui.queued", provider=self.provider, prompt_id=prompt_id
                        )
                        await self._follow(ws, prompt_id, on_progress)
                except (OSError, WebSocketException) as exc:
                    raise ProviderUnavailable(
                        f"{self.provider}: websocket: {exc}"[:500], provider=self.provider
                    ) from None
                entry = await self.history(prompt_id)
        except TimeoutError:
            if prompt_id:
                await self._cancel(prompt_id)
            raise ProviderTimeout(
                f"{self.provider}: ComfyUI prompt {prompt_id or '(not queued)'} did not finish"
                f" within {self.timeout_s:g} s (timeout_s)",
                provider=self.provider,
            ) from None
        status = entry.get("status") or {}
        if status.get("status_str") == "error":
            raise ProviderError(
                f"{self.provider}: prompt {prompt_id} ended with an error", provider=self.provider
            )
        files: list[OutputFile] = []
        for node_id, output in (entry.get("outputs") or {}).items():
            for kind in ("images", "gifs", "videos"):
                for item in output.get(kind) or []:
                    files.append(
                        OutputFile(
                            node_id=str(node_id),
                            kind=kind,
                            filename=str(item["filename"]),
                            subfolder=str(item.get("subfolder") or ""),
                            type=str(item.get("type") or "output"),
                        )
                    )
        return prompt_id, files


def fill_template(template: Any, values: dict[str, Any]) -> Any:
    """The workflow with each `{{name}}` placeholder replaced.

    A string that is exactly `"{{name}}"` becomes the value with its own JSON type (an int
    seed stays an int); a placeholder inside a longer string is replaced by its text. An
    unknown placeholder raises `KeyError` naming it, so a template typo fails loudly.
    """
    if isinstance(template, dict):
        return {k: fill_template(v, values) for k, v in template.items()}
    if isinstance(template, list):
        return [fill_template(v, values) for v in template]
    if isinstance(template, str) and "{{" in template:
        stripped = template.strip()
        if stripped.startswith("{{") and stripped.endswith("}}") and stripped.count("{{") == 1:
            return values[stripped[2:-2].strip()]
        out = template
        while "{{" in out:
            start = out.index("{{")
            end = out.index("}}", start)
            name = out[start + 2 : end].strip()
            out = out[:start] + str(values[name]) + out[end + 2 :]
        return out
    return template
