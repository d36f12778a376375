"""How each workflow stage runs: the studio's own start RPCs, called as the workflow's owner.

A stage is a set of studio tasks, one per *target*: the one script, each character of the
script, each storyboard of the drama (frames, audio), or the drama as a whole (storyboard,
video, final). Targets are read when the stage is dispatched, from the drama as it is then, so
whatever the owner edited through the studio API between stages (a shot's prompt, a line, a
character) is what the stage works on.

Every start names its task id and the workflow as parent (gRPC metadata, see
`storyreel_core.rpc.server.stage_task`): starting again after a crash finds the same task, and
the tasks count as admitted work, not against the owner's in-flight limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from storyreel_core.proto.storyreel.v1 import (
    assets_pb2,
    assets_pb2_grpc,
    script_pb2,
    script_pb2_grpc,
    storyboards_pb2,
    storyboards_pb2_grpc,
    videos_pb2,
    videos_pb2_grpc,
)
from storyreel_core.resolutions import parse_resolution
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.dramas import create_drama
from storyreel_core.rpc.peers import PeerChannels
from storyreel_core.workflow_models import WorkflowPreferences

Resp = TypeVar("Resp")
Target = dict[str, Any]  # {"id": <what the task works on>, …what the summaries show}
PAGE = 100


class StageStarter(Protocol):
    """What the state machine needs from the services (the gRPC adapter below)."""

    async def create_drama(self, workflow: dict[str, Any]) -> str:
        """The id of a new drama of the workflow's owner named after the workflow."""
        ...

    async def targets(self, workflow: dict[str, Any], stage: str) -> list[Target]:
        """What the stage's tasks work on, one task per target (may be none)."""
        ...

    async def start(
        self, workflow: dict[str, Any], stage: str, target: Target, task_id: str
    ) -> None:
        """Start the target's studio task as `task_id`; starting an existing id again is a
        no-op. AppError when the service refuses (bad input, a resource that is gone)."""
        ...


def preferences(workflow: dict[str, Any]) -> WorkflowPreferences:
    return WorkflowPreferences.model_validate(workflow["options"].get("preferences") or {})


def stage_budget(workflow: dict[str, Any], stage: str) -> float | None:
    """US dollars each task of `stage` may spend of `preferences.budget` (None = no limit).

    The budget is one sum for the whole workflow: the script may use all of it; each later
    stage's tasks share equally what the finished stages cost (`outputs.costs`) left, so the
    tasks of one stage, running side by side, can never overspend it together.
    """
    budget = preferences(workflow).budget
    if budget is None:
        return None
    spent = sum(float(c) for c in ((workflow.get("outputs") or {}).get("costs") or {}).values())
    tasks = len(((workflow.get("stages") or {}).get(stage) or {}).get("targets") or []) or 1
    return round(max(0.0, budget - spent) / tasks, 6)


def frame_size(prefs: WorkflowPreferences) -> tuple[int, int]:
    """(width, height) the frames stage asks for: `image_resolution`, else (0, 0), the
    storyboard's aspect ratio's size."""
    if not prefs.image_resolution:
        return 0, 0
    return parse_resolution(prefs.image_resolution, "options.preferences.image_resolution")


def stage_cost(tasks: list[dict[str, Any]]) -> float:
    """US dollars a finished stage's tasks spent (each result's `cost`; 0 when none)."""
    return round(sum(float((t.get("result") or {}).get("cost") or 0.0) for t in tasks), 6)


def script_input(workflow: dict[str, Any]) -> tuple[str, str, str]:
    """(input_type, prompt, input_content) for GenerateScript. A `file` is the text of an
    uploaded .txt/.md file: Markdown when it has a Markdown heading, else prose (novel)."""
    kind, content = workflow["input_type"], workflow["input_content"]
    if kind == "prompt":
        return "prompt", content, ""
    if kind == "file":
        heading = any(line.lstrip().startswith("#") for line in content.splitlines()[:200])
        kind = "markdown" if heading else "novel"
    return kind, "", content


