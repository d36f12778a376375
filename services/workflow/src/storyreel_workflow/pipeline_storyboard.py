"""Seed 002's `POST /pipeline/storyboard` as studio work: a drama, its script, its storyboards.

The `pipeline_storyboard` task makes what a studio user makes by hand (seed 000), with the
same studio stages a workflow runs:

1. a drama of the owner's named after the story's first line (`render_workflow.render_name`;
   a taken name gets the task id's tail), recorded on the task's state before its script;
2. its script, written by the script service's `GenerateScript` (the story as `novel`, the
   request's `scenes`, `style`, `seed`, text provider and `budget`);
3. its storyboards, planned by the storyboard service's `GenerateStoryboards`: one shot per
   scene, `plan_only` (no frames: `/pipeline/frames` draws them, or the studio's
   regenerate-image).

Both are child tasks with ids recorded before they start (`stage_tasks.StageRun.child`), so a
redelivered job re-attaches instead of starting them twice. The result is seed 002's
storyboard, read back from the stored storyboards (`GetStoryboard`), plus `drama_id`,
`script_id` and each scene's `storyboard_id`: ordinary drama resources a studio client reads
and edits (`GET /dramas/{id}/storyboards`, `PUT …/storyboards/{id}`).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator

from storyreel_core.drama_models import DialogueLine, Line, ordered_lines
from storyreel_core.proto.storyreel.v1 import (
    script_pb2,
    script_pb2_grpc,
    storyboards_pb2,
    storyboards_pb2_grpc,
)
from storyreel_core.providers.usage import merge_summaries
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.dramas import create_drama
from storyreel_core.rpc.peers import PeerChannels
from storyreel_workflow.render_workflow import render_name

if TYPE_CHECKING:
    from storyreel_workflow.stage_tasks import StageRun

MAX_SCENES = 30
MAX_SEED = 2**31 - 1  # seeds are 31-bit everywhere (the gateway's `Seed`)
# A script's style is at most 100 characters (the script service's GenerateScriptInput).
MAX_STYLE = 100
# What the final cut plays under every scene: the video service's procedural pad (music_bed).
BGM = "ambient minor pad (the built-in music bed, ducked under speech)"


class StoryboardTask(BaseModel):
    story: str = Field(min_length=1, max_length=200_000)
    style: str = Field(default="", max_length=MAX_STYLE)
    scenes: int = Field(default=6, ge=1, le=MAX_SCENES)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    ai_provider: str = Field(default="", max_length=64)
    model: str = Field(default="", max_length=200)
    budget: float | None = Field(default=None, ge=0)

    @field_validator("story")
    @classmethod
    def not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("story must not be empty")
        return value


def storyboard_item(
    board: storyboards_pb2.Storyboard, scene: dict[str, Any], names: dict[str, str]
) -> dict[str, Any]:
    """One scene of seed 002's storyboard from its (only) stored storyboard and its script
    scene (`drama_models.Scene` as dumped): `title` is the scene's place, `lines` its words in
    speaking order (the scene's own order, which its one shot keeps), speakers by name."""
    dialogue = [DialogueLine(character_id=d.character_id, text=d.text) for d in board.dialogue]
    scene_lines = [Line.model_validate(x) for x in scene.get("lines") or []]
    spoken = ordered_lines(board.narration, dialogue, scene_lines)
    return {
        "scene_id": board.scene_id,
        "storyboard_id": board.id,
        "title": scene.get("location") or board.location,
        "prompt": board.prompt,
        "narration": board.narration,
        "dialogue": [
            {"speaker": names.get(d.character_id, d.character_id), "text": d.text} for d in dialogue
        ],
        "lines": [{"speaker": names.get(x.speaker, x.speaker), "text": x.text} for x in spoken],
        "bgm": BGM,
        "shot_type": board.shot_type,
        "camera_movement": board.camera_movement,
        "duration": board.duration,
    }


def storyboard_result(
    drama_id: str, script: dict[str, Any], boards: list[storyboards_pb2.Storyboard]
) -> dict[str, Any]:
    """The task's result: seed 002's `storyboard` (one item per scene, in play order), the
    script's `title`, `language`, `characters`, `notes`, `generator`, the studio ids, and the
    provider calls' `usage`, `cost` and `provider_calls`. `script`: GenerateScript's result."""
    metadata = script.get("metadata") or {}
    characters = list(metadata.get("characters") or [])
    names = {str(c.get("id")): str(c.get("name")) for c in characters}
    scenes = {str(s.get("id")): s for s in script.get("scenes") or []}
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for board in boards:
        if board.scene_id in seen:
            continue
        seen.add(board.scene_id)
        items.append(storyboard_item(board, scenes.get(board.scene_id) or {}, names))
    return {
        "drama_id": drama_id,
        "script_id": script.get("id", ""),
        "title": script.get("title", ""),
        "language": metadata.get("language", ""),
        "characters": characters,
        "notes": list(metadata.get("notes") or []),
        "generator": script.get("generator")
        or metadata.get("generator")
        or {"provider": "offline", "model": ""},
        "storyboard": items,
        **merge_summaries(script),
    }


async def write_storyboard(
    run: StageRun, spec: StoryboardTask, channels: PeerChannels
) -> dict[str, Any]:
    """Run the task's drama, script and storyboards (see the module doc); its result."""
    owner, task_id = run.job.owner_id, run.job.task_id
    script_stub = script_pb2_grpc.ScriptServiceStub(channels.channel("script"))
    boards_stub = storyboards_pb2_grpc.StoryboardLibraryServiceStub(channels.channel("storyboard"))
    drama_id = str(run.state.get("drama_id") or "")
    if not drama_id:
        drama_id = await create_drama(
            script_stub.CreateDrama,
            owner,
            render_name(spec.story),
            description=f"made by /pipeline/storyboard task {task_id}",
            tail=task_id[-8:],
            timeout=channels.deadline,
        )
        await run.remember(drama_id=drama_id)

    async def start_script(child_id: str) -> None:
        request = script_pb2.GenerateScriptRequest(
            drama_id=drama_id,
            input_type="novel",
            input_content=spec.story,
            style=spec.style,
            scene_count=spec.scenes,
            seed=spec.seed,
            ai_provider=spec.ai_provider,
            model=spec.model,
        )
        if spec.budget is not None:
            request.budget = spec.budget
        await call(
            script_stub.GenerateScript,
            request,
            user_id=owner,
            timeout=channels.deadline,
            task_id=child_id,
            parent_id=task_id,
        )

    script = await run.child("script", start_script)
    script_id = str(script.get("id") or "")

    async def start_storyboards(child_id: str) -> None:
        await call(
            boards_stub.GenerateStoryboards,
            storyboards_pb2.GenerateStoryboardsRequest(
                drama_id=drama_id,
                script_id=script_id,
                image_style=spec.style,
                count_per_scene=1,
                seed=spec.seed,
                plan_only=True,
            ),
            user_id=owner,
            timeout=channels.deadline,
            task_id=child_id,
            parent_id=task_id,
        )

    planned = await run.child("storyboard", start_storyboards)
    boards = await asyncio.gather(
        *(
            call(
                boards_stub.GetStoryboard,
                storyboards_pb2.StoryboardRef(drama_id=drama_id, storyboard_id=str(b["id"])),
                user_id=owner,
                timeout=channels.deadline,
            )
            for b in planned.get("storyboards") or []
        )
    )
    return storyboard_result(drama_id, script, list(boards))
