"""Speech through any OpenAI-compatible `audio.speech` endpoint, with the official SDK.

`POST {base_url}/audio/speech` with `{model, input, voice, response_format: "wav", speed}`
(https://platform.openai.com/docs/api-reference/audio/createSpeech) answers the audio as the
body. The SDK's own retries are off (`max_retries=0`): the shared call layer retries, so a
429's `Retry-After` is honoured once, in one place. Errors map onto the port's family:
429 → `ProviderRateLimited` (with `Retry-After`), 5xx and dropped connections →
`ProviderUnavailable`, timeouts → `ProviderTimeout`, a refusal by the content filter
(`code` `content_policy_violation`/`content_filter`, or a 400 whose message says so) →
`ContentRefused`, any other 4xx → `ProviderError` (not retried).

OpenAI has no endpoint that lists speech voices; the adapter offers the voices the provider
entry configures, else the documented built-in ones.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import openai

from storyreel_core.providers.config import Provider
from storyreel_core.providers.http_errors import retry_after_seconds
from storyreel_core.providers.ports import (
    ContentRefused,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    SpeechRequest,
    SpeechResult,
    Usage,
    VoiceInfo,
)
from storyreel_core.providers.wave_files import WavFormatError, parse_wav

# The built-in voices of OpenAI's speech models (API reference, createSpeech `voice`), with
# the gender their names are commonly described with; they speak every supported language.
OPENAI_VOICES: tuple[VoiceInfo, ...] = (
    VoiceInfo("alloy", "any", "unknown", "OpenAI alloy: neutral, balanced"),
    VoiceInfo("ash", "any", "male", "OpenAI ash"),
    VoiceInfo("ballad", "any", "male", "OpenAI ballad"),
    VoiceInfo("coral", "any", "female", "OpenAI coral"),
    VoiceInfo("echo", "any", "male", "OpenAI echo"),
    VoiceInfo("fable", "any", "male", "OpenAI fable"),
    VoiceInfo("nova", "any", "female", "OpenAI nova"),
    VoiceInfo("onyx", "any", "male", "OpenAI onyx: deep"),
    VoiceInfo("sage", "any", "female", "OpenAI sage"),
    VoiceInfo("shimmer", "any", "female", "OpenAI shimmer"),
)
_REFUSAL_CODES = {"content_policy_violation", "content_filter", "moderation_blocked"}


class OpenAISpeech:
    """A `SpeechModel` over `audio.speech`; `provider` is the configured entry's name."""

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        base_url: str,
        api_key: str,
        voices: Sequence[VoiceInfo] = (),
        timeout_s: float = 60.0,
    ) -> None:
        self.provider = provider
        self.model = model
        self._voices = list(voices) or list(OPENAI_VOICES)
        self._client = openai.AsyncOpenAI(
            base_url=base_url, api_key=api_key or "unused", max_retries=0, timeout=timeout_s
        )

    @classmethod
    def from_provider(cls, provider: Provider, model: str) -> OpenAISpeech:
        """The registry's factory for a `type = "openai"` entry's `speech_model`."""
        config = provider.config
        return cls(
            provider=config.name,
            model=model,
            base_url=config.base_url or "https://api.openai.com/v1",
            api_key=provider.api_key.get_secret_value() if provider.api_key else "",
            timeout_s=config.timeout_s,
        )

    async def voices(self) -> list[VoiceInfo]:
        return list(self._voices)

    async def synthesize(self, request: SpeechRequest) -> SpeechResult:
        """Speak `request.text`; the answer's WAV is re-headed with its true sizes."""
        started = time.perf_counter()
        try:
            response = await self._client.audio.speech.create(
                model=self.model,
                input=request.text,
                voice=request.voice,
                response_format="wav",
                speed=request.speed,
            )
            body = response.content
        except openai.APITimeoutError as exc:
            raise ProviderTimeout(
                f"{self.provider}: speech timed out", provider=self.provider
            ) from exc
        except openai.RateLimitError as exc:
            raise ProviderRateLimited(
                f"{self.provider}: rate limited: {_message(exc)}",
                provider=self.provider,
                retry_after_s=retry_after_seconds(exc.response.headers),
            ) from exc
        except openai.APIStatusError as exc:
            raise _status_error(self.provider, exc) from exc
        except openai.APIConnectionError as exc:
            raise ProviderUnavailable(
                f"{self.provider}: cannot reach the speech endpoint", provider=self.provider
            ) from exc
        try:
            audio = parse_wav(body)
        except WavFormatError as exc:
            raise ProviderError(
                f"{self.provider}: speech answer is not a 16-bit WAV ({exc})",
                provider=self.provider,
            ) from exc
        characters = len(request.text)
        usage = Usage(
            provider=self.provider,
            model=self.model,
            modality="speech",
            latency_s=time.perf_counter() - started,
            characters=characters,
            seconds=audio.duration_s,
        )
        return SpeechResult(
            wav=audio.wav(), sample_rate=audio.sample_rate, duration_s=audio.duration_s, usage=usage
        )


def _message(exc: openai.APIStatusError) -> str:
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body)
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(exc.message)


def _status_error(provider: str, exc: openai.APIStatusError) -> ProviderError:
    status, message = exc.status_code, _message(exc)
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body)
    code = str(error.get("code") or "") if isinstance(error, dict) else ""
    if code in _REFUSAL_CODES or (
        status == 400 and "content" in message.lower() and "polic" in message.lower()
    ):
        return ContentRefused(f"{provider}: refused: {message}", provider=provider)
    if status >= 500:
        return ProviderUnavailable(f"{provider}: HTTP {status}: {message}", provider=provider)
    return ProviderError(f"{provider}: HTTP {status}: {message}", provider=provider)
