"""Frames for storyboards, drawn by the asset service and kept under the storyboard's own keys.

The asset service owns image rendering: its `RenderFrames` stage draws each shot with the
procedural renderer (a character's look is a pure function of its id, name and gender, so a
drama character drawn here matches its reference sheets). The stage writes under
`renders/<child task>/`; each frame and its thumbnail are then copied to
`dramas/<drama>/storyboards/<storyboard>/frame_<task>.png` (keys from the job's task id, so a
redelivered job overwrites its own) and the render folder is deleted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from storyreel_core.drama_models import Character, Language, Shot, Storyboard
from storyreel_core.logging import get_logger
from storyreel_core.stores.object_store import ObjectStore
from storyreel_storyboard.peers import Peers
from storyreel_storyboard.storyboard_store import media_prefix

log = get_logger("storyreel.storyboard.frames")

THUMBNAIL_WIDTH = 256
OnDrawn = Callable[[int, int], Awaitable[None]]


@dataclass(frozen=True)
class Frame:
    image_key: str
    thumbnail_key: str
    width: int
    height: int
    # Where each character stands ([{character_id, face, body}], fractions of the frame).
    figures: list[dict[str, Any]]


@dataclass(frozen=True)
class Drawn:
    """What `FrameMaker.draw` drew: the frames by storyboard id, and what the image calls
    cost (`usage`, `cost`, `provider_calls` of the asset stage's result; empty offline)."""

    frames: dict[str, Frame]
    spent: dict[str, Any]


SPENT_FIELDS = ("usage", "cost", "provider_calls")


def frame_keys(drama_id: str, storyboard_id: str, task_id: str) -> tuple[str, str]:
    tag = task_id.removeprefix("task_")
    prefix = media_prefix(drama_id, storyboard_id)
    return f"{prefix}frame_{tag}.png", f"{prefix}frame_{tag}_thumb.jpg"


class FrameMaker:
    def __init__(self, peers: Peers, objects: ObjectStore) -> None:
        self.peers = peers
        self.objects = objects

    async def draw(
        self,
        *,
        owner_id: str,
        drama_id: str,
        task_id: str,
        shots: Sequence[Shot],
        characters: Sequence[Character],
        language: Language,
        style: str,
        size: tuple[int, int],
        seed: int,
        on_drawn: OnDrawn,
        references: Mapping[str, str] | None = None,
        image_provider: str = "",
        image_model: str = "",
        num_steps: int | None = None,
        cfg_scale: float | None = None,
        budget: float | None = None,
    ) -> Drawn:
        """Draw every shot (`shot.id` is the storyboard id); the frames that were drawn, by id.

        `num_steps`/`cfg_scale` reach an image model (the procedural renderer has neither);
        `budget` caps the image calls' cost in US dollars (None = no limit). A failed render
        stage gives no frames rather than an exception: the caller marks those storyboards
        failed and the user can regenerate them one by one.
        """
        child_id = f"{task_id}_frames"
        width, height = size
        board = Storyboard(
            language=language,
            style=style,
            seed=seed,
            characters=list(characters),
            shots=list(shots),
        )
        payload = {
            "storyboard": board.model_dump(mode="json"),
            "width": width,
            "height": height,
            "style": style,
            "seed": seed,
            "character_sheets": False,
            "thumbnail_width": THUMBNAIL_WIDTH,
            "references": dict(references or {}),
            # A model draws with each character's default image as its reference.
            "image_provider": image_provider,
            "image_model": image_model,
            "num_steps": num_steps,
            "cfg_scale": cfg_scale,
            "budget": budget,
        }

        async def relay(child: dict[str, Any]) -> None:
            progress = child.get("progress") or {}
            await on_drawn(int(progress.get("completed") or 0), len(shots))

        child = await self.peers.run_stage(
            "frames",
            payload,
            owner_id=owner_id,
            drama_id=drama_id,
            task_id=child_id,
            parent_id=task_id,
            on_update=relay,
        )
        if child["status"] != "completed":
            log.warning("storyboard.frames.failed", task_id=task_id, error=child.get("error"))
            return Drawn({}, {})
        result = child.get("result") or {}
        frames: dict[str, Frame] = {}
        for item in result.get("frames", []):
            image_key, thumbnail_key = frame_keys(drama_id, item["shot_id"], task_id)
            await self._copy(item["key"], image_key, "image/png")
            await self._copy(item.get("thumbnail_key") or item["key"], thumbnail_key, "image/jpeg")
            figures = list(item.get("figures") or [])
            frames[item["shot_id"]] = Frame(image_key, thumbnail_key, width, height, figures)
        await self.objects.delete_prefix(f"renders/{child_id}/")
        return Drawn(frames, {k: result[k] for k in SPENT_FIELDS if k in result})

    async def _copy(self, source: str, target: str, content_type: str) -> None:
        await self.objects.put_bytes(target, await self.objects.get_bytes(source), content_type)


def shot_of(doc: dict[str, Any], **changes: Any) -> Shot:
    """A stored storyboard as the renderer's and the speaker's `Shot` (id = storyboard id)."""
    shot = Shot(
        id=doc["_id"],
        number=max(1, int(doc.get("position") or 1)),
        scene_id=doc.get("scene_id", ""),
        shot_type=doc.get("shot_type", "medium"),
        camera_movement=doc.get("camera_movement", "static"),
        prompt=doc.get("prompt", ""),
        description=doc.get("description", ""),
        location=doc.get("location", ""),
        time=doc.get("time") or "day",
        narration=doc.get("narration", ""),
        dialogue=doc.get("dialogue", []),
        lines=doc.get("lines", []),
        weather=doc.get("weather", ""),
        era=doc.get("era", ""),
        props=doc.get("props", []),
        character_ids=doc.get("character_ids", []),
        duration=float(doc.get("duration") or 4.0),
    )
    return shot.model_copy(update=changes) if changes else shot
