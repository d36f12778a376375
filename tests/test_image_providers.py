"""Image providers: the `openai` and `comfyui` adapters through the call layer and the frames
job, against `ImageStandIn`, which stands in for OpenAI's images API and a ComfyUI server
(their documented protocols; no model can run here).
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from image_standins import Behaviour, ImageStandIn, sha
from PIL import Image

from storyreel_asset.frames_job import FramesJob
from storyreel_asset.model_frames import character_seed
from storyreel_core.bus.job_runner import Job
from storyreel_core.drama_models import Character, Shot, Storyboard
from storyreel_core.errors import ValidationFailed
from storyreel_core.providers.config import parse_providers
from storyreel_core.providers.ports import (
    ContentRefused,
    ImageRequest,
    ProviderTimeout,
    ProviderUnavailable,
)
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.providers.usage import UsageLedger
from storyreel_core.stores.folder_store import FolderObjectStore


def providers_file(url: str, timeout_s: float = 10, attempts: int = 3) -> str:
    return f"""
[[provider]]
name = "oai"
type = "openai"
base_url = "{url}/v1"
image_model = ["img-1", "img-2"]
max_attempts = {attempts}
retry_backoff_s = 0.01
timeout_s = {timeout_s}
prices = {{ per_image = 0.04 }}