class StudioStages:
    def __init__(self, channels: PeerChannels) -> None:
        self.channels = channels

    async def _call(
        self,
        method: Callable[..., Awaitable[Resp]],
        request: Any,
        owner: str,
        *,
        task_id: str = "",
        parent_id: str = "",
    ) -> Resp:
        return await call(
            method,
            request,
            user_id=owner,
            timeout=self.channels.deadline,
            task_id=task_id,
            parent_id=parent_id,
        )

    def _script(self) -> script_pb2_grpc.ScriptServiceStub:
        return script_pb2_grpc.ScriptServiceStub(self.channels.channel("script"))

    def _characters(self) -> assets_pb2_grpc.CharacterServiceStub:
        return assets_pb2_grpc.CharacterServiceStub(self.channels.channel("asset"))

    def _storyboards(self) -> storyboards_pb2_grpc.StoryboardLibraryServiceStub:
        return storyboards_pb2_grpc.StoryboardLibraryServiceStub(
            self.channels.channel("storyboard")
        )

    def _videos(self) -> videos_pb2_grpc.VideoLibraryServiceStub:
        return videos_pb2_grpc.VideoLibraryServiceStub(self.channels.channel("video"))

    async def create_drama(self, workflow: dict[str, Any]) -> str:
        # A second workflow of the same name gets its id's tail added.
        return await create_drama(
            self._script().CreateDrama,
            workflow["owner_id"],
            workflow["name"],
            description=f"made by workflow {workflow['_id']}",
            tail=workflow["_id"][-8:],
            timeout=self.channels.deadline,
        )

    async def targets(self, workflow: dict[str, Any], stage: str) -> list[Target]:
        owner, drama = workflow["owner_id"], workflow["drama_id"]
        if stage == "video" and not preferences(workflow).clips:
            return []  # no clips wanted: the stage completes with no task
        if stage in ("script", "storyboard", "video", "final"):
            return [{"id": drama}]
        if stage == "assets":
            return await self._cast(workflow)
        boards = await self._boards(owner, drama)
        if stage == "audio":
            # A shot with nothing to say keeps its planned length and no voice.
            boards = [b for b in boards if b.narration.strip() or any(d.text for d in b.dialogue)]
        return [{"id": b.id} for b in boards]

    async def _cast(self, workflow: dict[str, Any]) -> list[Target]:
        """The script's characters as characters of the drama (created when missing, found by
        name when the owner made them already)."""
        owner, drama = workflow["owner_id"], workflow["drama_id"]
        people = (workflow["outputs"].get("script") or {}).get("characters") or []
        listed = await self._call(
            self._characters().ListCharacters,
            assets_pb2.ListCharactersRequest(drama_id=drama, page=1, per_page=PAGE),
            owner,
        )
        known: dict[str, assets_pb2.Character] = {
            c.name.strip().casefold(): c for c in listed.characters
        }
        out: list[Target] = []
        for person in people:
            name = str(person.get("name") or "").strip()
            if not name:
                continue
            if name.casefold() in known:
                found = known[name.casefold()]
            else:
                gender = str(person.get("gender") or "")
                found = await self._call(
                    self._characters().CreateCharacter,
                    assets_pb2.CreateCharacterRequest(
                        drama_id=drama,
                        name=name[:100],
                        description=str(person.get("description") or "")[:2000],
                        gender=gender if gender in ("male", "female") else "",
                    ),
                    owner,
                )
                known[name.casefold()] = found
            out.append({"id": found.id, "name": found.name, "description": found.description})
        return out

    async def _boards(self, owner: str, drama: str) -> list[storyboards_pb2.Storyboard]:
        """The drama's storyboards in play order, as they are now."""
        boards: list[storyboards_pb2.Storyboard] = []
        page = 1
        while True:
            listed = await self._call(
                self._storyboards().ListStoryboards,
                storyboards_pb2.ListStoryboardsRequest(drama_id=drama, page=page, per_page=PAGE),
                owner,
            )
            boards.extend(listed.storyboards)
            if len(listed.storyboards) < PAGE or len(boards) >= listed.total:
                return boards
            page += 1

    async def start(
        self, workflow: dict[str, Any], stage: str, target: Target, task_id: str
    ) -> None:
        owner, drama, prefs = workflow["owner_id"], workflow["drama_id"], preferences(workflow)
        ids = {"task_id": task_id, "parent_id": workflow["_id"]}
        options = workflow["options"]
        if stage == "script":
            kind, prompt, content = script_input(workflow)
            request = script_pb2.GenerateScriptRequest(
                drama_id=drama,
                prompt=prompt,
                input_type=kind,
                input_content=content,
                style=prefs.style,
                language=prefs.language or "",
                title=workflow["name"],
                scene_count=prefs.scene_count or 0,
                ai_provider=options.get("ai_provider") or "",
                model=options.get("model") or "",
                persona_id=prefs.persona_id,
                seed=prefs.seed,
            )
            budget = stage_budget(workflow, stage)
            if budget is not None:
                request.budget = budget
            await self._call(self._script().GenerateScript, request, owner, **ids)
        elif stage == "assets":
            await self._call(
                self._characters().GenerateCharacterImages,
                assets_pb2.GenerateCharacterImagesRequest(
                    drama_id=drama,
                    character_id=target["id"],
                    style=prefs.style,
                    count=1,
                    seed=prefs.seed,
                    image_provider=prefs.image_provider,
                    image_model=prefs.image_model,
                ),
                owner,
                **ids,
            )
        elif stage == "storyboard":
            script_id = str((workflow["outputs"].get("script") or {}).get("id") or "")
            await self._call(
                self._storyboards().GenerateStoryboards,
                storyboards_pb2.GenerateStoryboardsRequest(
                    drama_id=drama,
                    script_id=script_id,
                    image_style=prefs.style,
                    count_per_scene=prefs.shots_per_scene,
                    aspect_ratio=prefs.aspect_ratio,
                    seed=prefs.seed,
                    image_provider=prefs.image_provider,
                    image_model=prefs.image_model,
                    plan_only=True,
                ),
                owner,
                **ids,
            )
        elif stage == "frames":
            width, height = frame_size(prefs)
            image = storyboards_pb2.RegenerateImageRequest(
                drama_id=drama,
                storyboard_id=target["id"],
                seed=prefs.seed if prefs.image_seed is None else prefs.image_seed,
                image_provider=prefs.image_provider,
                image_model=prefs.image_model,
                width=width,
                height=height,
                num_steps=prefs.num_steps or 0,
            )
            if prefs.cfg_scale is not None:
                image.cfg_scale = prefs.cfg_scale
            budget = stage_budget(workflow, stage)
            if budget is not None:
                image.budget = budget
            await self._call(self._storyboards().RegenerateImage, image, owner, **ids)
        elif stage == "audio":
            audio = storyboards_pb2.GenerateShotAudioRequest(
                drama_id=drama,
                storyboard_id=target["id"],
                voice=prefs.voice,
                speed=prefs.speed,
                audio_provider=prefs.audio_provider,
            )
            budget = stage_budget(workflow, stage)
            if budget is not None:
                audio.budget = budget
            await self._call(self._storyboards().GenerateShotAudio, audio, owner, **ids)
        elif stage == "video":
            await self._call(
                self._videos().GenerateVideos,
                videos_pb2.GenerateVideosRequest(
                    drama_id=drama,
                    storyboard_ids=[b.id for b in await self._boards(owner, drama)],
                    settings=videos_pb2.ClipSettings(
                        resolution=prefs.resolution,
                        frame_rate=prefs.frame_rate,
                        transition=prefs.transition,
                    ),
                ),
                owner,
                **ids,
            )
        elif stage == "final":
            final = videos_pb2.RenderFinalCutRequest(
                storyboards=videos_pb2.DramaStoryboards(drama_id=drama),
                subtitles=videos_pb2.SubtitleOptions(enabled=prefs.subtitles),
                music=videos_pb2.MusicOptions(enabled=prefs.music),
                resolution=prefs.resolution,
                frame_rate=prefs.frame_rate,
                transition=prefs.transition,
                video_provider=prefs.video_provider,
                video_model=prefs.video_model,
                subtitle_template=prefs.subtitle_template or "",
                # The thumbnail carries the script's title, as the one-click render's did.
                title=str((workflow["outputs"].get("script") or {}).get("title") or "")[:200],
            )
            budget = stage_budget(workflow, stage)
            if budget is not None:
                final.budget = budget
            await self._call(self._videos().RenderFinalCut, final, owner, **ids)
        else:
            raise ValueError(f"unknown stage {stage!r}")


