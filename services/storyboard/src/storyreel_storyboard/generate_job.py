"""The `storyboards` job: a script's scenes in, one stored storyboard with a frame per shot out.

1. The script's screenplay (snapshotted when the request was accepted) is cast with the drama's
   characters as the asset service designed them, so frames show those people.
2. `plan_shots` decides framing, camera, lines and duration per shot.
3. One document per shot is stored (ids derived from the task id, so a redelivery finds them),
   each frame is drawn by the asset service and kept under the storyboard's keys; progress
   moves per shot.
4. The script's earlier storyboards are replaced: the new ones take the place of the first of
   them in the drama's order (or the end when there were none), the earlier ones and their
   media are deleted. Storyboards of other scripts keep their places.

A shot whose frame could not be drawn is kept with `image_status: failed` and counted in
`failed_count`; `regenerate-image` draws it again.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.clock import utc_now
from storyreel_core.drama_models import Character, Screenplay, Shot, ShotType
from storyreel_storyboard.frames import FrameMaker
from storyreel_storyboard.framing import FRAMING_WORDS
from storyreel_storyboard.peers import Peers
from storyreel_storyboard.script_screenplay import asset_character, cast_with, reference_keys
from storyreel_storyboard.shot_planner import plan_shots
from storyreel_storyboard.storyboard_fields import FRAME_SIZES, cast_entry
from storyreel_storyboard.storyboard_store import StoryboardStore

AspectRatio = Literal["9:16", "16:9", "1:1"]
DEFAULT_STYLE = "realistic"
MAX_SHOTS = 300
DRAWING_SHARE = 80.0  # percent of the bar the drawing takes; saving the frames takes the rest


class GenerateInput(BaseModel):
    drama_id: str = Field(min_length=1)
    script_id: str = Field(min_length=1)
    screenplay: Screenplay
    shot_type: ShotType | None = None
    image_style: str = Field(default="", max_length=200)
    count_per_scene: int = Field(default=1, ge=1, le=6)
    aspect_ratio: AspectRatio = "9:16"
    seed: int = Field(default=0, ge=0, le=2**31 - 1)
    image_provider: str = Field(default="", max_length=64)
    image_model: str = Field(default="", max_length=200)
    # Store the planned shots without frames (image_status pending); see storyboards.proto.
    plan_only: bool = False


def storyboard_id(task_id: str, number: int) -> str:
    """Sortable like the task id, unique per shot of the task."""
    return f"sb_{task_id.removeprefix('task_')}{number:03d}"


def estimated_seconds(shots: int) -> int:
    return 2 + shots // 2


def _document(
    job: Job,
    spec: GenerateInput,
    shot: Shot,
    *,
    scene_number: int,
    style: str,
    people: dict[str, Character],
) -> dict[str, Any]:
    now = utc_now()
    speakers = [line.character_id for line in shot.dialogue if line.character_id]
    named = list(dict.fromkeys([*shot.character_ids, *speakers]))
    return {
        "_id": storyboard_id(job.task_id, shot.number),
        "owner_id": job.owner_id,
        "drama_id": spec.drama_id,
        "script_id": spec.script_id,
        "scene_id": shot.scene_id,
        "scene_number": scene_number,
        "shot_type": shot.shot_type,
        "camera_movement": shot.camera_movement,
        "description": shot.description,
        "prompt": shot.prompt,
        "composition": {"framing": FRAMING_WORDS[shot.shot_type]},
        "character_ids": list(shot.character_ids),
        "cast": [cast_entry(people[c]) for c in named if c in people],
        "location": shot.location,
        "time": shot.time,
        "narration": shot.narration,
        "dialogue": [line.model_dump() for line in shot.dialogue],
        "lines": [line.model_dump() for line in shot.lines],
        "weather": shot.weather,
        "era": shot.era,
        "props": list(shot.props),
        "duration": shot.duration,
        "image_key": "",
        "thumbnail_key": "",
        "image_style": style,
        "image_status": "pending",
        "image_seed": spec.seed,
        "aspect_ratio": spec.aspect_ratio,
        "image_width": 0,
        "image_height": 0,
        "audio_key": "",
        "audio_duration": 0.0,
        "audio_source": "",
        "voice": "",
        "speed": 0.0,
        "audio_segments": [],
        "language": spec.screenplay.language,
        "source_task_id": job.task_id,
        "created_at": now,
        "updated_at": now,
    }


def _summary(doc: dict[str, Any]) -> dict[str, Any]:
    """One storyboard in the task result (seed 000 §4.1); the gateway signs the keys."""
    return {
        "id": doc["_id"],
        "scene_id": doc["scene_id"],
        "scene_number": doc["scene_number"],
        "position": doc.get("position", 0),
        "shot_type": doc["shot_type"],
        "description": doc["description"],
        "image_key": doc["image_key"],
        "thumbnail_key": doc["thumbnail_key"],
        "status": doc["image_status"],
    }


class GenerateStoryboardsJob:
    def __init__(self, store: StoryboardStore, peers: Peers, frames: FrameMaker) -> None:
        self.store = store
        self.peers = peers
        self.frames = frames

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = GenerateInput.model_validate(job.payload)
        owner, drama = job.owner_id, spec.drama_id
        await ctx.progress(0, 1, "planning shots")
        drama_cast = await self.peers.drama_characters(owner, drama)
        designed = [asset_character(c) for c in drama_cast]
        screenplay = cast_with(spec.screenplay, designed)
        board = plan_shots(
            screenplay,
            shots_per_scene=spec.count_per_scene,
            shot_type=spec.shot_type,
            seed=spec.seed,
        )
        style = spec.image_style or screenplay.style or DEFAULT_STYLE
        people = {c.id: c for c in screenplay.characters}
        numbers = {scene.id: scene.number for scene in screenplay.scenes}
        docs = await self.store.insert_many(
            [
                _document(
                    job, spec, shot, scene_number=numbers[shot.scene_id], style=style, people=people
                )
                for shot in board.shots
            ]
        )
        total = len(docs)

        async def drawn(done: int, of: int) -> None:
            await ctx.progress(
                0, total, "drawing frames", percentage=DRAWING_SHARE * done / max(of, 1)
            )

        if spec.plan_only:
            return await self._placed(owner, drama, spec, docs)
        shots = [
            shot.model_copy(update={"id": doc["_id"]})
            for shot, doc in zip(board.shots, docs, strict=True)
        ]
        drawn_frames = await self.frames.draw(
            owner_id=owner,
            drama_id=drama,
            task_id=job.task_id,
            shots=shots,
            characters=screenplay.characters,
            language=screenplay.language,
            style=style,
            size=FRAME_SIZES[spec.aspect_ratio],
            seed=spec.seed,
            on_drawn=drawn,
            references=reference_keys(drama_cast),
            image_provider=spec.image_provider,
            image_model=spec.image_model,
        )
        for i, doc in enumerate(docs):
            frame = drawn_frames.frames.get(doc["_id"])

            def keep(current: dict[str, Any], frame: Any = frame) -> dict[str, Any]:
                if frame is None:
                    return {**current, "image_status": "failed"}
                return {
                    **current,
                    "image_key": frame.image_key,
                    "thumbnail_key": frame.thumbnail_key,
                    "image_status": "completed",
                    "image_width": frame.width,
                    "image_height": frame.height,
                    "figures": frame.figures,
                }

            _before, docs[i] = await self.store.mutate(owner, drama, doc["_id"], keep)
            await ctx.progress(
                i + 1,
                total,
                "saving frames",
                percentage=DRAWING_SHARE + (100 - DRAWING_SHARE) * (i + 1) / total,
                current_item={"storyboard_id": doc["_id"], "status": docs[i]["image_status"]},
            )
        return await self._placed(owner, drama, spec, docs)

    async def _placed(
        self,
        owner: str,
        drama: str,
        spec: GenerateInput,
        docs: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """Put the new storyboards in the place of the script's earlier ones; the result."""
        total = len(docs)
        new_ids = [doc["_id"] for doc in docs]
        replaced = await self.store.replace_generated(owner, drama, spec.script_id, new_ids)
        placed = await self.store.many(owner, drama, new_ids)
        succeeded = sum(1 for doc in placed if doc["image_status"] == "completed")
        return {
            "storyboards": [_summary(doc) for doc in placed],
            "total_count": total,
            "success_count": succeeded,
            # A planned-only shot (pending) is neither: its frame is drawn later.
            "failed_count": sum(1 for doc in placed if doc["image_status"] == "failed"),
            "replaced_count": len(replaced),
            "script_id": spec.script_id,
        }
