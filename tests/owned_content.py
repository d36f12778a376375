"""A drama with one of everything in it, for tests that need real ids of one user's content."""

from __future__ import annotations

import time
from dataclasses import dataclass

from e2e_client import Api, png, wait_task


@dataclass(frozen=True)
class OwnedContent:
    drama_id: str
    script_id: str
    version_id: str
    character_id: str
    image_id: str
    asset_id: str
    task_id: str
    storyboard_id: str
    video_id: str
    persona_id: str
    conversation_id: str
    workflow_id: str

    def ids(self) -> dict[str, str]:
        """By the name the API's paths give each id (`{drama_id}`, `{character_id}` …)."""
        return {
            "drama_id": self.drama_id,
            "script_id": self.script_id,
            "version_id": self.version_id,
            "character_id": self.character_id,
            "image_id": self.image_id,
            "asset_id": self.asset_id,
            "task_id": self.task_id,
            "storyboard_id": self.storyboard_id,
            "video_id": self.video_id,
            "persona_id": self.persona_id,
            "conversation_id": self.conversation_id,
            "workflow_id": self.workflow_id,
        }


def create_owned_content(api: Api, name: str = "Owned") -> OwnedContent:
    """A drama with a script (and its first version), a character with an uploaded image, an
    uploaded asset, a storyboard with its clip and a script-generation task, all owned by
    `api`'s user."""
    r = api.post("/dramas", json={"name": f"{name} {time.monotonic_ns()}"})
    assert r.status_code == 201, r.text
    drama_id = r.json()["data"]["id"]
    base = f"/dramas/{drama_id}"

    scene = {"id": "s1", "number": 1, "location": "茶馆", "time": "day", "characters": ["小明"],
             "narration": "小明走进茶馆。", "dialogue": []}  # fmt: skip
    r = api.post(
        f"{base}/scripts", json={"title": "Tea", "content": "小明走进茶馆。", "scenes": [scene]}
    )
    assert r.status_code == 201, r.text
    script_id = r.json()["data"]["id"]
    r = api.get(f"{base}/scripts/{script_id}/versions")
    assert r.status_code == 200, r.text
    version_id = r.json()["data"][0]["id"]

    r = api.post(f"{base}/characters", json={"name": "小明", "gender": "male"})
    assert r.status_code == 201, r.text
    character_id = r.json()["data"]["id"]
    r = api.post(
        f"{base}/characters/{character_id}/upload-image",
        files={"image": ("ming.png", png((64, 96)), "image/png")},
        data={"make_default": "true"},
    )
    assert r.status_code == 201, r.text
    image_id = r.json()["data"]["default_image_id"]

    r = api.post(
        f"{base}/assets/upload",
        files={"file": ("frame.png", png((64, 96)), "image/png")},
        data={"type": "image", "tags": "tea"},
    )
    assert r.status_code == 201, r.text
    asset_id = r.json()["data"]["id"]

    r = api.post(f"{base}/storyboards/generate", json={"script_id": script_id})
    assert r.status_code == 202, r.text
    boards = wait_task(api, r.json()["data"]["task_id"])
    assert boards["status"] == "completed", boards["error"]
    storyboard_id = boards["result"]["storyboards"][0]["id"]
    r = api.post(
        f"{base}/videos/generate",
        json={"storyboard_ids": [storyboard_id],
              "settings": {"resolution": "90x160", "frame_rate": 6, "duration": 0.5}},
    )  # fmt: skip
    assert r.status_code == 202, r.text
    clips = wait_task(api, r.json()["data"]["task_id"])
    assert clips["status"] == "completed", clips["error"]
    video_id = clips["result"]["videos"][0]["id"]

    r = api.post(f"{base}/scripts/generate", json={"prompt": "小明在茶馆遇见老朋友"})
    assert r.status_code == 202, r.text
    task_id = r.json()["data"]["task_id"]
    r = api.post("/personas", json={"name": f"{name} narrator", "tone": "warm"})
    assert r.status_code == 201, r.text
    persona_id = r.json()["data"]["id"]
    r = api.post("/conversations", json={"title": f"{name} thread"})
    assert r.status_code == 201, r.text
    conversation_id = r.json()["data"]["id"]

    # A workflow paused at once: at most its script stage runs.
    workflow = {"name": f"{name} workflow", "input_type": "prompt", "input_content": "小明喝茶。",
                "options": {"preferences": {"pause_after": ["script"]}}}  # fmt: skip
    r = api.post("/workflow", json=workflow)
    assert r.status_code == 202, r.text
    workflow_id = r.json()["data"]["workflow_id"]
    r = api.post(f"/workflow/{workflow_id}/pause")
    assert r.status_code == 200, r.text
    return OwnedContent(
        drama_id,
        script_id,
        version_id,
        character_id,
        image_id,
        asset_id,
        task_id,
        storyboard_id,
        video_id,
        persona_id,
        conversation_id,
        workflow_id,
    )
