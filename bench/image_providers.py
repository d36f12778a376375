"""Storyboard frames through an image provider: concurrency limit and the cache.

`ImageStandIn` (tests/image_standins.py) stands in for a ComfyUI server (its /prompt, /ws,
/history, /view protocol) and takes 1 s per image. The asset service's `frames` job draws a
16-shot board (two characters whose default images are stored, so no sheet is drawn) through
the `comfyui` adapter with max_concurrency 4: the floor is 16 / 4 × 1 s = 4 s. Printed: the
wall time and its ratio to the floor (target ≤ 1.3) and, as a peer in the same run, the bare
adapter making 16 calls under a plain semaphore of 4 (on a loaded machine both exceed the
floor alike; the job's ratio to the peer is what the job adds); then the same board with one
shot's prompt changed (regenerating that shot's image): the provider calls it made (target 1,
not 16; the others come from the call layer's content-addressed cache).

Run: `.venv/bin/python bench/image_providers.py`.
"""

from __future__ import annotations

import asyncio
import io
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from image_standins import ImageStandIn

from storyreel_asset.frames_job import FramesJob
from storyreel_core.bus.job_runner import Job
from storyreel_core.drama_models import Character, Shot, Storyboard
from storyreel_core.providers.comfyui_image import ComfyUIImageModel
from storyreel_core.providers.config import parse_providers
from storyreel_core.providers.ports import ImageRequest
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.stores.folder_store import FolderObjectStore

LATENCY_S = 1.0
MAX_CONCURRENCY = 4
SHOTS = 16


class Ctx:
    async def progress(self, *args: Any, **kwargs: Any) -> None:
        pass


def board(changed: int | None = None) -> Storyboard:
    cast = [Character(id="ch_a", name="Ada"), Character(id="ch_b", name="Bo")]
    shots = [
        Shot(
            id=f"s{i}",
            number=i + 1,
            scene_id="sc1",
            prompt=f"shot {i}" + (" again, closer" if i == changed else ""),
            character_ids=["ch_a"] if i % 2 else ["ch_a", "ch_b"],
        )
        for i in range(SHOTS)
    ]
    return Storyboard(language="en", characters=cast, shots=shots)


def png(colour: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), colour).save(out, format="PNG")
    return out.getvalue()


def serve(port: Any, stop: Any) -> None:
    """The stand-in in its own process, so its work does not share the job's interpreter."""
    server = ImageStandIn(latency_s=LATENCY_S).start()
    port.value = server.port
    stop.wait()
    server.stop()


async def peer(base_url: str) -> float:
    """The bare adapter, 16 calls under a plain semaphore of 4: what the machine allows."""
    registry = ProviderRegistry(parse_providers(providers_toml(base_url)))
    model: ComfyUIImageModel = registry.adapter("comfy", "image", "sdxl.safetensors")
    slots = asyncio.Semaphore(MAX_CONCURRENCY)

    async def one(i: int) -> None:
        async with slots:
            await model.generate(
                ImageRequest(prompt=f"peer {i}", width=180, height=320, steps=4, seed=i)
            )

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(SHOTS)))
    return time.perf_counter() - started


def providers_toml(base_url: str) -> str:
    return f"""
[[provider]]
name = "comfy"
type = "comfyui"
base_url = "{base_url}"
image_model = "sdxl.safetensors"
max_concurrency = {MAX_CONCURRENCY}
timeout_s = 60
"""


async def run(root: Path, base_url: str) -> None:
    objects = FolderObjectStore(root)
    for cid, colour in (("ch_a", "red"), ("ch_b", "blue")):
        await objects.put_bytes(f"refs/{cid}.png", png(colour), "image/png")
    registry = ProviderRegistry(parse_providers(providers_toml(base_url)), objects)
    job = FramesJob(objects, providers=registry)

    async def frames(task: str, storyboard: Storyboard) -> dict[str, Any]:
        payload = {
            "storyboard": storyboard.model_dump(),
            "width": 180,
            "height": 320,
            "image_provider": "comfy",
            "num_steps": 4,
            "character_sheets": False,
            "references": {"ch_a": "refs/ch_a.png", "ch_b": "refs/ch_b.png"},
        }
        return await job(Job(task, "frames", "bench", payload, 1), Ctx())  # type: ignore[arg-type]

    bare = await peer(base_url)
    started = time.perf_counter()
    first = await frames("t1", board())
    wall = time.perf_counter() - started
    floor = SHOTS / MAX_CONCURRENCY * LATENCY_S
    print(f"16 shots, max_concurrency {MAX_CONCURRENCY}, {LATENCY_S:g} s per image")
    print(f"  frames job: wall {wall:.2f} s, ratio to the {floor:.1f} s floor {wall / floor:.2f}")
    print("  (target <= 1.3)")
    print(f"  peer (bare adapter, semaphore of 4): {bare:.2f} s, ratio {bare / floor:.2f};")
    print(f"  the job's ratio to the peer {wall / bare:.2f}")
    print(f"  provider calls {first['usage']['calls']}")
    second = await frames("t2", board(changed=5))
    calls = second["usage"]["calls"]
    print(
        f"regenerate one shot: {calls} provider call(s) (target 1, not {SHOTS});"
        f" {second['usage']['cached']} from the cache"
    )


def main() -> None:
    port: Any = multiprocessing.Value("i", 0)
    stop = multiprocessing.Event()
    process = multiprocessing.Process(target=serve, args=(port, stop), daemon=True)
    process.start()
    try:
        while not port.value:
            time.sleep(0.05)
        with tempfile.TemporaryDirectory() as tmp:
            asyncio.run(run(Path(tmp), f"http://127.0.0.1:{port.value}"))
    finally:
        stop.set()
        process.join(timeout=10)


if __name__ == "__main__":
    main()
