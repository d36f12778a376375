"""Which speech model a request gets: the built-in engines and the configured providers.

`SpeechBackend.model(provider)` answers the `SpeechModel` a job speaks through, by the name a
request sends as `audio_provider` (seed 001's `provider`); an unknown name is a
`ValidationFailed` (400, 1001) naming the configured ones. Built in, needing no
configuration: `offline` (Piper for English, eSpeak NG for Mandarin and as the fallback),
`piper` and `espeak`. Vendors (`openai`, `elevenlabs`) are added from the providers file.

`casting(provider)` says how the job casts voices: "engine" for the in-process engines (pitch-
controlled casting, `voice_casting.cast_voices`) or "catalogue" for vendors (distinct voice ids
from the provider's list, `voice_casting.cast_from_list`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from storyreel_core.errors import ValidationFailed
from storyreel_core.providers.ports import SpeechModel, VoiceInfo
from storyreel_tts.espeak_engine import EspeakEngine
from storyreel_tts.offline_speech import OfflineSpeech

DEFAULT_PROVIDER = "offline"
Casting = Literal["engine", "catalogue"]


def builtin_models(espeak: EspeakEngine | None = None) -> dict[str, SpeechModel]:
    """The in-process providers, by name."""
    engine = espeak or EspeakEngine()
    return {
        "offline": OfflineSpeech("offline", ("piper", "espeak"), engine),
        "piper": OfflineSpeech("piper", ("piper",), engine),
        "espeak": OfflineSpeech("espeak", ("espeak",), engine),
    }


class SpeechBackend:
    """The speech models of one process, by provider name (built-ins plus `extra`)."""

    def __init__(
        self,
        extra: Mapping[str, SpeechModel] | None = None,
        *,
        espeak: EspeakEngine | None = None,
    ) -> None:
        self.models: dict[str, SpeechModel] = {**builtin_models(espeak), **(extra or {})}

    def names(self) -> list[str]:
        return list(self.models)

    def model(self, provider: str | None) -> SpeechModel:
        """The model for `provider` (blank → `offline`); `ValidationFailed` when unknown."""
        name = (provider or "").strip() or DEFAULT_PROVIDER
        found = self.models.get(name)
        if found is None:
            raise ValidationFailed(
                f"unknown audio provider {name!r}; configured: {', '.join(self.names())}",
                field="audio_provider",
            )
        return found

    def casting(self, provider: str | None) -> Casting:
        return "engine" if isinstance(self.model(provider), OfflineSpeech) else "catalogue"

    async def voices(self, provider: str | None) -> list[VoiceInfo]:
        return await self.model(provider).voices()
