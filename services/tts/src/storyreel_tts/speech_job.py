"""The `speech` job: narration and dialogue for every shot, one WAV per shot.

Voices are cast once per storyboard, so a character sounds the same in every shot. A shot's
final duration comes from its measured speech, never from a guess.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pydantic import BaseModel, Field

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import ShotAudio, Storyboard
from storyreel_core.stores.object_store import ObjectStore
from storyreel_tts.espeak_engine import EspeakEngine
from storyreel_tts.shot_speech import shot_duration, speak_shot
from storyreel_tts.voice_casting import cast_voices
from storyreel_tts.wav import wav_bytes


class SpeechInput(BaseModel):
    storyboard: Storyboard
    voice: str | None = None
    speed: float = Field(default=1.0, ge=0.5, le=2.0)


class SpeechJob:
    def __init__(self, objects: ObjectStore, engine: EspeakEngine | None = None) -> None:
        self.objects = objects
        self._engine = engine

    @property
    def engine(self) -> EspeakEngine:
        if self._engine is None:
            self._engine = EspeakEngine()
        return self._engine

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = SpeechInput.model_validate(job.payload)
        board = spec.storyboard
        voices = cast_voices(board.characters, board.language, narrator=spec.voice)
        audio: list[dict[str, Any]] = []
        total = len(board.shots)
        for i, shot in enumerate(board.shots):
            await ctx.progress(
                i, total, "speaking", current_item={"shot_id": shot.id, "status": "processing"}
            )
            speech = await asyncio.to_thread(
                speak_shot, shot, voices, self.engine, speed=spec.speed
            )
            key = f"renders/{job.task_id}/audio/{shot.id}.wav"
            await self.objects.put_bytes(
                key, wav_bytes(speech.pcm, speech.sample_rate), "audio/wav"
            )
            item = ShotAudio(
                shot_id=shot.id,
                key=key,
                duration=shot_duration(speech.speech_end, shot.duration),
                segments=speech.segments,
            )
            audio.append(item.model_dump(mode="json"))
        cast = {who: voice.id for who, voice in voices.items()}
        return {"audio": audio, "voices": cast}