async def start_all(
    starter: StageStarter,
    workflow: dict[str, Any],
    stage: str,
    targets: list[Target],
    task_ids: list[str],
) -> None:
    """Start every task of a stage at once (each start is idempotent)."""
    await asyncio.gather(
        *(
            starter.start(workflow, stage, target, task_id)
            for target, task_id in zip(targets, task_ids, strict=True)
        )
    )


def stage_outputs(stage: str, targets: list[Target], tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """What a finished stage adds to the workflow's `outputs` (summaries and later inputs),
    from its completed tasks' results (in target order)."""
    results = [t.get("result") or {} for t in tasks]
    if stage == "script":
        script = results[0] if results else {}
        metadata = script.get("metadata") or {}
        return {
            "script": {
                "id": script.get("id", ""),
                "title": script.get("title", ""),
                "status": script.get("status", "completed"),
                "scene_count": int(script.get("scene_count") or len(script.get("scenes") or [])),
                "content": script.get("content", ""),
                "characters": list(metadata.get("characters") or []),
            }
        }
    if stage == "assets":
        assets = []
        for target, result in zip(targets, results, strict=True):
            images = result.get("images") or []
            assets.append(
                {
                    "id": target["id"],
                    "type": "character",
                    "name": target.get("name", ""),
                    "description": target.get("description", ""),
                    "image_key": images[0].get("key", "") if images else "",
                    "status": "completed" if images else "failed",
                }
            )
        return {"assets": assets}
    if stage == "storyboard":
        boards = (results[0] if results else {}).get("storyboards") or []
        return {"storyboard_ids": [b["id"] for b in boards]}
    if stage == "frames":
        return {"frames": [t["id"] for t in targets]}
    if stage == "final":
        return {"video": (results[0] if results else {}).get("video") or {}}
    return {}
