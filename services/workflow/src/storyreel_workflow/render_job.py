"""The `render` job: a durable state machine over the five stages of a one-click render.

script → storyboard → (frames ∥ speech) → final_cut. Each stage is a task of its owning service,
started over gRPC with a child task id recorded *before* the call, so a redelivered render
resumes at the first unfinished stage and re-attaches to a stage already running instead of
starting it twice.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import ShotAudio, Storyboard
from storyreel_core.errors import AppError, Code
from storyreel_core.ids import new_id
from storyreel_core.providers.usage import merge_summaries
from storyreel_core.stage_client import StageClient
from storyreel_core.stores.document_store import DocumentStore
from storyreel_workflow.render_options import RenderInput

RENDERS = "renders"
STAGES = ("script", "storyboard", "frames", "speech", "final_cut")
# Frames and speech both need only the storyboard: they run side by side.
PHASES: tuple[tuple[str, ...], ...] = (
    ("script",),
    ("storyboard",),
    ("frames", "speech"),
    ("final_cut",),
)
STEP_NAMES = {
    "script": "writing screenplay",
    "storyboard": "planning storyboard",
    "frames": "drawing frames",
    "speech": "speaking lines",
    "final_cut": "composing video",
}


class StageFailed(AppError):
    """A stage ended failed after its own retries; retrying the render cannot help."""


# Providers that run in process and charge nothing: a stage using one needs no budget share.
FREE_PROVIDERS = frozenset({"", "offline", "piper", "espeak"})


def stage_budget(stage: str, spec: RenderInput, done: dict[str, dict[str, Any]]) -> float | None:
    """US dollars `stage` may spend of the render's `options.budget` (None = unlimited).

    The budget is one sum for the whole render: the screenplay may use all of it; later
    stages get what finished stages left. Frames and speech run side by side, so the paid
    ones among them split the remainder equally, and together they can never overspend it.
    """
    opts = spec.options
    if opts.budget is None:
        return None
    spent = float(merge_summaries(*done.values())["cost"])
    left = max(0.0, opts.budget - spent)
    if stage not in ("frames", "speech"):
        return round(left, 6)
    paid = [
        s
        for s, provider in (("frames", opts.image_provider), ("speech", opts.audio_provider))
        if (provider or "").strip() not in FREE_PROVIDERS
    ]
    return round(left / len(paid), 6) if stage in paid else round(left, 6)


def stage_input(stage: str, spec: RenderInput, done: dict[str, dict[str, Any]]) -> dict[str, Any]:
    opts = spec.options
    if stage == "script":
        return {
            "story": spec.story,
            "style": spec.style,
            "scene_count": opts.scene_count,
            "seed": opts.seed,
            "ai_provider": opts.ai_provider or "",
            "model": opts.model or "",
            "budget": stage_budget(stage, spec, done),
            "persona_prompt": opts.persona_prompt,
        }
    if stage == "storyboard":
        return {
            "screenplay": done["script"]["screenplay"],
            "shots_per_scene": opts.shots_per_scene,
            "seed": opts.seed,
        }
    board = done["storyboard"]["storyboard"]
    if stage == "frames":
        width, height = spec.frame_size()
        return {
            "storyboard": board,
            "width": width,
            "height": height,
            "style": spec.style,
            "seed": opts.image.seed if opts.image.seed is not None else opts.seed,
            "image_provider": opts.image_provider or "",
            "image_model": opts.image_model or "",
            # seed 002's image style; the procedural renderer has no steps or cfg.
            "num_steps": opts.image.num_steps if opts.image_provider else None,
            "cfg_scale": opts.image.cfg_scale if opts.image_provider else None,
            "budget": stage_budget(stage, spec, done),
        }
    if stage == "speech":
        return {
            "storyboard": board,
            "voice": opts.voice,
            "audio_provider": opts.audio_provider,
            "speed": opts.speed,
            "budget": stage_budget(stage, spec, done),
        }
    return final_cut_input(spec, done)


def final_cut_input(spec: RenderInput, done: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Join each shot with its frame and its measured speech; speech decides the duration."""
    board = Storyboard.model_validate(done["storyboard"]["storyboard"])
    frames = {f["shot_id"]: f["key"] for f in done["frames"]["frames"]}
    # Where each frame's characters stand: the video stage keeps subtitles off their faces.
    figures = {f["shot_id"]: f.get("figures", []) for f in done["frames"]["frames"]}
    audio = {a["shot_id"]: ShotAudio.model_validate(a) for a in done["speech"]["audio"]}
    width, height = spec.video_size()
    shots = []
    for shot in board.shots:
        speech = audio.get(shot.id)
        shots.append(
            {
                "shot_id": shot.id,
                "frame_key": frames[shot.id],
                "audio_key": speech.key if speech else None,
                "duration": speech.duration if speech else shot.duration,
                "camera_movement": shot.camera_movement,
                "segments": [s.model_dump() for s in speech.segments] if speech else [],
                "figures": figures.get(shot.id, []),
                # What a video model animates (the final-cut job caps it at 4000 characters).
                "prompt": ". ".join(t for t in (shot.prompt, shot.description) if t.strip())[:4000],
            }
        )
    return {
        "shots": shots,
        "width": width,
        "height": height,
        "fps": spec.options.video.fps,
        "transition": spec.options.video.transition,
        "music": spec.options.music,
        "language": board.language,
        "title": done["script"]["screenplay"].get("title", ""),
        "video_provider": spec.options.video_provider or "",
        "video_model": spec.options.video_model or "",
        "budget": stage_budget("final_cut", spec, done),  # what the earlier stages left
        "subtitle_template": spec.options.subtitle_template or "classic",
    }


