"""Speech under a provider's concurrency limit, and the cache on a second identical run.

A loopback server stands in for an OpenAI-compatible speech vendor (`POST /v1/audio/speech`,
a WAV answer) with a fixed latency of 300 ms. The tts `speech` job speaks a 16-line script
through the `openai` speech adapter with max_concurrency 4, so the floor is
16 / 4 × 0.3 s = 1.2 s. Printed: the wall time, its ratio to that floor (target ≤ 1.3), and the
provider calls of the run; then the same job again, which must make 0 provider calls (the
content-addressed cache of the call layer, `storyreel_core.providers.calls`).

Run: `make bench-providers` (or `.venv/bin/python bench/providers.py`).
"""

from __future__ import annotations

import asyncio
import json
import math
import struct
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LATENCY_S = 0.3
MAX_CONCURRENCY = 4
LINES = 16
RATE = 24_000
CALLS = {"n": 0}


class SlowVendor(BaseHTTPRequestHandler):
    """Stands in for the vendor: the documented endpoint, a fixed 300 ms latency."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        CALLS["n"] += 1
        time.sleep(LATENCY_S)
        n = RATE // 2
        pcm = b"".join(struct.pack("<h", round(6000 * math.sin(i / 12))) for i in range(n))
        fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
        body = (b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVE" + b"fmt " + struct.pack("<I", 16)
                + fmt + b"data" + struct.pack("<I", len(pcm)) + pcm)
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def managed(model: Any, objects: Any) -> Any:
    """The adapter behind the shared call layer: limiter, retries, cache, usage."""
    from storyreel_core.providers.calls import ManagedSpeechModel, ProviderLimiter, Target
    from storyreel_core.providers.config import Provider, ProviderConfig
    from storyreel_core.providers.result_cache import ResultCache
    from storyreel_core.providers.usage import UsageLedger

    config = ProviderConfig(
        name="loopback", type="openai", base_url="http://unused", speech_model=["tts-1"],
        max_concurrency=MAX_CONCURRENCY,
    )
    target = Target(
        provider=Provider(config=config), model_name="tts-1", model=model,
        limiter=ProviderLimiter(MAX_CONCURRENCY, None),
    )
    return ManagedSpeechModel([target], UsageLedger(), ResultCache(objects))


async def run_job(job: Any, payload: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    from storyreel_core.bus.job_runner import Job

    class Ctx:
        async def progress(self, *args: Any, **kwargs: Any) -> None:
            pass

    started = time.perf_counter()
    result = await job(Job(task_id=f"task_bench{time.time_ns()}", kind="speech", owner_id="u",
                           payload=payload, attempt=1), Ctx())
    return time.perf_counter() - started, result


async def main() -> int:
    from storyreel_core.drama_models import Character, DialogueLine, Shot, Storyboard
    from storyreel_core.providers.openai_speech import OpenAISpeech
    from storyreel_core.stores.folder_store import FolderObjectStore
    from storyreel_tts.speech_backend import SpeechBackend
    from storyreel_tts.speech_job import SpeechJob

    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowVendor)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    adapter = OpenAISpeech(
        provider="loopback", model="tts-1",
        base_url=f"http://127.0.0.1:{server.server_address[1]}/v1", api_key="sk-bench",
    )
    with tempfile.TemporaryDirectory() as folder:
        objects = FolderObjectStore(Path(folder))
        model = managed(adapter, objects)
        job = SpeechJob(objects, SpeechBackend({"loopback": model}))
        people = [Character(id="c-a", name="Ann", gender="female"),
                  Character(id="c-b", name="Bo", gender="male")]
        shots = [
            Shot(id=f"s{i}", number=i + 1, scene_id="sc", narration=f"Line {2 * i} of the story.",
                 dialogue=[DialogueLine(character_id=people[i % 2].id, text=f"Line {2 * i + 1}.")])
            for i in range(LINES // 2)
        ]
        board = Storyboard(language="en", characters=people, shots=shots)
        payload = {"storyboard": board.model_dump(mode="json"), "audio_provider": "loopback"}
        floor = LINES / MAX_CONCURRENCY * LATENCY_S
        for attempt in ("first", "second"):
            before = CALLS["n"]
            wall, result = await run_job(job, payload)
            calls = CALLS["n"] - before
            print(f"{attempt} run: {LINES} lines, {wall:.2f} s, ratio to {floor:.2f} s floor "
                  f"{wall / floor:.2f}, provider calls {calls}")
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
