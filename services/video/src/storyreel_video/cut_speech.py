"""Speech for the final cut: a storyboard with words but no audio is spoken before composing.

Without it the studio's final cut (`videos/render`) of storyboards whose audio step never ran
was music only, with subtitles spread evenly over the written lines (the narration, speech tags
grouped, before the lines they introduce). This starts the very task `POST …/storyboards/{id}/
audio` starts (`GenerateShotAudio` on the storyboard service, as the caller, with the default
cast voices), one per silent storyboard, as children of the render; waits for each on its task
record (`task_watch.wait_for_tasks`), and reads the storyboards again for their audio, its
duration and its timed segments, so voices and subtitle timing come from the speech.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from storyreel_core.bus.jetstream import JetStreamBus
from storyreel_core.logging import get_logger
from storyreel_core.task_store import TaskStore
from storyreel_core.task_watch import wait_for_tasks
from storyreel_video.errors import RenderFailed
from storyreel_video.video_models import ShotRef, ShotSource

log = get_logger("storyreel.video.cut_speech")

AUDIO_FIELDS = ("audio_key", "audio_duration", "segments")


class ShotSpeaker(Protocol):
    async def speak(
        self, owner_id: str, drama_id: str, storyboard_id: str, *, task_id: str, parent_id: str
    ) -> str:
        """Start the storyboard's `shot_audio` task as `task_id` (child of `parent_id`); its id.
        Starting again with the same id starts nothing new."""
        ...


def needs_speech(shot: ShotRef) -> bool:
    """Words to speak (narration or a line) and no audio yet."""
    return not shot.audio_key and bool(shot.narration.strip() or any(shot.dialogue))


def speech_task_id(parent_id: str, storyboard_id: str) -> str:
    """The speech task of one storyboard for one render (shaped like `ids.new_id`'s ids), so a
    retried render waits on the task it started rather than speaking again."""
    digest = hashlib.sha256(f"{parent_id}\nspeech\n{storyboard_id}".encode()).hexdigest()
    return "task_" + digest[:28]


class CutSpeech:
    """Gives every silent shot of a cut its speech (the `shot_audio` task) before composing."""

    def __init__(
        self, speaker: ShotSpeaker, shots: ShotSource, bus: JetStreamBus, tasks: TaskStore
    ) -> None:
        self.speaker = speaker
        self.shots = shots
        self.bus = bus
        self.tasks = tasks

    async def ensure(
        self,
        owner_id: str,
        drama_id: str,
        shots: Sequence[ShotRef],
        *,
        parent_id: str,
        on_done: Callable[[int, int], Awaitable[None]] | None = None,
    ) -> tuple[list[ShotRef], list[str]]:
        """The shots with the speech of those that had none, and the ids of the storyboards
        spoken (in cut order, each once).

        Raises RenderFailed naming the storyboard whose speech task failed or was cancelled,
        or that still has no audio after it (a cut silent where it has words is not made).
        """
        silent = list(dict.fromkeys(s.storyboard_id for s in shots if needs_speech(s)))
        if not silent:
            return list(shots), []
        log.info("video.cut_speech.start", drama_id=drama_id, storyboards=len(silent))
        done = 0

        task_ids = await asyncio.gather(
            *(
                self.speaker.speak(
                    owner_id,
                    drama_id,
                    storyboard_id,
                    task_id=speech_task_id(parent_id, storyboard_id),
                    parent_id=parent_id,
                )
                for storyboard_id in silent
            )
        )
        storyboard_of = dict(zip(task_ids, silent, strict=True))

        async def finished(doc: dict[str, Any]) -> None:
            nonlocal done
            if doc["status"] != "completed":
                reason = (doc.get("error") or {}).get("reason", "")
                raise RenderFailed(
                    f"speech for storyboard {storyboard_of[doc['_id']]} {doc['status']}: {reason}"[
                        :300
                    ]
                )
            done += 1
            if on_done is not None:
                await on_done(done, len(silent))

        await wait_for_tasks(self.bus, self.tasks, task_ids, finished)
        fresh = {s.storyboard_id: s for s in await self.shots.shots(owner_id, drama_id, silent)}
        spoken: list[ShotRef] = []
        for shot in shots:
            new = fresh.get(shot.storyboard_id) if shot.storyboard_id in silent else None
            if new is None:
                spoken.append(shot)
                continue
            if not new.audio_key:
                raise RenderFailed(f"storyboard {shot.storyboard_id} has no audio after speech")
            spoken.append(shot.model_copy(update={f: getattr(new, f) for f in AUDIO_FIELDS}))
        log.info("video.cut_speech.done", drama_id=drama_id, storyboards=len(silent))
        return spoken, silent
