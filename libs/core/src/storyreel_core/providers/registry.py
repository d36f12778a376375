"""`ProviderRegistry`: the configured providers of one process, resolved per request.

Every process (the gateway and each service) loads the same providers file at start-up, so
each can check a request's `ai_provider`/`model` itself and the limits are per process.

- `resolve(modality, provider, model)` turns a request's names into a `ModelChoice`; an
  unknown provider or model is a `ValidationFailed` (400, 1001) naming the configured ones.
- `text_model(choice, ledger)` / `speech_model(choice, ledger)` build the managed model a job
  calls: the adapter of the choice plus its fallbacks, wrapped by the call layer (`calls`).
  `choice.offline` means "the built-in rule-based path": there is no model to build unless a
  service registered an offline adapter for that modality.
- `describe()` is the `GET /providers` answer: names, types, modalities, models, limits,
  prices and voices; never a key or a base URL.

Adapters are registered per (provider type, modality) as a factory `(Provider, model) → model`
or as a lazily imported `"module:attribute"` path, so a vendor SDK is imported only by the
processes that use it. Core registers the `openai` text adapter; the speech side registers its
adapters with `register_adapter` (for example `register_adapter("piper", "speech", …)`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from storyreel_core.errors import ValidationFailed
from storyreel_core.logging import get_logger
from storyreel_core.providers.calls import (
    ManagedImageModel,
    ManagedSpeechModel,
    ManagedTextModel,
    ManagedVideoModel,
    ProviderLimiter,
    Target,
)
from storyreel_core.providers.config import (
    MODEL_FIELDS,
    OFFLINE,
    OFFLINE_MODEL,
    Prices,
    Provider,
    load_providers,
)
from storyreel_core.providers.ports import (
    ImageModel,
    Modality,
    SpeechModel,
    TextModel,
    VideoModel,
    VoiceInfo,
)
from storyreel_core.providers.result_cache import ResultCache
from storyreel_core.providers.usage import UsageLedger
from storyreel_core.settings import Settings
from storyreel_core.stores.object_store import ObjectStore

log = get_logger("storyreel.providers")

AdapterFactory = Callable[[Provider, str], Any]

_ADAPTERS: dict[tuple[str, Modality], AdapterFactory | str] = {
    ("openai", "text"): "storyreel_core.providers.openai_text:OpenAITextModel.from_provider",
    ("openai", "image"): "storyreel_core.providers.openai_image:OpenAIImageModel.from_provider",
    ("comfyui", "image"): "storyreel_core.providers.comfyui_image:ComfyUIImageModel.from_provider",
    ("comfyui", "video"): "storyreel_core.providers.comfyui_video:ComfyUIVideoModel.from_provider",
    ("async_video", "video"): "storyreel_core.providers.async_video:AsyncVideoModel.from_provider",
    ("openai", "video"): "storyreel_core.providers.openai_video:OpenAIVideoModel.from_provider",
}


def register_adapter(provider_type: str, modality: Modality, factory: AdapterFactory | str) -> None:
    """Make `factory(provider, model)` the adapter of `provider_type` for `modality`.

    `factory` may be a `"package.module:attr[.attr]"` path, imported on first use.
    Registering again replaces the earlier one (the last registration wins).
    """
    _ADAPTERS[(provider_type, modality)] = factory


def _factory(provider_type: str, modality: Modality) -> AdapterFactory | None:
    entry = _ADAPTERS.get((provider_type, modality))
    if entry is None or callable(entry):
        return entry
    module_name, _, attrs = entry.partition(":")
    target: Any = importlib.import_module(module_name)
    for attr in attrs.split("."):
        target = getattr(target, attr)
    _ADAPTERS[(provider_type, modality)] = target
    return cast(AdapterFactory, target)


@dataclass(frozen=True)
class ModelChoice:
    """A request's provider and model for one modality, checked against the configuration."""

    modality: Modality
    provider: str
    model: str
    type: str

    @property
    def offline(self) -> bool:
        return self.type == OFFLINE

    def as_dict(self) -> dict[str, str]:
        return {"provider": self.provider, "model": self.model}