def render_result(done: dict[str, dict[str, Any]]) -> dict[str, Any]:
    cut = done["final_cut"]
    board = done["storyboard"]["storyboard"]
    audio = {a["shot_id"]: a for a in done["speech"]["audio"]}
    # Every stage that called a provider reports its calls; the render shows their totals.
    spent = merge_summaries(*(done[s] for s in STAGES if s in done))
    return {
        **cut,
        "title": done["script"]["screenplay"]["title"],
        # e.g. fewer scenes than asked for: the screenwriter splits a story, never pads it.
        "notes": list(done["script"]["screenplay"].get("notes") or []),
        "generator": done["script"].get("generator", {"provider": "offline", "model": ""}),
        "usage": spent["usage"],
        "cost": spent["cost"],
        "provider_calls": spent["provider_calls"],
        "language": board["language"],
        "characters": board["characters"],
        "voices": done["speech"].get("voices", {}),
        "shots": [
            {
                "shot_id": s["id"],
                "number": s["number"],
                "shot_type": s["shot_type"],
                "camera_movement": s["camera_movement"],
                "prompt": s["prompt"],
                "narration": s["narration"],
                "dialogue": s["dialogue"],
                "duration": audio[s["id"]]["duration"] if s["id"] in audio else s["duration"],
                "lines": len(audio[s["id"]]["segments"]) if s["id"] in audio else 0,
            }
            for s in board["shots"]
        ],
    }


