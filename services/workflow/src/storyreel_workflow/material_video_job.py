"""The `material_video` job (seed 003): Markdown, images and clips in, several final cuts out.

It composes the studio's own library stages on a drama of its own, the way a user would by
hand, and writes no render code of its own:

1. a drama named after the task; each image and video material becomes an uploaded asset of it
   (`UploadAsset`, typed and checked by the asset service);
2. a script from the Markdown (`GenerateScript`, input_type markdown, the persona's style);
3. storyboards planned without frames (`GenerateStoryboards`, plan_only), at least one shot
   per material where the text allows;
4. material `i` goes to shot `i` (cycling when there are more shots than materials): an image
   becomes the shot's frame (`UpdateStoryboard.image_asset_id`), a clip plays as the shot
   (`video_asset_id`, after a drawn frame for its thumbnail and fallback);
5. frames (`RegenerateImage`) for shots without an image, voices (`GenerateShotAudio`);
6. `multi_video_count` final cuts (`RenderFinalCut`), each a variation of the same shots:
   another shot order, transition and music level (`variation` in the result says which).

Every child task's id is recorded in `material_videos/<task id>` before it is started and
each start names it (gRPC stage metadata), so a redelivered job or `POST /tasks/{id}/retry`
re-attaches to children still running, reuses those that completed and starts again only
those that failed or were cancelled.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.errors import AppError, Code
from storyreel_core.ids import new_id
from storyreel_core.logging import get_logger
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
from storyreel_core.rpc.clients import call
from storyreel_core.rpc.peers import PeerChannels
from storyreel_core.staged_files import staged_object
from storyreel_core.stores.document_store import DocumentStore
from storyreel_core.stores.object_store import ObjectStore
from storyreel_core.task_store import TaskStore
from storyreel_core.task_watch import OnUpdate

log = get_logger("storyreel.workflow.material_video")

MATERIAL_VIDEOS = "material_videos"
MAX_VIDEOS = 5
MAX_MATERIALS = 50
# What each variant changes: the transition between shots and the music bed's level (None =
# no music); the shot order is the plan's, reversed, then shuffled with a per-variant seed.
TRANSITIONS = ("crossfade", "fade", "wipeleft", "slideup", "dissolve")
MUSIC_LEVELS: tuple[float | None, ...] = (0.25, 0.4, None, 0.15, 0.5)
# Share of the task's progress bar each phase fills (percent, in order).
WEIGHTS = {
    "uploads": 5.0,
    "script": 15.0,
    "storyboard": 10.0,
    "frames": 15.0,
    "audio": 15.0,
    "videos": 40.0,
}
STYLES = {"default": "", "product_geek": "energetic tech review"}


class Material(BaseModel):
    index: int = Field(ge=0, lt=MAX_MATERIALS)
    kind: Literal["image", "video"]
    key: str = Field(min_length=1, max_length=500)
    content_type: str = Field(default="", max_length=100)
    size: int = Field(default=0, ge=0)
    source: str = Field(default="", max_length=4000)
    filename: str = Field(default="", max_length=200)
    description: str = Field(default="", max_length=2000)


class MaterialVideoInput(BaseModel):
    """The job's payload, built and checked by the gateway from the seed's form."""

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    mode: Literal["single_scene", "multi_scene"] = "multi_scene"
    script_style: Literal["default", "product_geek"] = "default"
    persona_id: str = Field(default="", max_length=100)
    voice: str = Field(default="", max_length=200)
    multi_video_count: int = Field(default=3, ge=1, le=MAX_VIDEOS)
    markdown: str = Field(default="", max_length=1_000_000)
    materials: list[Material] = Field(default_factory=list, max_length=MAX_MATERIALS)
    resolution: str = Field(default="720p", max_length=20)
    language: str = Field(default="", max_length=5)


class ChildFailed(AppError):
    """A child task ended failed or cancelled: retrying the parent starts that child again."""


def story_text(spec: MaterialVideoInput) -> str:
    """The text the screenwriter reads: the Markdown, else the title, description and the
    materials' descriptions (media_meta) as a small Markdown document."""
    if spec.markdown.strip():
        return spec.markdown
    lines = [f"# {spec.title}", ""]
    if spec.description.strip():
        lines += [spec.description.strip(), ""]
    lines += [m.description.strip() for m in spec.materials if m.description.strip()]
    if len(lines) <= 2:
        lines.append(spec.title)
    return "\n".join(lines)