class ProviderRegistry:
    def __init__(self, providers: list[Provider], objects: ObjectStore | None = None) -> None:
        self.providers: dict[str, Provider] = {p.name: p for p in providers}
        self.cache = ResultCache(objects) if objects is not None else None
        self._limiters: dict[str, ProviderLimiter] = {}
        self._models: dict[tuple[str, Modality, str], Any] = {}

    @classmethod
    def from_settings(
        cls, settings: Settings, objects: ObjectStore | None = None
    ) -> ProviderRegistry:
        """Load `settings.providers` (raises `ProvidersFileError` naming the line)."""
        registry = cls(load_providers(settings.providers), objects)
        log.info(
            "providers.loaded",
            file=str(settings.providers) if settings.providers else None,
            providers=sorted(registry.providers),
        )
        return registry

    # --- resolving ----------------------------------------------------------------------

    def names(self, modality: Modality) -> list[str]:
        """Providers serving `modality`, in file order (the built-in offline last)."""
        return [n for n, p in self.providers.items() if modality in p.config.modalities]

    def resolve(
        self,
        modality: Modality,
        provider: str | None = None,
        model: str | None = None,
        *,
        field: str = "ai_provider",
        model_field: str = "model",
    ) -> ModelChoice:
        """The (provider, model) a request names; empty provider → `offline`, empty model →
        the provider's first model for `modality`.

        Raises `ValidationFailed` (400, 1001) naming the configured providers or models.
        """
        name = (provider or "").strip() or OFFLINE
        entry = self.providers.get(name)
        if entry is None or modality not in entry.config.modalities:
            configured = ", ".join(self.names(modality))
            raise ValidationFailed(
                f"unknown {modality} provider {name!r}; configured: {configured}", field=field
            )
        if entry.config.type == OFFLINE:
            models = entry.config.models(modality) or [OFFLINE_MODEL]
        else:
            models = entry.config.models(modality)
        wanted = (model or "").strip() or models[0]
        if wanted not in models:
            raise ValidationFailed(
                f"unknown model {wanted!r} for provider {name!r}; configured"
                f" {MODEL_FIELDS[modality]}: {', '.join(models)}",
                field=model_field,
            )
        return ModelChoice(modality=modality, provider=name, model=wanted, type=entry.config.type)

    # --- building -----------------------------------------------------------------------

    def limiter(self, name: str) -> ProviderLimiter:
        limiter = self._limiters.get(name)
        if limiter is None:
            config = self.providers[name].config
            limiter = ProviderLimiter(config.max_concurrency, config.requests_per_minute)
            self._limiters[name] = limiter
        return limiter

    def adapter(self, name: str, modality: Modality, model: str) -> Any:
        """The bare adapter (one per provider, modality and model in this process)."""
        key = (name, modality, model)
        if key not in self._models:
            provider = self.providers[name]
            factory = _factory(provider.config.type, modality)
            if factory is None:
                raise ValidationFailed(
                    f"provider {name!r} (type {provider.config.type}) has no {modality}"
                    " adapter in this process",
                    field="provider",
                )
            self._models[key] = factory(provider, model)
        return self._models[key]

    def has_adapter(self, name: str, modality: Modality) -> bool:
        provider = self.providers.get(name)
        return provider is not None and (provider.config.type, modality) in _ADAPTERS

    def _targets(self, choice: ModelChoice) -> list[Target[Any]]:
        targets = [
            Target(
                provider=self.providers[choice.provider],
                model_name=choice.model,
                model=self.adapter(choice.provider, choice.modality, choice.model),
                limiter=self.limiter(choice.provider),
            )
        ]
        for name in self.providers[choice.provider].config.fallback:
            other = self.providers.get(name)
            if other is None or not self.has_adapter(name, choice.modality):
                continue  # e.g. `offline` text: the caller's own rule-based path
            models = other.config.models(choice.modality)
            if not models:
                continue
            targets.append(
                Target(
                    provider=other,
                    model_name=models[0],
                    model=self.adapter(name, choice.modality, models[0]),
                    limiter=self.limiter(name),
                )
            )
        return targets

    def text_model(self, choice: ModelChoice, ledger: UsageLedger) -> TextModel:
        """The managed text model of `choice` (not for `offline`: the caller's own path)."""
        return ManagedTextModel(self._targets(choice), ledger, self.cache)

    def speech_model(self, choice: ModelChoice, ledger: UsageLedger) -> SpeechModel:
        return ManagedSpeechModel(self._targets(choice), ledger, self.cache)

    def video_model(self, choice: ModelChoice, ledger: UsageLedger) -> VideoModel:
        """The managed video model of `choice` (not for `offline`: camera motion on stills)."""
        return ManagedVideoModel(self._targets(choice), ledger, self.cache)

    def image_model(self, choice: ModelChoice, ledger: UsageLedger) -> ImageModel:
        """The managed image model of `choice` (not for `offline`: the procedural renderer)."""
        return ManagedImageModel(self._targets(choice), ledger, self.cache)

    def prices(self, name: str) -> Prices:
        """The prices of provider `name` (all zero for an unknown or free provider)."""
        provider = self.providers.get(name)
        return provider.config.prices if provider is not None else Prices()

    def falls_back_offline(self, name: str) -> bool:
        """Whether `name` lists `offline` among its fallbacks (the caller's built-in path)."""
        provider = self.providers.get(name)
        return provider is not None and OFFLINE in provider.config.fallback

    # --- describing ---------------------------------------------------------------------

    def describe(self) -> list[dict[str, Any]]:
        """Each provider as `GET /providers` shows it, voices empty; never keys or URLs."""
        out: list[dict[str, Any]] = []
        for name, provider in self.providers.items():
            config = provider.config
            models: dict[str, list[str]] = {}
            for modality in config.modalities:
                listed = config.models(modality)
                models[modality] = listed or ([OFFLINE_MODEL] if config.type == OFFLINE else [])
            out.append(
                {
                    "name": name,
                    "type": config.type,
                    "modalities": list(config.modalities),
                    "models": models,
                    "voices": [],
                    "max_concurrency": config.max_concurrency,
                    "requests_per_minute": config.requests_per_minute,
                    "prices": config.prices.model_dump(),
                    "fallback": list(config.fallback),
                }
            )
        return out

    async def voices(self, name: str) -> list[VoiceInfo]:
        """The voices of `name`'s default speech model, from the adapter in this process."""
        provider = self.providers[name]
        models = provider.config.models("speech") or [OFFLINE_MODEL]
        model: SpeechModel = self.adapter(name, "speech", models[0])
        return await model.voices()
