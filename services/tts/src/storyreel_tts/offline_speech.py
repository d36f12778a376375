"""The built-in speech providers: `offline` (Piper for English, eSpeak NG for Mandarin and as
the fallback), and `espeak` and `piper` on their own. Both engines run in-process, need no
key and no network, and are installed as packages.

Voice ids are the casting catalogue's (`storyreel_tts.voice_casting`): a catalogue id such as
`female-2`, or a cast id such as `female-2/p45` or `joe/st+3.0`; `narrator-*` is the
narrator of the request's language. An id no engine knows is a `ValidationFailed` that names
the available voices.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

from storyreel_core.drama_models import Language
from storyreel_core.errors import ValidationFailed
from storyreel_core.logging import get_logger
from storyreel_core.providers.ports import (
    ProviderError,
    SpeechRequest,
    SpeechResult,
    Usage,
    VoiceInfo,
)
from storyreel_core.story_language import story_language
from storyreel_tts.audio_dsp import Pcm
from storyreel_tts.espeak_engine import EspeakEngine
from storyreel_tts.piper_speech import piper_pcm
from storyreel_tts.voice_casting import (
    ESPEAK_LANGUAGE,
    Voice,
    catalogue,
    espeak_hz,
    narrator_voice,
)
from storyreel_tts.wav import wav_bytes

log = get_logger(__name__)

ESPEAK_MODEL = "espeak-ng"
PIPER_MODEL = "en_US-joe-medium"


def _espeak_stand_in(voice: Voice) -> Voice:
    """An eSpeak voice for a Piper one: the plain voice at the pitch nearest the same median
    pitch, so a cast stays apart even when Piper cannot speak."""
    pitch = min(range(100), key=lambda p: abs(espeak_hz(voice.language, "", p) - voice.hz))
    return replace(
        voice,
        engine="espeak",
        espeak_name=ESPEAK_LANGUAGE[voice.language],
        variant="",
        pitch=pitch,
        hz=espeak_hz(voice.language, "", pitch),
    )


class OfflineSpeech:
    """A `SpeechModel` over the in-process engines.

    `engines` chooses which: ("piper", "espeak") for `offline`, or one of them alone. With
    both, a Piper failure (a broken install, say) is logged and the line is spoken by eSpeak.
    """

    def __init__(
        self,
        provider: str = "offline",
        engines: tuple[str, ...] = ("piper", "espeak"),
        espeak: EspeakEngine | None = None,
    ) -> None:
        self.provider = provider
        self.engines = engines
        self.model = "+".join(PIPER_MODEL if e == "piper" else ESPEAK_MODEL for e in engines)
        self._espeak = espeak or EspeakEngine()

    async def voices(self) -> list[VoiceInfo]:
        found = []
        for timbre in catalogue():
            if timbre.engine not in self.engines:
                continue
            found.append(
                VoiceInfo(
                    id=timbre.id,
                    language=timbre.language or "any",
                    gender=timbre.gender,
                    description=timbre.description,
                )
            )
        return found

    def resolve(self, voice_id: str, language: Language) -> Voice:
        """The engine voice for `voice_id`, or `ValidationFailed` naming this provider's ids."""
        try:
            voice: Voice | None = narrator_voice(language, voice_id, piper="piper" in self.engines)
        except ValidationFailed:
            voice = None
        if voice is None or voice.engine not in self.engines:
            known = ", ".join(t.id for t in catalogue(language) if t.engine in self.engines)
            raise ValidationFailed(
                f"unknown voice {voice_id!r} for provider {self.provider!r} in {language!r}; "
                f"available: {known or 'none'}",
                field="voice",
            )
        return voice

    def _speak(self, text: str, voice: Voice, speed: float) -> tuple[Pcm, int, str]:
        """Samples, their rate, and the model that spoke them (after any fallback)."""
        if voice.engine == "piper":
            try:
                pcm, rate = piper_pcm(text, voice, speed)
                return pcm, rate, PIPER_MODEL
            except Exception as exc:  # any engine failure: the fallback keeps the story audible
                if "espeak" not in self.engines:
                    raise ProviderError(f"piper: {exc}", provider=self.provider) from exc
                log.warning("tts.piper.failed_fallback_espeak", error=str(exc), voice=voice.id)
                voice = _espeak_stand_in(voice)
        pcm = self._espeak.synthesize(text, voice, speed=speed)
        return pcm, self._espeak.sample_rate, ESPEAK_MODEL

    async def synthesize(self, request: SpeechRequest) -> SpeechResult:
        language = story_language(request.text, request.language)
        voice = self.resolve(request.voice, language)
        started = time.perf_counter()
        pcm, rate, spoken_by = await asyncio.to_thread(
            self._speak, request.text, voice, request.speed
        )
        seconds = pcm.size / rate
        usage = Usage(
            provider=self.provider,
            model=spoken_by,
            modality="speech",
            latency_s=time.perf_counter() - started,
            characters=len(request.text),
            seconds=seconds,
        )
        return SpeechResult(
            wav=wav_bytes(pcm, rate), sample_rate=rate, duration_s=seconds, usage=usage
        )