class RenderJob:
    def __init__(self, docs: DocumentStore, stages: StageClient) -> None:
        self.docs = docs
        self.stages = stages

    async def _state(self, job: Job) -> dict[str, Any]:
        state = await self.docs.get(RENDERS, job.task_id)
        if state is None:
            state = await self.docs.insert(
                RENDERS, {"_id": job.task_id, "owner_id": job.owner_id, "stages": {}}
            )
        return state

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = RenderInput.model_validate(job.payload)
        state = await self._state(job)
        done: dict[str, dict[str, Any]] = {}
        for phase in PHASES:
            todo = []
            for stage in phase:
                record = state["stages"].get(stage) or {}
                if record.get("status") != "completed":
                    record = await self._reattach(record)
                if record.get("status") == "completed":
                    done[stage] = record["result"]
                else:
                    todo.append(stage)
                state["stages"][stage] = record
            if not todo:
                state = await self.docs.replace(RENDERS, state)
                continue
            # Child ids are recorded before any call, so a redelivered render re-attaches.
            for stage in todo:
                child_id = state["stages"][stage].get("task_id") or new_id("task")
                state["stages"][stage] = {"task_id": child_id, "status": "running"}
            state = await self.docs.replace(RENDERS, state)
            progress = PhaseProgress(ctx, finished=len(done), running=todo)
            await progress.report()
            ids = {stage: state["stages"][stage]["task_id"] for stage in todo}
            results = await asyncio.gather(
                *(self._run_stage(job, spec, stage, ids[stage], done, progress) for stage in todo)
            )
            for stage, result in zip(todo, results, strict=True):
                done[stage] = result
                state["stages"][stage] = {
                    "task_id": ids[stage],
                    "status": "completed",
                    "result": result,
                }
            state = await self.docs.replace(RENDERS, state)
        return render_result(done)

    async def _reattach(self, record: dict[str, Any]) -> dict[str, Any]:
        """The stage record to resume from, given what its recorded child task became.

        A child that completed while the render was not watching (the render's worker died,
        or the render failed for another reason and is being retried) is taken as done; a
        child that failed or was cancelled is dropped, so the stage runs again as a new child;
        a child still pending or running is waited for again."""
        child_id = record.get("task_id")
        if not child_id:
            return {}
        try:
            child = await self.stages.tasks.get(child_id)
        except AppError:
            return {"task_id": child_id, "status": "running"}  # recorded, never created
        if child["status"] == "completed":
            return {"task_id": child_id, "status": "completed", "result": child["result"]}
        if child["status"] in ("failed", "cancelled"):
            return {}
        return {"task_id": child_id, "status": "running"}

    async def _run_stage(
        self,
        job: Job,
        spec: RenderInput,
        stage: str,
        child_id: str,
        done: dict[str, dict[str, Any]],
        progress: PhaseProgress,
    ) -> dict[str, Any]:
        await self.stages.start(
            stage,
            stage_input(stage, spec, done),
            owner_id=job.owner_id,
            task_id=child_id,
            parent_id=job.task_id,
        )
        child = await self.stages.wait(child_id, progress.relay(stage))
        if child["status"] != "completed":
            error = child.get("error") or {}
            raise StageFailed(
                f"{stage} stage {child['status']}: {error.get('reason', 'unknown error')}",
                code=Code(int(error.get("code", Code.GENERAL))),
                permanent=True,
            )
        result: dict[str, Any] = child["result"]
        return result


class PhaseProgress:
    """The render's progress while the stages of one phase run, side by side or alone.

    Finished stages count whole; each running stage adds its own percentage, so the bar moves
    forward smoothly whichever of two parallel stages reports. A stage is re-read at every
    wake-up and at least every half second (`StageClient.wait`); a reading that changes
    nothing the render shows is not written again, so watchers (200 WebSocket clients, say)
    get a message when the render moved, not twice a second per running stage.
    """

    def __init__(self, ctx: JobContext, *, finished: int, running: list[str]) -> None:
        self.ctx = ctx
        self.finished = finished
        self.percent = dict.fromkeys(running, 0.0)
        self._last: tuple[Any, ...] | None = None

    async def report(self, current_item: dict[str, Any] | None = None) -> None:
        total = len(STAGES)
        step = ", ".join(STEP_NAMES[s] for s in self.percent)
        percentage = (self.finished * 100 + sum(self.percent.values())) / total
        shown = (round(percentage, 1), step, current_item)  # progress_doc keeps one decimal
        if shown == self._last:
            return
        self._last = shown
        await self.ctx.progress(
            self.finished, total, step, percentage=percentage, current_item=current_item
        )

    def relay(self, stage: str) -> Callable[[dict[str, Any]], Awaitable[None]]:
        """Fold a stage's own progress into the render's, so the bar moves within a stage."""

        async def on_update(child: dict[str, Any]) -> None:
            self.percent[stage] = float((child.get("progress") or {}).get("percentage") or 0.0)
            item = {"stage": stage, "task_id": child["_id"], "status": child["status"]}
            if child.get("current_step"):
                item["step"] = child["current_step"]  # e.g. "animating shots" in final_cut
            await self.report(item)

        return on_update
