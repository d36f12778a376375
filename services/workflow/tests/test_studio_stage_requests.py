"""What each studio start RPC is asked by a workflow: every preference reaches its stage.

No service runs here: `RecordingStages` keeps the requests `StudioStages.start` would send
(the gRPC call itself is `storyreel_core.rpc.clients.call`, exercised by the e2e tests).
"""

from __future__ import annotations

from typing import Any

import pytest

from storyreel_core.errors import ValidationFailed
from storyreel_core.rpc.peers import PeerChannels
from storyreel_core.settings import Settings
from storyreel_core.workflow_models import STAGES, WorkflowPreferences
from storyreel_workflow.studio_stages import StudioStages, frame_size, stage_budget, stage_cost


class RecordingStages(StudioStages):
    def __init__(self) -> None:
        super().__init__(PeerChannels(lambda: Settings()))
        self.sent: list[Any] = []

    async def _call(self, method: Any, request: Any, owner: str, **ids: str) -> Any:
        self.sent.append(request)

    async def _boards(self, owner: str, drama: str) -> list[Any]:
        return []


PER_BOARD = ("assets", "frames", "audio")


def workflow(costs: dict[str, float] | None = None, **prefs: Any) -> dict[str, Any]:
    checked = WorkflowPreferences.model_validate(prefs).model_dump(mode="json")
    return {
        "_id": "wf_1",
        "owner_id": "user_a",
        "drama_id": "drama_1",
        "name": "Lamp",
        "input_type": "novel",
        "input_content": "Mara lit the lamp.",
        "options": {"ai_provider": "", "model": "", "preferences": checked},
        "outputs": {"script": {"id": "script_1", "title": "灯下"}, "costs": costs or {}},
        # One task for the drama's script, storyboard, video and final; one per storyboard
        # (two here) for the frames and the audio.
        "stages": {
            s: {"targets": [{"id": "sb_1"}, {"id": "sb_2"}] if s in PER_BOARD else [{"id": "d"}]}
            for s in STAGES
        },
    }


async def sent(wf: dict[str, Any], stage: str) -> Any:
    stages = RecordingStages()
    await stages.start(wf, stage, {"id": "sb_1"}, "task_1")
    await stages.channels.close()
    return stages.sent[0]


async def test_a_renders_options_reach_the_studio_stages() -> None:
    wf = workflow(
        seed=7,
        image_seed=11,
        persona_id="persona_1",
        image_resolution="360x640",
        num_steps=8,
        cfg_scale=2.5,
        video_provider="sora",
        video_model="sora-2",
        subtitle_template="karaoke",
        voice="narrator-zh",
        speed=1.5,
    )
    script = await sent(wf, "script")
    assert (script.seed, script.persona_id, script.HasField("budget")) == (7, "persona_1", False)
    frames = await sent(wf, "frames")
    assert (frames.seed, frames.width, frames.height) == (11, 360, 640)
    assert (frames.num_steps, frames.cfg_scale) == (8, 2.5)
    audio = await sent(wf, "audio")
    assert (audio.voice, audio.speed, audio.HasField("budget")) == ("narrator-zh", 1.5, False)
    final = await sent(wf, "final")
    assert (final.video_provider, final.video_model) == ("sora", "sora-2")
    assert final.subtitle_template == "karaoke"
    assert final.title == "灯下"  # the script's title, drawn on the thumbnail
    assert final.storyboards.drama_id == "drama_1" and not final.HasField("cut_shots")


async def test_the_clip_stage_has_no_task_when_no_clips_are_wanted() -> None:
    """A render's final cut animates each shot itself: its workflow's video stage starts
    nothing (the machine completes a stage without targets at once)."""
    stages = RecordingStages()
    assert await stages.targets(workflow(clips=False), "video") == []
    assert await stages.targets(workflow(), "video") == [{"id": "drama_1"}]
    await stages.channels.close()


async def test_unset_options_keep_the_studio_defaults() -> None:
    wf = workflow(seed=3)
    frames = await sent(wf, "frames")
    # No image resolution: the storyboard's aspect ratio decides (the studio's default size).
    assert (frames.seed, frames.width, frames.height, frames.num_steps) == (3, 0, 0, 0)
    assert not frames.HasField("cfg_scale") and not frames.HasField("budget")
    final = await sent(wf, "final")
    assert (final.video_provider, final.subtitle_template) == ("", "")


async def test_the_budget_is_shared_by_what_the_earlier_stages_left() -> None:
    assert stage_budget(workflow(), "frames") is None
    fresh = workflow(budget=1.0)
    assert stage_budget(fresh, "script") == 1.0
    assert (await sent(fresh, "script")).budget == 1.0
    spent = workflow({"script": 0.2, "assets": 0.1}, budget=1.0)
    # Two storyboards: each frame's task may spend half of the 0.7 left.
    assert stage_budget(spent, "frames") == pytest.approx(0.35)
    assert (await sent(spent, "frames")).budget == pytest.approx(0.35)
    assert (await sent(spent, "audio")).budget == pytest.approx(0.35)
    over = workflow({"script": 2.0}, budget=1.0)
    assert (await sent(over, "final")).budget == 0.0


def test_a_stage_costs_what_its_tasks_results_say() -> None:
    tasks = [{"result": {"cost": 0.25}}, {"result": {}}, {"result": {"cost": 0.125}}]
    assert stage_cost(tasks) == 0.375
    assert stage_cost([]) == 0.0


def test_frame_size_comes_from_the_image_resolution_only() -> None:
    assert frame_size(WorkflowPreferences(image_resolution="480p")) == (480, 854)
    assert frame_size(WorkflowPreferences(resolution="1080p")) == (0, 0)
    with pytest.raises(ValueError):
        WorkflowPreferences(image_resolution="big")
    with pytest.raises(ValueError):
        WorkflowPreferences(subtitle_template="x")  # type: ignore[arg-type]


def test_a_bad_image_resolution_is_a_validation_error() -> None:
    prefs = WorkflowPreferences.model_construct(image_resolution="1x1")
    with pytest.raises(ValidationFailed):
        frame_size(prefs)