[[provider]]
name = "comfy"
type = "comfyui"
base_url = "{url}"
image_model = "sdxl.safetensors"
max_attempts = {attempts}
retry_backoff_s = 0.01
timeout_s = {timeout_s}
"""


class Ctx:
    """The part of `JobContext` a job handler uses: progress reports, recorded."""

    def __init__(self) -> None:
        self.reports: list[dict[str, Any]] = []

    async def progress(
        self, completed: int, total: int, step: str, *, current_item: Any = None, **_: Any
    ) -> None:
        self.reports.append({"completed": completed, "step": step, "item": current_item})


CAST = [
    Character(id="ch_mara", name="Mara", gender="female", description="lighthouse keeper"),
    Character(id="ch_tom", name="Tom", gender="male", description="young fisherman"),
]


def board(tom_in_shot_2: bool = True) -> Storyboard:
    shots = [
        Shot(
            id="s1",
            number=1,
            scene_id="sc1",
            prompt="Mara climbs",
            location="lighthouse",
            character_ids=["ch_mara"],
        ),
        Shot(
            id="s2",
            number=2,
            scene_id="sc1",
            prompt="They talk",
            location="lighthouse",
            character_ids=["ch_mara", "ch_tom"] if tom_in_shot_2 else ["ch_mara"],
        ),
        Shot(
            id="s3",
            number=3,
            scene_id="sc2",
            prompt="Tom rows",
            location="harbour",
            character_ids=["ch_tom"],
        ),
    ]
    return Storyboard(language="en", characters=CAST, shots=shots)


@pytest.fixture
def standin() -> Iterator[ImageStandIn]:
    server = ImageStandIn().start()
    yield server
    server.stop()


def registry(url: str, root: Path, **kw: Any) -> ProviderRegistry:
    return ProviderRegistry(parse_providers(providers_file(url, **kw)), FolderObjectStore(root))


async def run_frames(
    reg: ProviderRegistry,
    root: Path,
    provider: str,
    storyboard: Storyboard,
    task: str = "t1",
    budget: float | None = None,
) -> tuple[dict[str, Any], Ctx]:
    job = FramesJob(FolderObjectStore(root), providers=reg)
    ctx = Ctx()
    payload = {
        "storyboard": storyboard.model_dump(),
        "width": 96,
        "height": 160,
        "image_provider": provider,
        "num_steps": 4,
        "cfg_scale": 3.5,
        "budget": budget,
    }
    result = await job(
        Job(task_id=task, kind="frames", owner_id="u1", payload=payload, attempt=1), ctx
    )  # type: ignore[arg-type]
    return result, ctx


@pytest.mark.parametrize("provider", ["oai", "comfy"])
def test_sheets_come_first_and_each_shot_carries_its_references_and_seed(
    standin: ImageStandIn, tmp_path: Path, provider: str
) -> None:
    reg = registry(standin.base_url, tmp_path)
    result, ctx = asyncio.run(run_frames(reg, tmp_path, provider, board()))
    seen = standin.requests
    # 2 character sheets + 2 location sheets, then 3 shots.
    assert len(seen) == 7
    sheets = {c["character_id"]: (tmp_path / c["key"]).read_bytes() for c in result["characters"]}
    shots = seen[4:]
    by_prompt = {s.prompt.split(". ")[1] + ". " + s.prompt.split(". ")[2]: s for s in shots}
    assert set(sheets) == {"ch_mara", "ch_tom"}
    for s in seen[:4]:
        assert s.references == []  # sheets are drawn from text alone
    two = next(s for s in shots if "They talk" in s.prompt)
    one = next(s for s in shots if "Mara climbs" in s.prompt)
    rows = next(s for s in shots if "Tom rows" in s.prompt)
    if provider == "oai":
        # Each reference picture travels itself: the characters', then the location's.
        assert two.references[:2] == [sha(sheets["ch_mara"]), sha(sheets["ch_tom"])]
        assert len(two.references) == 3 and len(one.references) == 2
        assert one.references[0] == sha(sheets["ch_mara"])
    else:
        # ComfyUI gets one uploaded sheet of all references, side by side.
        sheet = Image.open(io.BytesIO(standin.uploads[two.workflow["10"]["inputs"]["image"]]))
        assert sheet.height == 512 and sheet.width > 3 * 200
        assert two.workflow["3"]["inputs"]["steps"] == 4
    assert two.seed == one.seed == character_seed("ch_mara")
    assert rows.seed == character_seed("ch_tom") != one.seed
    assert by_prompt  # every shot's prompt names the shot
    # The stored frame is the provider's picture, pixel for pixel.
    frame = next(f for f in result["frames"] if f["shot_id"] == "s3")
    stored = np.asarray(Image.open(tmp_path / frame["key"]).convert("RGB"))
    sent = np.asarray(Image.open(io.BytesIO(rows.images[0])).convert("RGB"))
    assert np.array_equal(stored, sent)
    assert result["usage"]["images"] == 7 and result["generator"]["provider"] == provider
    if provider == "comfy":
        fractions = [
            r["item"]["progress"] for r in ctx.reports if r["item"] and "progress" in r["item"]
        ]
        assert fractions and max(fractions) == 1.0 and 0 < min(fractions) < 1
    else:
        assert result["cost"] == pytest.approx(7 * 0.04)


def test_an_untouched_shot_comes_from_the_cache_and_a_changed_one_is_redrawn(
    standin: ImageStandIn, tmp_path: Path
) -> None:
    reg = registry(standin.base_url, tmp_path)

    async def three() -> tuple[int, dict[str, Any], dict[str, Any]]:
        await run_frames(reg, tmp_path, "comfy", board())
        first = len(standin.requests)
        again, _ = await run_frames(reg, tmp_path, "comfy", board(), task="t2")
        changed, _ = await run_frames(reg, tmp_path, "comfy", board(tom_in_shot_2=False), "t3")
        return first, again, changed

    first, again, changed = asyncio.run(three())
    assert again["usage"]["calls"] == 0 and again["usage"]["cached"] == 7
    assert len(standin.requests) == first + 1  # only shot 2, whose characters changed
    assert "They talk" in standin.requests[-1].prompt and changed["usage"]["calls"] == 1


def test_a_frames_budget_below_the_estimate_fails_before_any_call(
    standin: ImageStandIn, tmp_path: Path
) -> None:
    """2 character sheets + 2 location sheets + 3 shots at $0.04 = $0.28, checked up front."""
    reg = registry(standin.base_url, tmp_path)
    with pytest.raises(ValidationFailed, match=r"\$0\.280000 exceeds the budget of \$0\.250000"):
        asyncio.run(run_frames(reg, tmp_path, "oai", board(), budget=0.25))
    assert standin.requests == []
    result, _ = asyncio.run(run_frames(reg, tmp_path, "oai", board(), budget=0.28))
    assert result["cost"] == pytest.approx(0.28)


def test_unknown_image_provider_or_model_names_the_configured_ones(
    standin: ImageStandIn, tmp_path: Path
) -> None:
    reg = registry(standin.base_url, tmp_path)
    with pytest.raises(ValidationFailed, match="configured: oai, comfy, offline"):
        reg.resolve("image", "dalle", field="image_provider")
    with pytest.raises(ValidationFailed, match="img-1, img-2"):
        reg.resolve("image", "oai", "img-9", model_field="image_model")


async def _one(reg: ProviderRegistry, provider: str) -> Any:
    model = reg.image_model(reg.resolve("image", provider), UsageLedger())
    return await model.generate(ImageRequest(prompt="a cat", width=64, height=64, seed=7))


def test_error_paths() -> None:
    """429 with Retry-After is retried; 500 every time fails after max_attempts; a refusal
    fails at once; a slow answer times out; a ComfyUI prompt that never finishes fails with
    the limit in its message and is removed from the queue."""

    def behave(kind: str, n: int) -> Behaviour:
        return plan[n] if n in plan else Behaviour()

    plan: dict[int, Behaviour] = {}
    server = ImageStandIn(behave).start()
    try:
        asyncio.run(_error_paths(server, plan))
    finally:
        server.stop()


async def _error_paths(server: ImageStandIn, plan: dict[int, Behaviour]) -> None:
    reg = registry(server.base_url, Path(__file__).parent / "unused", timeout_s=0.6)
    reg.cache = None
    plan.update({1: Behaviour(status=429, headers={"retry-after": "0.05"})})
    assert len((await _one(reg, "oai")).images) == 1 and server.attempts == 2
    plan.update({n: Behaviour(status=500) for n in (3, 4, 5)})
    with pytest.raises(ProviderUnavailable, match="HTTP 500"):
        await _one(reg, "oai")
    assert server.attempts == 5
    plan[6] = Behaviour(status=400, error_code="moderation_blocked")
    with pytest.raises(ContentRefused, match="refused"):
        await _one(reg, "oai")
    assert server.attempts == 6  # never retried
    plan.update({n: Behaviour(delay_s=2) for n in (7, 8, 9)})
    with pytest.raises(ProviderTimeout):
        await _one(reg, "oai")
    plan.update({n: Behaviour(never_finish=True) for n in (10, 11, 12)})
    with pytest.raises(ProviderTimeout, match=r"did not finish within 0.6 s"):
        await _one(reg, "comfy")
    assert len(server.cancelled) == 3
    plan[13] = Behaviour(status=503)
    assert len((await _one(reg, "comfy")).images) == 1  # a 503 from /prompt is retried
