"""Seed 002's stage endpoints as tasks: `pipeline_storyboard`, `pipeline_frames`,
`pipeline_clips`, `pipeline_narration`.

Each runs its stages as children of its own task, the child id recorded before the call
(`StageRun`), so a redelivered job re-attaches to a stage already running. The storyboard runs
the studio's script and storyboards tasks on a drama of its own (`pipeline_storyboard`); the
others run the shared stage tasks of `stage_client.STAGES` (frames, final_cut, speech).
Requests come in seed 002's shapes (a storyboard is a list of `{scene_id, prompt,
narration}`) and results go out in them (`scene_id` on every item, media as `*_key`, which the
gateway signs into `*_url`).

- storyboard: `{story, style, scenes, seed}` → a drama, GenerateScript, GenerateStoryboards
  → `storyboard [{scene_id, storyboard_id, title, prompt, narration, bgm, …}]`, one shot per
  scene, and the `drama_id` and `script_id` a studio client edits.
- frames: `{storyboard, width, height, seed, …}` → frames stage → `frames [{scene_id,
  frame_key}]` (PNG, `width`×`height`).
- clips: `{frames [{scene_id, frame_key, duration, camera_movement}], width, height, fps,
  transition, transition_duration}` → final_cut stage → `clips [{scene_id, clip_key,
  duration}]`: the cut's per-shot segments (H.264 MP4, video only; clip i is scene i with its
  camera move through the transition into scene i+1), and the joined `video_key`.
- narration: `{lines [{scene_id, text}], voice, speed}` → speech stage → `audios [{scene_id,
  audio_key, duration}]` (WAV).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, Field, field_validator

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import CameraMovement, Language, Shot, Storyboard, Transition
from storyreel_core.errors import AppError, Code
from storyreel_core.ids import new_id
from storyreel_core.providers.usage import merge_summaries
from storyreel_core.stage_client import StageClient
from storyreel_core.stores.document_store import DocumentStore
from storyreel_workflow.pipeline_storyboard import MAX_SCENES, StoryboardTask, write_storyboard

STAGE_TASKS = "pipeline_stage_tasks"
KINDS = ("storyboard", "frames", "clips", "narration")
SCENE_ID = r"^[A-Za-z0-9_-]{1,64}$"
STEP_NAMES = {
    "script": "writing screenplay",
    "storyboard": "planning storyboard",
    "frames": "drawing frames",
    "speech": "speaking lines",
    "final_cut": "animating clips",
}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


class SceneIn(BaseModel):
    """A scene of seed 002's storyboard as /frames takes it."""

    scene_id: str = Field(pattern=SCENE_ID)
    title: str = Field(default="", max_length=200)
    prompt: str = Field(default="", max_length=4000)
    narration: str = Field(default="", max_length=2000)


