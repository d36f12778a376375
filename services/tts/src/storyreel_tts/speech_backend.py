"""Which speech model a request gets: the providers file's entries and the built-in engines.

`SpeechBackend.model(provider, ledger)` answers the `SpeechModel` a job speaks through, by the
name a request sends as `audio_provider` (seed 001's `provider`); an unknown name is a
`ValidationFailed` (400, 1001) naming the configured ones.

- Built in, needing no configuration and no key: `offline` (Piper for English, eSpeak NG
  for Mandarin and as the fallback), and `piper` and `espeak` on their own (a providers-file
  entry of that name replaces them). These run in-process and are called directly: their
  output is cheap to make again, so it is not cached in the object store.
- Vendors (`type = "openai"` → `audio.speech`, `type = "elevenlabs"`) come from the providers
  file (`storyreel_core.providers.registry`) and are called through the shared call layer:
  the entry's `max_concurrency` and `requests_per_minute` (shared by every job of the
  process), retries honouring `Retry-After`, fallbacks, the content-addressed result cache
  (a redelivered job makes no provider call) and the job's usage ledger.

`casting(provider)` says how the job casts voices: "engine" for the in-process engines
(pitch-controlled, `voice_casting.cast_voices`) or "catalogue" for vendors (distinct ids from
the provider's list, `voice_casting.cast_from_list`).
"""

from __future__ import annotations

from typing import Any, Literal

from storyreel_core.errors import ValidationFailed
from storyreel_core.providers.config import Prices
from storyreel_core.providers.ports import SpeechModel, VoiceInfo
from storyreel_core.providers.registry import ProviderRegistry, register_adapter
from storyreel_core.providers.usage import UsageLedger
from storyreel_tts.espeak_engine import EspeakEngine
from storyreel_tts.offline_speech import OfflineSpeech

DEFAULT_PROVIDER = "offline"
ENGINE_TYPES: dict[str, tuple[str, ...]] = {
    "offline": ("piper", "espeak"),
    "piper": ("piper",),
    "espeak": ("espeak",),
}
Casting = Literal["engine", "catalogue"]

_ESPEAK = EspeakEngine()  # stateless handle onto the process-wide library


def _engine_factory(provider: Any, model: str) -> OfflineSpeech:
    config = provider.config
    return OfflineSpeech(config.name, ENGINE_TYPES[config.type], _ESPEAK)


for _type in ENGINE_TYPES:
    register_adapter(_type, "speech", _engine_factory)
register_adapter(
    "openai", "speech", "storyreel_core.providers.openai_speech:OpenAISpeech.from_provider"
)
register_adapter(
    "elevenlabs",
    "speech",
    "storyreel_core.providers.elevenlabs_speech:ElevenLabsSpeech.from_provider",
)


class SpeechBackend:
    """The speech providers of one process: `registry`'s plus built-in `piper` and `espeak`."""

    def __init__(self, registry: ProviderRegistry | None = None) -> None:
        self.registry = registry or ProviderRegistry([])
        self._engines: dict[str, OfflineSpeech] = {}
        for name, engines in ENGINE_TYPES.items():
            entry = self.registry.providers.get(name)
            if entry is None or entry.config.type == name:
                self._engines[name] = OfflineSpeech(name, engines, _ESPEAK)

    def names(self) -> list[str]:
        """Configured speech providers in file order, then the built-in engines."""
        configured = self.registry.names("speech")
        return configured + [n for n in self._engines if n not in configured]

    def _type(self, name: str) -> str:
        entry = self.registry.providers.get(name)
        return entry.config.type if entry is not None else name

    def _check(self, provider: str | None) -> str:
        name = (provider or "").strip() or DEFAULT_PROVIDER
        if name not in self.names():
            raise ValidationFailed(
                f"unknown audio provider {name!r}; configured: {', '.join(self.names())}",
                field="audio_provider",
            )
        return name

    def model(self, provider: str | None, ledger: UsageLedger | None = None) -> SpeechModel:
        """The model a job speaks through (see the module docstring); `ValidationFailed`
        for an unknown provider."""
        name = self._check(provider)
        if self._type(name) in ENGINE_TYPES:
            return self._engines.get(name) or self.registry.adapter(name, "speech", "offline")
        choice = self.registry.resolve("speech", name, None, field="audio_provider")
        return self.registry.speech_model(choice, ledger or UsageLedger())

    def prices(self, provider: str | None) -> Prices:
        """What `provider` charges; the in-process engines are free."""
        name = self._check(provider)
        return Prices() if self._type(name) in ENGINE_TYPES else self.registry.prices(name)

    def casting(self, provider: str | None) -> Casting:
        return "engine" if self._type(self._check(provider)) in ENGINE_TYPES else "catalogue"

    async def voices(self, provider: str | None) -> list[VoiceInfo]:
        name = self._check(provider)
        if self._type(name) in ENGINE_TYPES:
            return await self.model(name).voices()
        return await self.registry.voices(name)