def shot_plan(spec: MaterialVideoInput, scenes: int) -> tuple[int, int]:
    """(scene_count asked of the screenwriter, shots per scene): one shot per material where
    the text allows; single_scene is one scene of up to 6 shots."""
    visuals = max(1, len(spec.materials))
    if spec.mode == "single_scene":
        return 1, min(6, visuals)
    per_scene = min(6, max(1, math.ceil(visuals / max(1, scenes))))
    return min(30, visuals), per_scene


def variant(index: int, board_ids: list[str], seed: str) -> dict[str, Any]:
    """The k-th video's variation: shot order, transition, music (None = none)."""
    order = list(board_ids)
    if index == 1:
        order.reverse()
    elif index >= 2:
        random.Random(f"{seed}:{index}").shuffle(order)
    level = MUSIC_LEVELS[index % len(MUSIC_LEVELS)]
    return {
        "order": order,
        "transition": TRANSITIONS[index % len(TRANSITIONS)],
        "music": {"enabled": level is not None, "volume": level},
    }


async def together(*steps: Awaitable[Any]) -> None:
    """Run side by side; the first failure cancels the others (no child left waiting on its
    own) and is raised as itself, so the task records its code."""
    try:
        async with asyncio.TaskGroup() as group:
            for step in steps:
                group.create_task(_awaited(step))
    except BaseExceptionGroup as group_error:
        raise group_error.exceptions[0] from None


async def _awaited(step: Awaitable[Any]) -> Any:
    return await step


class MaterialVideoJob:
    def __init__(
        self,
        docs: DocumentStore,
        objects: ObjectStore,
        tasks: TaskStore,
        channels: PeerChannels,
        wait: Callable[[str, OnUpdate], Awaitable[dict[str, Any]]],
    ) -> None:
        self.docs = docs
        self.objects = objects
        self.tasks = tasks
        self.channels = channels
        self.wait = wait

    # ---- stubs ------------------------------------------------------------------------

    def _script(self) -> script_pb2_grpc.ScriptServiceStub:
        return script_pb2_grpc.ScriptServiceStub(self.channels.channel("script"))

    def _assets(self) -> assets_pb2_grpc.AssetLibraryServiceStub:
        return assets_pb2_grpc.AssetLibraryServiceStub(self.channels.channel("asset"))

    def _boards(self) -> storyboards_pb2_grpc.StoryboardLibraryServiceStub:
        return storyboards_pb2_grpc.StoryboardLibraryServiceStub(
            self.channels.channel("storyboard")
        )

    def _videos(self) -> videos_pb2_grpc.VideoLibraryServiceStub:
        return videos_pb2_grpc.VideoLibraryServiceStub(self.channels.channel("video"))

    # ---- the job ----------------------------------------------------------------------

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = MaterialVideoInput.model_validate(job.payload)
        run = _Run(self, job, ctx, spec, await self._state(job))
        return await run.go()

    async def _state(self, job: Job) -> dict[str, Any]:
        state = await self.docs.get(MATERIAL_VIDEOS, job.task_id)
        if state is None:
            state = await self.docs.insert(
                MATERIAL_VIDEOS,
                {"_id": job.task_id, "owner_id": job.owner_id, "drama_id": "", "assets": {},
                 "steps": {}},
            )  # fmt: skip
        return state


