"""An ASGI app served by uvicorn on a free loopback port in a background thread: the shell of
the vendor stand-ins (images, video), which differ only in their routes."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from storyreel_core.testing import free_port


class LoopbackApp:
    """`start()` serves `app` at `base_url` until `stop()`; `name` goes into start errors."""

    def __init__(self, app: Any, name: str) -> None:
        self.name = name
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {self.name} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
