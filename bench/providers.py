"""Speech under a provider's concurrency limit, and the cache on a second identical run.

A loopback server stands in for an OpenAI-compatible speech vendor (`POST /v1/audio/speech`,
a WAV answer) with a fixed latency of 300 ms. The tts `speech` job speaks a 16-line script
through the `openai` speech adapter with max_concurrency 4, so the floor is
16 / 4 × 0.3 s = 1.2 s. Printed: the wall time, its ratio to that floor (target ≤ 1.3), and the
provider calls of the run; then the same job again, which must make 0 provider calls (the
content-addressed cache of the call layer, `storyreel_core.providers.calls`). As a peer in the
same run, the bare adapter makes the same 16 calls under a plain semaphore of 4: on a loaded
machine both exceed the floor alike, and the job's ratio to the peer is what the job adds.

Run: `make bench-providers` (or `.venv/bin/python bench/providers.py`).
"""

from __future__ import annotations

import asyncio
import json
import math
import multiprocessing
import struct
import sys
import tempfile
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

LATENCY_S = 0.3
MAX_CONCURRENCY = 4
LINES = 16
RATE = 24_000
CALLS: Any = multiprocessing.Value("i", 0)  # provider calls, counted by the server process


def _answer() -> bytes:
    """Half a second of a tone as a 24 kHz 16-bit mono WAV (the same for every request)."""
    pcm = b"".join(struct.pack("<h", round(6000 * math.sin(i / 12))) for i in range(RATE // 2))
    fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 36 + len(pcm))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + struct.pack("<I", len(pcm))
        + pcm
    )


ANSWER = _answer()


class SlowVendor(BaseHTTPRequestHandler):
    """Stands in for the vendor: the documented endpoint, a fixed 300 ms latency."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with CALLS.get_lock():
            CALLS.value += 1
        time.sleep(LATENCY_S)
        body = ANSWER
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(port: Any) -> None:
    """The vendor's process: a real HTTP server on a free loopback port."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowVendor)
    port.value = server.server_address[1]
    server.serve_forever()


async def run_job(job: Any, payload: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    from storyreel_core.bus.job_runner import Job

    class Ctx:
        async def progress(self, *args: Any, **kwargs: Any) -> None:
            pass

    started = time.perf_counter()
    result = await job(
        Job(
            task_id=f"task_bench{time.time_ns()}",
            kind="speech",
            owner_id="u",
            payload=payload,
            attempt=1,
        ),
        Ctx(),
    )
    return time.perf_counter() - started, result


async def main() -> int:
    from storyreel_core.logging import configure_logging

    configure_logging("WARNING")
    from storyreel_core.drama_models import Character, DialogueLine, Shot, Storyboard
    from storyreel_core.providers.config import Provider, ProviderConfig
    from storyreel_core.providers.registry import ProviderRegistry
    from storyreel_core.stores.folder_store import FolderObjectStore
    from storyreel_tts.speech_backend import SpeechBackend
    from storyreel_tts.speech_job import SpeechJob

    port: Any = multiprocessing.Value("i", 0)
    vendor = multiprocessing.Process(target=serve, args=(port,), daemon=True)
    vendor.start()
    for _ in range(1000):
        if port.value:
            break
        await asyncio.sleep(0.01)
    config = ProviderConfig(
        name="loopback",
        type="openai",
        speech_model=["tts-1"],
        max_concurrency=MAX_CONCURRENCY,
        base_url=f"http://127.0.0.1:{port.value}/v1",
    )
    with tempfile.TemporaryDirectory() as folder:
        objects = FolderObjectStore(Path(folder))
        registry = ProviderRegistry([Provider(config=config)], objects)
        job = SpeechJob(objects, SpeechBackend(registry))
        people = [
            Character(id="c-a", name="Ann", gender="female"),
            Character(id="c-b", name="Bo", gender="male"),
        ]
        shots = [
            Shot(
                id=f"s{i}",
                number=i + 1,
                scene_id="sc",
                narration=f"Line {2 * i} of the story.",
                dialogue=[DialogueLine(character_id=people[i % 2].id, text=f"Line {2 * i + 1}.")],
            )
            for i in range(LINES // 2)
        ]
        board = Storyboard(language="en", characters=people, shots=shots)
        payload = {"storyboard": board.model_dump(mode="json"), "audio_provider": "loopback"}
        floor = LINES / MAX_CONCURRENCY * LATENCY_S
        # Warm-up on other text: imports the SDK and opens the client (one-time costs).
        warm = board.model_copy(update={"shots": board.shots[:1]})
        warm.shots[0] = warm.shots[0].model_copy(update={"narration": "Warm-up.", "dialogue": []})
        await run_job(job, {**payload, "storyboard": warm.model_dump(mode="json")})
        from storyreel_core.providers.openai_speech import OpenAISpeech
        from storyreel_core.providers.ports import SpeechRequest

        bare = OpenAISpeech(
            provider="peer", model="tts-1", api_key="", base_url=f"http://127.0.0.1:{port.value}/v1"
        )
        await bare.synthesize(SpeechRequest(text="warm", voice="nova"))
        slots = asyncio.Semaphore(MAX_CONCURRENCY)

        async def peer_call(i: int) -> None:
            async with slots:
                await bare.synthesize(SpeechRequest(text=f"peer line {i}", voice="nova"))

        started = time.perf_counter()
        await asyncio.gather(*(peer_call(i) for i in range(LINES)))
        peer = time.perf_counter() - started
        print(
            f"peer (bare adapter, semaphore {MAX_CONCURRENCY}): {peer:.2f} s, "
            f"ratio to floor {peer / floor:.2f}"
        )
        for attempt in ("first", "second"):
            before = CALLS.value
            wall, result = await run_job(job, payload)
            calls = CALLS.value - before
            peak = registry.limiter("loopback").peak_in_flight
            print(
                f"{attempt} run: {LINES} lines, {wall:.2f} s, ratio to {floor:.2f} s floor "
                f"{wall / floor:.2f}, provider calls {calls} (result: {result['usage']['calls']}"
                f" calls, {result['usage']['cached']} cached), peak in flight {peak}, "
                f"ratio to peer {wall / peer:.2f}"
            )
    vendor.terminate()
    vendor.join()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