class _Run:
    """One delivery of a material_video job: the state it resumes from and its progress."""

    def __init__(
        self,
        owner: MaterialVideoJob,
        job: Job,
        ctx: JobContext,
        spec: MaterialVideoInput,
        state: dict[str, Any],
    ) -> None:
        self.o = owner
        self.job = job
        self.ctx = ctx
        self.spec = spec
        self.state = state
        self.lock = asyncio.Lock()
        self.report_lock = asyncio.Lock()
        self.done_weight = 0.0
        self.phase = ""
        self.phase_parts: dict[str, float] = {}
        self.videos: list[dict[str, Any]] = [
            {"index": i, "status": "pending", "progress": 0.0, "task_id": ""}
            for i in range(spec.multi_video_count)
        ]

    async def _call(self, method: Any, request: Any, *, task_id: str = "") -> Any:
        return await call(
            method,
            request,
            user_id=self.job.owner_id,
            timeout=max(self.o.channels.deadline, 60.0),
            task_id=task_id,
            parent_id=self.job.task_id if task_id else "",
        )

    def _starter(self, method: Any, request: Any) -> Callable[[str], Awaitable[Any]]:
        """A start of `method(request)` as the child task id it is given."""

        async def start(task_id: str) -> Any:
            return await self._call(method, request, task_id=task_id)

        return start

    async def _save(self, **fields: Any) -> None:
        async with self.lock:
            self.state.update(fields)
            await self.o.docs.update(
                MATERIAL_VIDEOS,
                self.job.task_id,
                {k: self.state[k] for k in ("drama_id", "assets", "steps")},
            )

    async def _report(self) -> None:
        # Children report side by side; the task record takes one write at a time.
        async with self.report_lock:
            await self._write_progress()

    async def _write_progress(self) -> None:
        parts = self.phase_parts.values()
        share = sum(parts) / len(self.phase_parts) if self.phase_parts else 0.0
        percent = self.done_weight + WEIGHTS.get(self.phase, 0.0) * share
        done = sum(1 for v in self.videos if v["status"] == "completed")
        await self.ctx.progress(
            done,
            len(self.videos),
            self.phase,
            percentage=round(min(100.0, percent), 2),
            current_item={"stage": self.phase, "videos": self.videos},
        )

    async def _enter(self, phase: str, parts: list[str]) -> None:
        self.phase = phase
        self.phase_parts = dict.fromkeys(parts, 0.0)
        await self._report()

    async def _leave(self) -> None:
        self.done_weight += WEIGHTS.get(self.phase, 0.0)
        self.phase_parts = {}

    async def _child(self, name: str, start: Callable[[str], Awaitable[Any]]) -> dict[str, Any]:
        """Run (or re-attach to) the child task recorded as `name`; its result."""
        record = dict(self.state["steps"].get(name) or {})
        if record.get("status") == "completed":
            self.phase_parts[name] = 1.0
            return dict(record["result"] or {})
        child_id = str(record.get("task_id") or "")
        started = False
        if child_id:
            try:
                child = await self.o.tasks.get(child_id)
                started = True
                if child["status"] in ("failed", "cancelled"):
                    child_id, started = "", False
            except AppError:
                started = False  # recorded, never created
        if not child_id:
            child_id = new_id("task")
            steps = {**self.state["steps"], name: {"task_id": child_id, "status": "running"}}
            await self._save(steps=steps)
        if not started:
            await start(child_id)

        async def on_update(doc: dict[str, Any]) -> None:
            if name in self.phase_parts:
                pct = float((doc.get("progress") or {}).get("percentage") or 0.0)
                self.phase_parts[name] = 1.0 if doc["status"] == "completed" else pct / 100.0
            for video in self.videos:
                if video["task_id"] == child_id:
                    video["status"] = doc["status"] if doc["status"] != "pending" else "pending"
                    video["progress"] = float((doc.get("progress") or {}).get("percentage") or 0)
            await self._report()

        child = await self.o.wait(child_id, on_update)
        if child["status"] != "completed":
            error = child.get("error") or {}
            raise ChildFailed(
                f"{name} {child['status']}: {error.get('reason', 'unknown error')}",
                code=Code(int(error.get("code", Code.GENERAL))),
                permanent=True,
            )
        result = dict(child.get("result") or {})
        steps = {
            **self.state["steps"],
            name: {"task_id": child_id, "status": "completed", "result": result},
        }
        await self._save(steps=steps)
        return result

    async def go(self) -> dict[str, Any]:
        spec = self.spec
        await self._enter("uploads", [str(m.index) for m in spec.materials] or ["none"])
        drama_id = self.state.get("drama_id") or await self._create_drama()
        assets = await self._upload_all(drama_id)
        await self._leave()

        await self._enter("script", ["script"])
        scenes, _ = shot_plan(spec, 1)
        script = await self._child(
            "script",
            lambda tid: self._call(
                self.o._script().GenerateScript,
                script_pb2.GenerateScriptRequest(
                    drama_id=drama_id,
                    input_type="markdown",
                    input_content=story_text(spec),
                    title=spec.title[:200],
                    style=STYLES[spec.script_style],
                    scene_count=scenes,
                    language=spec.language,
                    persona_id=spec.persona_id,
                ),
                task_id=tid,
            ),
        )
        await self._leave()

        await self._enter("storyboard", ["storyboard"])
        written = int(script.get("scene_count") or len(script.get("scenes") or []) or 1)
        _, per_scene = shot_plan(spec, written)
        await self._child(
            "storyboard",
            lambda tid: self._call(
                self.o._boards().GenerateStoryboards,
                storyboards_pb2.GenerateStoryboardsRequest(
                    drama_id=drama_id,
                    script_id=str(script.get("id") or ""),
                    count_per_scene=per_scene,
                    aspect_ratio="9:16",
                    plan_only=True,
                ),
                task_id=tid,
            ),
        )
        boards = await self._list_boards(drama_id)
        if not boards:
            raise AppError("the Markdown gave no shots", code=Code.VALIDATION, permanent=True)
        placed = await self._place(drama_id, boards, assets)
        await self._leave()

        image_boards = {b for b, m in placed.items() if m["kind"] == "image"}
        to_draw = [b for b in boards if b.id not in image_boards]
        await self._enter("frames", [f"frame:{b.id}" for b in to_draw] or ["none"])
        await together(
            *(
                self._child(
                    f"frame:{b.id}",
                    self._starter(
                        self.o._boards().RegenerateImage,
                        storyboards_pb2.RegenerateImageRequest(
                            drama_id=drama_id, storyboard_id=b.id
                        ),
                    ),
                )
                for b in to_draw
            )
        )
        await self._leave()

        speaking = [b for b in boards if b.narration.strip() or any(d.text for d in b.dialogue)]
        await self._enter("audio", [f"audio:{b.id}" for b in speaking] or ["none"])
        await together(
            *(
                self._child(
                    f"audio:{b.id}",
                    self._starter(
                        self.o._boards().GenerateShotAudio,
                        storyboards_pb2.GenerateShotAudioRequest(
                            drama_id=drama_id, storyboard_id=b.id, voice=spec.voice
                        ),
                    ),
                )
                for b in speaking
            )
        )
        await self._leave()

        board_ids = [b.id for b in boards]
        variants = [variant(i, board_ids, self.job.task_id) for i in range(len(self.videos))]
        for i, video in enumerate(self.videos):
            record = self.state["steps"].get(f"video:{i}") or {}
            video["task_id"] = str(record.get("task_id") or "")
        await self._enter("videos", [f"video:{i}" for i in range(len(variants))])
        cuts = await asyncio.gather(
            *(self._cut(drama_id, i, v) for i, v in enumerate(variants)),
            return_exceptions=True,
        )
        failures = [c for c in cuts if isinstance(c, BaseException)]
        if len(failures) == len(cuts):
            raise failures[0]
        await self._leave()
        return self._result(drama_id, script, boards, placed, assets, variants, cuts)

    async def _cut(self, drama_id: str, i: int, v: dict[str, Any]) -> dict[str, Any]:
        name = f"video:{i}"

        async def start(tid: str) -> Any:
            self.videos[i]["task_id"] = tid
            music = videos_pb2.MusicOptions(enabled=v["music"]["enabled"])
            if v["music"]["volume"] is not None:
                music.volume = v["music"]["volume"]
            return await self._call(
                self.o._videos().RenderFinalCut,
                videos_pb2.RenderFinalCutRequest(
                    storyboards=videos_pb2.DramaStoryboards(
                        drama_id=drama_id, storyboard_ids=v["order"]
                    ),
                    subtitles=videos_pb2.SubtitleOptions(enabled=True),
                    music=music,
                    resolution=self.spec.resolution,
                    transition=v["transition"],
                ),
                task_id=tid,
            )

        try:
            result = await self._child(name, start)
        except AppError as exc:
            self.videos[i]["status"] = "failed"
            self.videos[i]["error"] = {"code": int(exc.code), "reason": exc.message}
            await self._report()
            raise
        self.videos[i].update(status="completed", progress=100.0)
        self.videos[i]["task_id"] = self.state["steps"][name]["task_id"]
        await self._report()
        return result

    async def _create_drama(self) -> str:
        spec = self.spec
        name = f"{spec.title.strip()[:80]} ({self.job.task_id[-8:]})"
        drama = await self._call(
            self.o._script().CreateDrama,
            script_pb2.CreateDramaRequest(
                name=name, description=f"made by material-to-video task {self.job.task_id}"
            ),
        )
        await self._save(drama_id=str(drama.id))
        return str(drama.id)

    async def _upload_all(self, drama_id: str) -> dict[int, str]:
        """Each material as an asset of the drama (asset id by material index); resumable."""
        assets: dict[int, str] = {int(k): str(v) for k, v in self.state["assets"].items()}
        for material in self.spec.materials:
            if material.index not in assets:
                # The asset service takes (and removes) a staged copy; the material stays
                # where the gateway put it until the task is deleted, for a retry.
                data = await self.o.objects.get_bytes(material.key)
                async with staged_object(
                    self.o.objects, self.job.owner_id, data, material.content_type
                ) as staging:
                    asset = await self._call(
                        self.o._assets().UploadAsset,
                        assets_pb2.UploadAssetRequest(
                            drama_id=drama_id,
                            staging_key=staging,
                            filename=material.filename or f"material_{material.index}",
                            type=material.kind,
                            tags=["material"],
                        ),
                    )
                assets[material.index] = str(asset.id)
                await self._save(assets={str(k): v for k, v in assets.items()})
            self.phase_parts[str(material.index)] = 1.0
            await self._report()
        return assets

    async def _list_boards(self, drama_id: str) -> list[storyboards_pb2.Storyboard]:
        listed = await self._call(
            self.o._boards().ListStoryboards,
            storyboards_pb2.ListStoryboardsRequest(drama_id=drama_id, page=1, per_page=100),
        )
        return list(listed.storyboards)

    async def _place(
        self, drama_id: str, boards: list[storyboards_pb2.Storyboard], assets: dict[int, str]
    ) -> dict[str, dict[str, Any]]:
        """Material `i % m` on shot `i`: {storyboard id: {index, kind, asset_id}}."""
        materials = self.spec.materials
        if not materials:
            return {}
        placed: dict[str, dict[str, Any]] = {}
        for i, board in enumerate(boards):
            material = materials[i % len(materials)]
            asset_id = assets[material.index]
            request = storyboards_pb2.UpdateStoryboardRequest(
                drama_id=drama_id, storyboard_id=board.id
            )
            if material.kind == "image":
                request.image_asset_id = asset_id
                request.video_asset_id = ""
            else:
                request.video_asset_id = asset_id
            await self._call(self.o._boards().UpdateStoryboard, request)
            placed[board.id] = {
                "index": material.index,
                "kind": material.kind,
                "asset_id": asset_id,
            }
        return placed

    def _result(
        self,
        drama_id: str,
        script: dict[str, Any],
        boards: list[storyboards_pb2.Storyboard],
        placed: dict[str, dict[str, Any]],
        assets: dict[int, str],
        variants: list[dict[str, Any]],
        cuts: list[Any],
    ) -> dict[str, Any]:
        videos = []
        for i, (v, cut) in enumerate(zip(variants, cuts, strict=True)):
            entry: dict[str, Any] = {
                "index": i,
                "task_id": self.videos[i]["task_id"],
                "variation": {
                    "shot_order": v["order"],
                    "material_order": [
                        placed[b]["index"] if b in placed else None for b in v["order"]
                    ],
                    "transition": v["transition"],
                    "music": v["music"],
                },
            }
            if isinstance(cut, BaseException):
                entry["status"] = "failed"
                entry["error"] = self.videos[i].get("error") or {"reason": str(cut)}
            else:
                entry["status"] = "completed"
                entry["video"] = cut.get("video") or {}
            videos.append(entry)
        shots_of: dict[int, list[str]] = {}
        for board_id, where in placed.items():
            shots_of.setdefault(where["index"], []).append(board_id)
        return {
            "drama_id": drama_id,
            "title": self.spec.title,
            "script_id": str(script.get("id") or ""),
            "storyboard_ids": [b.id for b in boards],
            "videos": videos,
            "materials": [
                {
                    "index": m.index,
                    "kind": m.kind,
                    "asset_id": assets.get(m.index, ""),
                    "storyboard_ids": shots_of.get(m.index, []),
                }
                for m in self.spec.materials
            ],
            "unused_materials": [m.index for m in self.spec.materials if m.index not in shots_of],
        }
