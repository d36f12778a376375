"""Frame providers receive each character's designed image as a reference.

A model-backed provider (a GPU diffusion model, a hosted image API) cannot run here, so a
recording provider stands in for one: it implements the same port, remembers each request
and draws with the procedural renderer. The procedural provider itself ignores references
(it draws a character from its design), which the consistency tests cover.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from storyreel_asset.frame_provider import DrawnFrame, FrameRequest, ProceduralFrames
from storyreel_asset.frames_job import FramesJob
from storyreel_core.bus.job_runner import Job
from storyreel_core.drama_models import Character, Shot, Storyboard
from storyreel_core.stores.folder_store import FolderObjectStore


class Steps:
    async def progress(self, completed: int, total: int, step: str, **_: Any) -> None:
        return None


class RecordingProvider:
    def __init__(self) -> None:
        self.requests: list[FrameRequest] = []

    async def draw(self, request: FrameRequest) -> DrawnFrame:
        self.requests.append(request)
        return await ProceduralFrames().draw(request)


async def test_each_shot_gets_the_default_images_of_its_characters(tmp_path: Path) -> None:
    objects = FolderObjectStore(tmp_path)
    await objects.put_bytes("dramas/d1/characters/mei.png", b"mei-design", "image/png")
    await objects.put_bytes("dramas/d1/characters/lin.png", b"lin-design", "image/png")
    mei = Character(id="char_mei", name="Mei", gender="female")
    lin = Character(id="char_lin", name="Lin", gender="male")
    extra = Character(id="char_extra", name="Extra")
    shots = [
        Shot(id="sb_1", number=1, scene_id="s1", character_ids=[mei.id, lin.id]),
        Shot(id="sb_2", number=2, scene_id="s1", character_ids=[lin.id, extra.id]),
        Shot(id="sb_3", number=3, scene_id="s2", character_ids=[]),
    ]
    board = Storyboard(language="en", characters=[mei, lin, extra], shots=shots)
    payload = {
        "storyboard": board.model_dump(mode="json"),
        "width": 90,
        "height": 160,
        "character_sheets": False,
        "references": {
            mei.id: "dramas/d1/characters/mei.png",
            lin.id: "dramas/d1/characters/lin.png",
            extra.id: "dramas/d1/characters/gone.png",  # deleted since: drawn without one
        },
    }
    provider = RecordingProvider()
    job = Job("task_r", "frames", "u", payload, 1)
    result = await FramesJob(objects, provider)(job, Steps())  # type: ignore[arg-type]

    assert [f["shot_id"] for f in result["frames"]] == ["sb_1", "sb_2", "sb_3"]
    # Each frame says where its characters stand (what the video stage keeps text off).
    assert all(f["figures"] for f in result["frames"][:2])
    assert all(0 <= v <= 1 for f in result["frames"] for g in f["figures"] for v in g["face"])
    seen = {r.shot.id: dict(r.references) for r in provider.requests}
    assert seen == {
        "sb_1": {mei.id: b"mei-design", lin.id: b"lin-design"},
        "sb_2": {lin.id: b"lin-design"},
        "sb_3": {},
    }
    assert all(len(r.cast) == 3 and (r.width, r.height) == (90, 160) for r in provider.requests)
