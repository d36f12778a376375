"""ElevenLabs text to speech over its documented REST API, with httpx.

- `POST {base_url}/v1/text-to-speech/{voice_id}?output_format=pcm_24000` with header
  `xi-api-key` and body `{text, model_id, voice_settings: {speed}}` answers raw signed 16-bit
  little-endian mono PCM at 24 kHz (https://elevenlabs.io/docs/api-reference/text-to-speech/convert);
  the adapter wraps it in a WAV and measures its duration from the byte count.
- `GET {base_url}/v1/voices` answers `{"voices": [{voice_id, name, labels: {gender, …},
  description}]}`; it is cached for `VOICES_TTL_S`, since every request that names a voice
  is checked against it.

Errors carry `{"detail": {"status", "message"}}` (or a list for 422). 429 →
`ProviderRateLimited` with `Retry-After`; 5xx, connection errors → `ProviderUnavailable`;
timeouts → `ProviderTimeout`; a `detail.status` that names a moderation or terms-of-service
block → `ContentRefused`; other 4xx → `ProviderError`.
"""

from __future__ import annotations

import time
from typing import Any, Literal

import httpx

from storyreel_core.providers.config import Provider
from storyreel_core.providers.http_errors import send, status_error
from storyreel_core.providers.ports import (
    ProviderError,
    SpeechRequest,
    SpeechResult,
    Usage,
    VoiceInfo,
)
from storyreel_core.providers.wave_files import PcmAudio

SAMPLE_RATE = 24_000
VOICES_TTL_S = 300.0
_REFUSAL_WORDS = ("moderation", "terms", "unsafe", "blocked", "content_policy")


class ElevenLabsSpeech:
    """A `SpeechModel` for ElevenLabs; `model` is the `model_id` (e.g. `eleven_multilingual_v2`)."""

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        api_key: str,
        base_url: str = "https://api.elevenlabs.io",
        timeout_s: float = 60.0,
    ) -> None:
        self.provider = provider
        self.model = model
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"xi-api-key": api_key},
            timeout=timeout_s,
        )
        self._voices: list[VoiceInfo] = []
        self._voices_at = 0.0

    @classmethod
    def from_provider(cls, provider: Provider, model: str) -> ElevenLabsSpeech:
        """The registry's factory for a `type = "elevenlabs"` entry's `speech_model`."""
        config = provider.config
        return cls(
            provider=config.name,
            model=model,
            api_key=provider.api_key.get_secret_value() if provider.api_key else "",
            base_url=config.base_url or "https://api.elevenlabs.io",
            timeout_s=config.timeout_s,
        )

    async def voices(self) -> list[VoiceInfo]:
        """The account's voices (`GET /v1/voices`), cached for `VOICES_TTL_S` seconds."""
        if self._voices and time.monotonic() - self._voices_at < VOICES_TTL_S:
            return list(self._voices)
        body = (await self._send("GET", "/v1/voices")).json()
        found = []
        for entry in body.get("voices") or []:
            labels = entry.get("labels") or {}
            gender = str(labels.get("gender") or "").lower()
            found.append(
                VoiceInfo(
                    id=str(entry["voice_id"]),
                    language=str(labels.get("language") or "any"),
                    gender=_gender(gender),
                    description=str(entry.get("name") or entry.get("description") or ""),
                )
            )
        self._voices, self._voices_at = found, time.monotonic()
        return list(found)

    async def synthesize(self, request: SpeechRequest) -> SpeechResult:
        started = time.perf_counter()
        payload: dict[str, Any] = {
            "text": request.text,
            "model_id": self.model,
            "voice_settings": {"speed": request.speed},
        }
        if request.language:
            payload["language_code"] = request.language
        response = await self._send(
            "POST",
            f"/v1/text-to-speech/{request.voice}",
            params={"output_format": f"pcm_{SAMPLE_RATE}"},
            json=payload,
        )
        pcm = response.content
        audio = PcmAudio(frames=pcm[: len(pcm) // 2 * 2], sample_rate=SAMPLE_RATE)
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
            wav=audio.wav(), sample_rate=SAMPLE_RATE, duration_s=audio.duration_s, usage=usage
        )

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return await send(
            self._client, self.provider, method, path, what="request", error=self._error, **kwargs
        )

    def _error(self, response: httpx.Response) -> ProviderError:
        message = _detail(response)
        refused = any(word in message.lower() for word in _REFUSAL_WORDS)
        text = f"{self.provider}: HTTP {response.status_code}: {message}"
        return status_error(self.provider, response, text, refused=refused)

    async def aclose(self) -> None:
        await self._client.aclose()


def _gender(label: str) -> Literal["male", "female", "unknown"]:
    if label == "male":
        return "male"
    if label == "female":
        return "female"
    return "unknown"


def _detail(response: httpx.Response) -> str:
    """`detail.status: detail.message` from an error body, or its text."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if isinstance(detail, dict):
        return ": ".join(str(detail[k]) for k in ("status", "message") if detail.get(k))
    return str(detail)[:200]