def _unique(items: list[Any], field: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.scene_id in seen:
            raise ValueError(f"scene_id {item.scene_id!r} appears twice in {field}")
        seen.add(item.scene_id)


class FramesTask(BaseModel):
    storyboard: list[SceneIn] = Field(min_length=1, max_length=MAX_SCENES)
    style: str = Field(default="", max_length=200)
    width: int = Field(default=720, ge=64, le=4096)
    height: int = Field(default=1280, ge=64, le=4096)
    seed: int = 0
    num_steps: int = Field(default=4, ge=1, le=100)
    cfg_scale: float = Field(default=1.5, ge=0, le=30)
    image_provider: str = Field(default="", max_length=64)
    image_model: str = Field(default="", max_length=200)
    budget: float | None = Field(default=None, ge=0)

    @field_validator("storyboard")
    @classmethod
    def unique(cls, value: list[SceneIn]) -> list[SceneIn]:
        _unique(value, "storyboard")
        return value


class ClipFrame(BaseModel):
    scene_id: str = Field(pattern=SCENE_ID)
    frame_key: str = Field(min_length=1, max_length=300)
    duration: float = Field(default=2.0, ge=0.5, le=60)
    camera_movement: CameraMovement = "push_in"


class ClipsTask(BaseModel):
    frames: list[ClipFrame] = Field(min_length=1, max_length=MAX_SCENES)
    width: int = Field(default=720, ge=64, le=4096)
    height: int = Field(default=1280, ge=64, le=4096)
    fps: int = Field(default=12, ge=1, le=60)
    transition: Transition = "crossfade"
    transition_duration: float = Field(default=0.5, ge=0, le=5)
    video_provider: str = Field(default="", max_length=64)
    video_model: str = Field(default="", max_length=200)
    budget: float | None = Field(default=None, ge=0)

    @field_validator("frames")
    @classmethod
    def unique(cls, value: list[ClipFrame]) -> list[ClipFrame]:
        _unique(value, "frames")
        return value


class LineIn(BaseModel):
    scene_id: str = Field(pattern=SCENE_ID)
    text: str = Field(min_length=1, max_length=2000)


class NarrationTask(BaseModel):
    lines: list[LineIn] = Field(min_length=1, max_length=MAX_SCENES)
    voice: str | None = Field(default=None, max_length=80)
    audio_provider: str | None = Field(default=None, max_length=80)
    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    budget: float | None = Field(default=None, ge=0)

    @field_validator("lines")
    @classmethod
    def unique(cls, value: list[LineIn]) -> list[LineIn]:
        _unique(value, "lines")
        return value


MODELS: dict[str, type[BaseModel]] = {
    "storyboard": StoryboardTask,
    "frames": FramesTask,
    "clips": ClipsTask,
    "narration": NarrationTask,
}


def language_of(*texts: str) -> Language:
    """zh when any text holds a CJK ideograph (the speech and frame stages key on it)."""
    return "zh" if any(_CJK.search(t) for t in texts) else "en"


def seed_storyboard(scenes: list[tuple[str, str, str, str]], style: str = "") -> Storyboard:
    """A storyboard of one shot per `(scene_id, title, prompt, narration)`: the shot's id is
    the scene id, so a stage's per-shot results name the caller's scenes."""
    shots = [
        Shot(
            id=scene_id,
            number=n,
            scene_id=scene_id,
            prompt=prompt,
            description=title,
            narration=narration,
            duration=0.5,  # a floor only: speech decides how long a shot lasts
        )
        for n, (scene_id, title, prompt, narration) in enumerate(scenes, start=1)
    ]
    texts = [t for _, title, prompt, narration in scenes for t in (title, prompt, narration)]
    return Storyboard(language=language_of(*texts), style=style, shots=shots)


class StageTaskJob:
    """The handler of the four `pipeline_*` kinds (see the module docstring)."""

    def __init__(self, docs: DocumentStore, stages: StageClient) -> None:
        self.docs = docs
        self.stages = stages

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        kind = job.kind.removeprefix("pipeline_")
        if kind not in MODELS:
            raise AppError(f"unknown stage task {job.kind!r}", code=Code.GENERAL, permanent=True)
        run = await self.open_run(job, ctx, total=2 if kind == "storyboard" else 1)
        if kind == "storyboard":
            spec = StoryboardTask.model_validate(job.payload)
            return await write_storyboard(run, spec, self.stages.channels)
        if kind == "frames":
            return await self._frames(run, FramesTask.model_validate(job.payload))
        if kind == "clips":
            return await self._clips(run, ClipsTask.model_validate(job.payload))
        return await self._narration(run, NarrationTask.model_validate(job.payload))

    async def open_run(self, job: Job, ctx: JobContext, *, total: int) -> StageRun:
        """This delivery's run of `total` stages, on the state earlier deliveries recorded."""
        state = await self.docs.get(STAGE_TASKS, job.task_id) or await self.docs.insert(
            STAGE_TASKS, {"_id": job.task_id, "owner_id": job.owner_id, "stages": {}}
        )
        return StageRun(self, job, ctx, state, total=total)

    async def _frames(self, run: StageRun, spec: FramesTask) -> dict[str, Any]:
        board = seed_storyboard(
            [(s.scene_id, s.title, s.prompt, s.narration) for s in spec.storyboard], spec.style
        )
        model = bool(spec.image_provider)
        made = await run.stage(
            "frames",
            {
                "storyboard": board.model_dump(mode="json"),
                "width": spec.width,
                "height": spec.height,
                "style": spec.style,
                "seed": spec.seed,
                "character_sheets": False,
                "image_provider": spec.image_provider,
                "image_model": spec.image_model,
                # The procedural renderer has no steps or cfg (render_job.stage_input).
                "num_steps": spec.num_steps if model else None,
                "cfg_scale": spec.cfg_scale if model else None,
                "budget": spec.budget,
            },
        )
        frames = [
            {
                "scene_id": f["shot_id"],
                "frame_key": f["key"],
                "figures": f.get("figures", []),
            }
            for f in made["frames"]
        ]
        image_style = {
            "resolution": f"{spec.width}x{spec.height}",
            "num_steps": spec.num_steps,
            "cfg_scale": spec.cfg_scale,
            "seed": spec.seed,
        }
        return {"frames": frames, "image_style": image_style, **merge_summaries(made)}

    async def _clips(self, run: StageRun, spec: ClipsTask) -> dict[str, Any]:
        cut = await run.stage(
            "final_cut",
            {  # a RenderFinalCutRequest of explicit shots (the cut is the task's result only)
                "cut_shots": {
                    "shots": [
                        {
                            "shot_id": f.scene_id,
                            "frame_key": f.frame_key,
                            "duration": f.duration,
                            "camera_movement": f.camera_movement,
                        }
                        for f in spec.frames
                    ]
                },
                "resolution": f"{spec.width}x{spec.height}",
                "frame_rate": spec.fps,
                "transition": spec.transition,
                "transition_duration": spec.transition_duration,
                "music": {"enabled": False},
                "video_provider": spec.video_provider,
                "video_model": spec.video_model,
                "budget": spec.budget,
            },
        )
        segments = cut["segments"]
        clips = [
            {"scene_id": f.scene_id, "clip_key": key, "duration": round(frames / spec.fps, 3)}
            for f, key, frames in zip(
                spec.frames, segments["keys"], segments["frame_counts"], strict=True
            )
        ]
        result = {
            "clips": clips,
            "video_key": cut["video_key"],
            "thumbnail_key": cut["thumbnail_key"],
            "duration": cut["duration"],
            "width": spec.width,
            "height": spec.height,
            "fps": spec.fps,
            "transition": spec.transition,
            "segments": {"total": segments["total"], "encoded": segments["encoded"]},
            **merge_summaries(cut),
        }
        if "motion" in cut:
            result["motion"] = cut["motion"]
        return result

    async def _narration(self, run: StageRun, spec: NarrationTask) -> dict[str, Any]:
        board = seed_storyboard([(x.scene_id, "", "", x.text) for x in spec.lines])
        spoken = await run.stage(
            "speech",
            {
                "storyboard": board.model_dump(mode="json"),
                "voice": spec.voice,
                "audio_provider": spec.audio_provider,
                "speed": spec.speed,
                "budget": spec.budget,
            },
        )
        audios = [
            {
                "scene_id": a["shot_id"],
                "audio_key": a["key"],
                "duration": a["duration"],
                "segments": a.get("segments", []),
            }
            for a in spoken["audio"]
        ]
        return {
            "audios": audios,
            "voice": (spoken.get("voices") or {}).get("narrator", spec.voice),
            "format": "wav",
            "language": board.language,
            **merge_summaries(spoken),
        }


class StageRun:
    """One `pipeline_*` task's stages, run one after another with recorded child ids."""

    def __init__(
        self,
        job_: StageTaskJob,
        job: Job,
        ctx: JobContext,
        state: dict[str, Any],
        *,
        total: int,
    ) -> None:
        self.owner = job_
        self.job = job
        self.ctx = ctx
        self.state = state
        self.total = total
        self.finished = 0

    async def remember(self, **fields: Any) -> None:
        """Keep `fields` on the task's state (what a redelivery must find, e.g. its drama)."""
        self.state.update(fields)
        self.state = await self.owner.docs.replace(STAGE_TASKS, self.state)

    async def stage(self, stage: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A shared stage task of `stage_client.STAGES` with `payload` as a child (`child`)."""

        async def start(task_id: str) -> None:
            await self.owner.stages.start(
                stage,
                payload,
                owner_id=self.job.owner_id,
                task_id=task_id,
                parent_id=self.job.task_id,
            )

        return await self.child(stage, start)

    async def child(self, stage: str, start: Callable[[str], Awaitable[Any]]) -> dict[str, Any]:
        """The result of the child recorded as `stage`, started as `start(task_id)` (which
        names the child's id and this task as its parent): a child that completed earlier is
        reused, one still running is waited for, one that failed or was cancelled runs again
        as a new child. AppError (permanent) when the child ends failed or cancelled."""
        tasks = self.owner.stages.tasks
        record = self.state["stages"].get(stage) or {}
        child_id = record.get("task_id")
        child: dict[str, Any] | None = None
        if child_id:
            try:
                child = await tasks.get(child_id)
            except AppError:
                child = None  # recorded, never created: start it under the recorded id
            if child is not None and child["status"] in ("failed", "cancelled"):
                child_id, child = None, None
        if child is None or child["status"] != "completed":
            if child is None:
                child_id = child_id or new_id("task")
                self.state["stages"][stage] = {"task_id": child_id}
                self.state = await self.owner.docs.replace(STAGE_TASKS, self.state)
                await self.report(stage, 0.0, None)
                await start(str(child_id))
            child = await self.owner.stages.wait(str(child_id), self.relay(stage))
        if child["status"] != "completed":
            error = child.get("error") or {}
            raise AppError(
                f"{stage} stage {child['status']}: {error.get('reason', 'unknown error')}",
                code=Code(int(error.get("code", Code.GENERAL))),
                permanent=True,
            )
        self.finished += 1
        result: dict[str, Any] = child["result"]
        return result

    async def report(self, stage: str, percent: float, item: dict[str, Any] | None) -> None:
        await self.ctx.progress(
            self.finished,
            self.total,
            STEP_NAMES[stage],
            percentage=(self.finished * 100 + percent) / self.total,
            current_item=item,
        )

    def relay(self, stage: str) -> Callable[[dict[str, Any]], Awaitable[None]]:
        """Fold the child's progress into this task's, so the bar moves within a stage."""

        async def on_update(child: dict[str, Any]) -> None:
            percent = float((child.get("progress") or {}).get("percentage") or 0.0)
            item = {"stage": stage, "task_id": child["_id"], "status": child["status"]}
            await self.report(stage, percent, item)

        return on_update
