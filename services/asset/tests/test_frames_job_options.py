"""The `frames` stage's options for callers that keep frames of their own: no character
sheets, a JPEG thumbnail beside each frame; the defaults stay what the workflow relies on."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image

from storyreel_asset.frames_job import FramesJob
from storyreel_core.bus.job_runner import Job
from storyreel_core.drama_models import Character, Shot, Storyboard
from storyreel_core.stores.folder_store import FolderObjectStore


class Steps:
    async def progress(self, completed: int, total: int, step: str, **_: Any) -> None:
        return None


def board() -> dict[str, Any]:
    mei = Character(id="char_mei", name="Mei", gender="female")
    shots = [
        Shot(id=f"sb_{i}", number=i, scene_id="s1", location="tea house", character_ids=[mei.id])
        for i in (1, 2)
    ]
    return Storyboard(language="en", characters=[mei], shots=shots).model_dump(mode="json")


async def test_thumbnails_without_sheets(tmp_path: Path) -> None:
    objects = FolderObjectStore(tmp_path)
    payload = {
        "storyboard": board(),
        "width": 90,
        "height": 160,
        "character_sheets": False,
        "thumbnail_width": 48,
    }
    result = await FramesJob(objects)(Job("task_t", "frames", "u", payload, 1), Steps())  # type: ignore[arg-type]
    assert result["characters"] == []
    assert [f["shot_id"] for f in result["frames"]] == ["sb_1", "sb_2"]
    for frame in result["frames"]:
        png = await objects.get_bytes(frame["key"])
        assert Image.open(io.BytesIO(png)).size == (90, 160)
        assert (frame["size"], frame["width"], frame["height"]) == (len(png), 90, 160)
        thumb = Image.open(io.BytesIO(await objects.get_bytes(frame["thumbnail_key"])))
        assert thumb.format == "JPEG" and thumb.size == (48, 85)


async def test_defaults_draw_sheets_and_no_thumbnails(tmp_path: Path) -> None:
    objects = FolderObjectStore(tmp_path)
    payload = {"storyboard": board(), "width": 90, "height": 160}
    result = await FramesJob(objects)(Job("task_d", "frames", "u", payload, 1), Steps())  # type: ignore[arg-type]
    assert [c["character_id"] for c in result["characters"]] == ["char_mei"]
    assert all("thumbnail_key" not in f for f in result["frames"])
