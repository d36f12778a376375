"""The `designs` job with an image provider (seed 001 §4's `image_provider`), against
`ImageStandIn`, which stands in for OpenAI's images API (its documented protocol; no model can
run here): each design comes from the model, fitted to its kind's size, with usage in the
result; `asset_id` redraws that asset in place."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import numpy as np
from image_standins import ImageStandIn
from PIL import Image
from test_image_providers import Ctx, registry

from storyreel_asset.asset_store import AssetStore
from storyreel_asset.design_job import SIZES, DesignJob
from storyreel_core.bus.job_runner import Job
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_core.stores.sqlite_store import SqliteDocumentStore

ITEMS = [
    {"kind": "character", "name": "林风", "description": "young swordsman"},
    {"kind": "prop", "name": "青锋剑", "description": "a jade sword"},
    {"kind": "scene", "name": "茶馆", "description": "night"},
]


async def run_designs(root: Path, url: str, payload: dict[str, Any], task: str) -> Any:
    docs = await SqliteDocumentStore(root / "db.sqlite").connect()
    objects = FolderObjectStore(root / "objects")
    try:
        job = DesignJob(AssetStore(docs, objects), registry(url, root / "cache"))
        job_payload = {"drama_id": "drama_1", "image_provider": "oai", **payload}
        result = await job(
            Job(task_id=task, kind="designs", owner_id="u1", payload=job_payload, attempt=1),
            Ctx(),  # type: ignore[arg-type]
        )
        stored = [await docs.get("assets", a["id"]) for a in result["assets"]]
        return result, stored, objects
    finally:
        await docs.close()


def test_designs_come_from_the_image_model_and_redraw_in_place(tmp_path: Path) -> None:
    standin = ImageStandIn().start()
    try:
        result, stored, objects = asyncio.run(
            run_designs(tmp_path, standin.base_url, {"items": ITEMS}, "task_d1")
        )
        assert len(standin.requests) == 3 and result["usage"]["images"] == 3
        assert result["generator"]["provider"] == "oai"
        prompts = [r.prompt for r in standin.requests]
        assert "林风" in prompts[0] and "青锋剑" in prompts[1] and "茶馆" in prompts[2]
        # A character's design is its sheet: a turnaround of the same figure.
        assert all(f"{view} view" in prompts[0] for view in ("front", "side", "back"))
        assert "turnaround" not in prompts[1] + prompts[2]
        for item, doc in zip(ITEMS, stored, strict=True):
            assert doc is not None and doc["kind"] == item["kind"]
            assert (doc["width"], doc["height"]) == SIZES[item["kind"]]
        # The stored design is the model's picture fitted to the design's size.
        first = asyncio.run(objects.get_bytes(stored[0]["key"]))
        sent = Image.open(io.BytesIO(standin.requests[0].images[0])).convert("RGB")
        kept = Image.open(io.BytesIO(first)).convert("RGB")
        assert kept.size == SIZES["character"]
        ref = sent.resize(kept.size)
        diff = np.abs(np.asarray(kept, np.float64) - np.asarray(ref, np.float64)).mean()
        assert diff < 40  # the same picture (fitted), not a procedural drawing

        target = stored[1]["_id"]
        again, redrawn, _ = asyncio.run(
            run_designs(
                tmp_path,
                standin.base_url,
                {"items": [{**ITEMS[1], "description": "a bronze sword"}], "asset_id": target},
                "task_d2",
            )
        )
        assert [a["id"] for a in again["assets"]] == [target]
        assert redrawn[0]["description"] == "a bronze sword"
        assert redrawn[0]["key"] == stored[1]["key"]  # in place: same id, same key
        assert "bronze" in standin.requests[-1].prompt
    finally:
        standin.stop()
