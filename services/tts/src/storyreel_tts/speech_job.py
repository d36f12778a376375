"""The `speech` job: narration and dialogue for every shot, one WAV per shot.

The request names the speech provider (`audio_provider`, or seed 001's `provider`; default
`offline`) and the narrator's voice (`voice`, or seed 001's `voice_id`). Voices are cast once
per storyboard, so a character sounds the same in every shot: pitch-controlled casting for the
in-process engines, distinct voice ids from the provider's list for vendors. An unknown
provider or voice fails the task at once with 1001, naming what is available — never a silent
substitute.

Every line of every shot is sent to the provider at once; the provider's concurrency limit
(the call layer, or the engine's own) decides how many run together. A shot's final
duration comes from its measured speech, never from a guess. The result carries the usage
per provider call (`usage` totals, `cost`, `provider_calls`; `UsageLedger.summary`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import AliasChoices, BaseModel, Field

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.bus.serial_progress import SerialProgress
from storyreel_core.drama_models import Shot, ShotAudio, Storyboard
from storyreel_core.providers.costs import check_budget, estimate_speech
from storyreel_core.providers.ports import SpeechModel, SpeechRequest, SpeechResult
from storyreel_core.providers.usage import UsageLedger
from storyreel_core.providers.wave_files import parse_wav
from storyreel_core.stores.object_store import ObjectStore
from storyreel_tts.audio_dsp import to_mono
from storyreel_tts.shot_speech import (
    ShotSpeech,
    Spoken,
    assemble_shot,
    shot_duration,
    utterances,
)
from storyreel_tts.speech_backend import SpeechBackend
from storyreel_tts.voice_casting import cast_from_list, cast_voices
from storyreel_tts.wav import wav_bytes

OUTPUT_RATE = 24_000  # every shot WAV: enough for speech, the video stage resamples anyway


class SpeechInput(BaseModel):
    storyboard: Storyboard
    voice: str | None = Field(default=None, validation_alias=AliasChoices("voice", "voice_id"))
    audio_provider: str | None = Field(
        default=None, validation_alias=AliasChoices("audio_provider", "provider")
    )
    speed: float = Field(default=1.0, ge=0.5, le=2.0)
    # US dollars this stage may spend (a render passes what its earlier stages left).
    budget: float | None = Field(default=None, ge=0)


async def cast_for(
    backend: SpeechBackend, provider: str | None, model: SpeechModel, spec: SpeechInput
) -> dict[str, str]:
    """Speaker → voice id for the storyboard (see the module docstring)."""
    board = spec.storyboard
    if backend.casting(provider) == "engine":
        engines = getattr(model, "engines", ("piper", "espeak"))
        cast = cast_voices(
            board.characters,
            board.language,
            narrator=spec.voice,
            piper="piper" in engines,
            espeak="espeak" in engines,
        )
        return {who: voice.id for who, voice in cast.items()}
    voices = await model.voices()
    return cast_from_list(board.characters, voices, board.language, narrator=spec.voice)


def decoded(result: SpeechResult, speaker: str, text: str) -> Spoken:
    audio = parse_wav(result.wav)
    samples = np.frombuffer(audio.frames, dtype="<i2").astype(np.int16)
    return Spoken(speaker, text, to_mono(samples, audio.channels), audio.sample_rate)


def shot_wav(shot: Shot, parts: Sequence[Spoken]) -> tuple[ShotSpeech, bytes]:
    """The shot's lines laid out at `OUTPUT_RATE` (`assemble_shot`) and that audio as WAV."""
    speech = assemble_shot(shot, parts, sample_rate=OUTPUT_RATE)
    return speech, wav_bytes(speech.pcm, speech.sample_rate)


class SpeechJob:
    def __init__(self, objects: ObjectStore, backend: SpeechBackend | None = None) -> None:
        self.objects = objects
        self._backend = backend

    @property
    def backend(self) -> SpeechBackend:
        if self._backend is None:
            self._backend = SpeechBackend()
        return self._backend

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = SpeechInput.model_validate(job.payload)
        board = spec.storyboard
        ledger = UsageLedger(budget=spec.budget)
        model = self.backend.model(spec.audio_provider, ledger)
        lines = [(shot, utterances(shot)) for shot in board.shots]
        total = sum(len(said) for _, said in lines)
        # Refused before the first paid call: every line's characters at the provider's price.
        characters = sum(len(text) for _, said in lines for _, text in said)
        estimate = estimate_speech(self.backend.prices(spec.audio_provider), characters)
        check_budget(spec.budget, estimate)
        cast = await cast_for(self.backend, spec.audio_provider, model, spec)
        done = 0

        report = SerialProgress(ctx)  # every line reports at once: one write at a time

        async def speak(speaker: str, text: str) -> tuple[SpeechResult, Spoken]:
            nonlocal done
            request = SpeechRequest(
                text=text,
                voice=cast.get(speaker, cast["narrator"]),
                speed=spec.speed,
                language=board.language,
            )
            result = await model.synthesize(request)
            done += 1
            await report(done, max(total, 1), "speaking")
            return result, decoded(result, speaker, text)

        spoken = await asyncio.gather(
            *(speak(speaker, text) for _, said in lines for speaker, text in said)
        )
        if not ledger.records:  # the in-process engines are called directly
            for result, _ in spoken:
                ledger.add(result.usage)
        audio: list[dict[str, Any]] = []
        k = 0
        for shot, said in lines:
            parts = [piece for _, piece in spoken[k : k + len(said)]]
            k += len(said)
            # Resampling (an FFT per line) and packing are CPU work: off the event loop, which
            # in the embedded platform also serves the gateway's realtime pushes.
            speech, wav = await asyncio.to_thread(shot_wav, shot, parts)
            key = f"renders/{job.task_id}/audio/{shot.id}.wav"
            await self.objects.put_bytes(key, wav, "audio/wav")
            item = ShotAudio(
                shot_id=shot.id,
                key=key,
                duration=shot_duration(speech.speech_end, shot.duration),
                segments=speech.segments,
            )
            audio.append(item.model_dump(mode="json"))
        return {"audio": audio, "voices": cast, "provider": model.provider, **ledger.summary()}
