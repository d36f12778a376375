"""The `shot_audio` job: one storyboard's voice, spoken by the tts service's speech providers.

Without `text` the shot's own narration and dialogue are spoken, the narration by the chosen
voice and each line by its character's cast voice (the tts service casts a character from its
id, so it sounds the same in every shot). With `text`, that text is spoken by the chosen voice
alone. The WAV lands under the storyboard's keys; the shot is lengthened when its speech needs
longer than planned (as the one-click pipeline does), and the previous audio is deleted.
"""

from __future__ import annotations

import io
from typing import Any

import soundfile
from pydantic import BaseModel, Field

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import Storyboard
from storyreel_core.errors import AppError
from storyreel_storyboard.frames import SPENT_FIELDS, shot_of
from storyreel_storyboard.image_job import drama_cast
from storyreel_storyboard.peers import Peers
from storyreel_storyboard.storyboard_fields import MAX_DURATION, storyboard_view
from storyreel_storyboard.storyboard_store import StoryboardStore, media_prefix


class ShotAudioInput(BaseModel):
    drama_id: str = Field(min_length=1)
    storyboard_id: str = Field(min_length=1)
    text: str = Field(default="", max_length=5000)
    voice: str = Field(default="", max_length=80)
    audio_provider: str = Field(default="", max_length=80)
    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    budget: float | None = Field(default=None, ge=0)  # US dollars; None = no limit


def audio_key(drama_id: str, storyboard_id: str, task_or_upload: str) -> str:
    tag = task_or_upload.removeprefix("task_")
    return f"{media_prefix(drama_id, storyboard_id)}audio_{tag}.wav"


def wav_seconds(data: bytes) -> float:
    """Seconds of a WAV held in memory (any layout libsndfile reads, EXTENSIBLE included)."""
    info = soundfile.info(io.BytesIO(data))
    return float(info.frames) / float(info.samplerate)


def fitted_duration(planned: float, needed: float) -> float:
    """The shot's duration once its audio is known: as planned unless the audio needs longer."""
    return round(min(MAX_DURATION, max(planned, needed)), 3)


class ShotAudioJob:
    def __init__(self, store: StoryboardStore, peers: Peers) -> None:
        self.store = store
        self.peers = peers

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = ShotAudioInput.model_validate(job.payload)
        owner, drama = job.owner_id, spec.drama_id
        doc = await self.store.get(owner, drama, spec.storyboard_id)
        shot = (
            shot_of(doc, narration=spec.text, dialogue=[], lines=[]) if spec.text else shot_of(doc)
        )
        cast, _references = await drama_cast(self.peers, owner, drama, doc)
        board = Storyboard(
            language=doc.get("language") or "zh",
            characters=cast,
            shots=[shot],
        )
        payload = {"storyboard": board.model_dump(mode="json"), "speed": spec.speed}
        if spec.voice:
            payload["voice"] = spec.voice
        if spec.audio_provider:
            payload["audio_provider"] = spec.audio_provider
        if spec.budget is not None:
            payload["budget"] = spec.budget

        async def relay(child: dict[str, Any]) -> None:
            await ctx.progress(0, 1, "speaking")

        child_id = f"{job.task_id}_speech"
        child = await self.peers.run_stage(
            "speech",
            payload,
            owner_id=owner,
            drama_id=drama,
            task_id=child_id,
            parent_id=job.task_id,
            on_update=relay,
        )
        if child["status"] != "completed":
            reason = (child.get("error") or {}).get("reason", "unknown error")
            raise AppError(f"speech failed: {reason}", permanent=True)
        result = child["result"]
        spoken = result["audio"][0]
        data = await self.store.objects.get_bytes(spoken["key"])
        key = audio_key(drama, spec.storyboard_id, job.task_id)
        await self.store.objects.put_bytes(key, data, "audio/wav")
        await self.store.objects.delete_prefix(f"renders/{child_id}/")
        seconds = round(wav_seconds(data), 3)
        voice = spec.voice or str((result.get("voices") or {}).get("narrator", ""))

        def keep(current: dict[str, Any]) -> dict[str, Any]:
            return {
                **current,
                "audio_key": key,
                "audio_duration": seconds,
                "audio_source": "generated",
                "audio_text": spec.text,
                "voice": voice,
                "speed": spec.speed,
                "audio_segments": spoken.get("segments") or [],
                "duration": fitted_duration(float(current["duration"]), spoken["duration"]),
            }

        before, after = await self.store.mutate(owner, drama, spec.storyboard_id, keep)
        if before.get("audio_key") and before["audio_key"] != key:
            await self.store.objects.delete(before["audio_key"])
        await ctx.progress(1, 1, "done")
        spent = {k: result[k] for k in SPENT_FIELDS if k in result}
        # Who spoke: the narrator's voice and each character's cast voice (a render lists them).
        return {"storyboard": storyboard_view(after), "voices": result.get("voices") or {}, **spent}
