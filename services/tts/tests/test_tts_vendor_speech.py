"""OpenAI `audio.speech` and ElevenLabs text-to-speech adapters against loopback servers.

Each server below stands in for the vendor's cloud API (which cannot be reached here): it
implements the documented endpoint — OpenAI `POST /v1/audio/speech` answering a streamed WAV
(RIFF/data sizes 0xFFFFFFFF, as OpenAI sends), ElevenLabs `POST /v1/text-to-speech/{voice_id}`
with `xi-api-key` answering raw PCM at `output_format=pcm_24000`, and `GET /v1/voices` — and
their error answers (429 with Retry-After, 500, a slow answer, a content refusal).
"""

from __future__ import annotations

import asyncio
import json
import math
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from storyreel_core.bus.job_runner import Job
from storyreel_core.drama_models import Character, DialogueLine, Shot, Storyboard
from storyreel_core.errors import ValidationFailed
from storyreel_core.providers.config import Provider, ProviderConfig
from storyreel_core.providers.elevenlabs_speech import ElevenLabsSpeech
from storyreel_core.providers.openai_speech import OpenAISpeech
from storyreel_core.providers.ports import (
    ContentRefused,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    SpeechRequest,
)
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.providers.wave_files import parse_wav
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_tts.speech_backend import SpeechBackend
from storyreel_tts.speech_job import SpeechJob

RATE = 24_000


def tone_pcm(seconds: float) -> bytes:
    n = round(seconds * RATE)
    return b"".join(
        struct.pack("<h", round(8000 * math.sin(2 * math.pi * 200 * i / RATE))) for i in range(n)
    )


def streamed_wav(pcm: bytes) -> bytes:
    """A WAV header as a streaming server writes it: sizes unknown (0xFFFFFFFF)."""
    fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", 0xFFFFFFFF)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", 0xFFFFFFFF)
        + pcm
    )


class Vendor(BaseHTTPRequestHandler):
    """Both vendors' endpoints; the text decides the answer (`!429`, `!500`, `!slow`, `!nsfw`)."""

    calls: ClassVar[list[dict[str, Any]]] = []
    in_flight = 0
    peak = 0
    seen: ClassVar[set[str]] = set()
    lock = threading.Lock()

    def log_message(self, *args: Any) -> None:
        pass

    def _send(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/v1/voices" and self.headers.get("xi-api-key") == "el-key":
            voices = [
                {"voice_id": "v-rachel", "name": "Rachel", "labels": {"gender": "female"}},
                {"voice_id": "v-adam", "name": "Adam", "labels": {"gender": "male"}},
                {"voice_id": "v-sam", "name": "Sam", "labels": {"gender": "male"}},
            ]
            self._send(200, json.dumps({"voices": voices}).encode(), "application/json")
        else:
            self._send(
                401,
                b'{"detail":{"status":"invalid_api_key","message":"bad key"}}',
                "application/json",
            )

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        text = body.get("input") or body.get("text") or ""
        Vendor.calls.append({"path": self.path, "body": body})
        with Vendor.lock:
            Vendor.in_flight += 1
            Vendor.peak = max(Vendor.peak, Vendor.in_flight)
            first_time = text not in Vendor.seen
            Vendor.seen.add(text)
        try:
            self._answer(text, body, first_time)
        finally:
            with Vendor.lock:
                Vendor.in_flight -= 1

    def _answer(self, text: str, body: dict[str, Any], first_time: bool) -> None:
        if "!lag" in text:
            time.sleep(0.2)
        if "!flaky" in text and first_time:
            error = {"error": {"message": "busy", "type": "rate_limit"}}
            return self._send(
                429, json.dumps(error).encode(), "application/json", {"Retry-After": "0.1"}
            )
        if "!429" in text:
            error = {
                "error": {"message": "slow down", "type": "rate_limit"},
                "detail": {"status": "too_many_requests", "message": "slow down"},
            }
            return self._send(
                429, json.dumps(error).encode(), "application/json", {"Retry-After": "7"}
            )
        if "!500" in text:
            return self._send(500, b'{"error":{"message":"boom"}}', "application/json")
        if "!slow" in text:
            time.sleep(1.5)
        if "!nsfw" in text:
            if self.path.startswith("/v1/audio"):
                error = {
                    "error": {"message": "refused by policy", "code": "content_policy_violation"}
                }
            else:
                error = {
                    "detail": {"status": "content_against_terms_moderation", "message": "blocked"}
                }
            return self._send(400, json.dumps(error).encode(), "application/json")
        if self.path == "/v1/audio/speech":
            assert body["response_format"] == "wav"
            return self._send(200, streamed_wav(tone_pcm(0.5)), "audio/wav")
        if self.path.startswith("/v1/text-to-speech/v-") and "output_format=pcm_24000" in self.path:
            if self.headers.get("xi-api-key") != "el-key":
                return self._send(
                    401, b'{"detail":{"status":"invalid_api_key"}}', "application/json"
                )
            return self._send(200, tone_pcm(0.75), "application/octet-stream")
        self._send(404, b"{}", "application/json")


@pytest.fixture(scope="module")
def vendor() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Vendor)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def openai_model(base: str, timeout_s: float = 5.0) -> OpenAISpeech:
    return OpenAISpeech(
        provider="oai",
        model="tts-1",
        base_url=f"{base}/v1",
        api_key="sk-test",
        timeout_s=timeout_s,
    )


def eleven_model(base: str, timeout_s: float = 5.0) -> ElevenLabsSpeech:
    return ElevenLabsSpeech(
        provider="el",
        model="eleven_multilingual_v2",
        api_key="el-key",
        base_url=base,
        timeout_s=timeout_s,
    )


async def test_openai_speech_returns_a_measured_wav(vendor: str) -> None:
    result = await openai_model(vendor).synthesize(SpeechRequest(text="Hello there.", voice="nova"))
    audio = parse_wav(result.wav)
    assert result.sample_rate == RATE and result.duration_s == pytest.approx(0.5, abs=1e-3)
    assert audio.duration_s == pytest.approx(0.5, abs=1e-3)
    assert result.usage.characters == 12  # the call layer prices it
    sent = Vendor.calls[-1]["body"]
    assert (sent["model"], sent["voice"], sent["input"]) == ("tts-1", "nova", "Hello there.")


async def test_elevenlabs_speaks_with_a_voice_id_and_lists_voices(vendor: str) -> None:
    model = eleven_model(vendor)
    voices = await model.voices()
    assert [(v.id, v.gender) for v in voices][:2] == [("v-rachel", "female"), ("v-adam", "male")]
    result = await model.synthesize(SpeechRequest(text="Hi.", voice="v-adam", speed=1.1))
    assert result.duration_s == pytest.approx(0.75, abs=1e-3)
    assert parse_wav(result.wav).sample_rate == RATE
    sent = Vendor.calls[-1]
    assert sent["path"].startswith("/v1/text-to-speech/v-adam")
    assert sent["body"]["model_id"] == "eleven_multilingual_v2"
    assert sent["body"]["voice_settings"]["speed"] == 1.1


@pytest.mark.parametrize("make", [openai_model, eleven_model])
async def test_error_answers_map_to_the_port_errors(vendor: str, make: Any) -> None:
    model = make(vendor)
    with pytest.raises(ProviderRateLimited) as limited:
        await model.synthesize(SpeechRequest(text="!429", voice="v-adam"))
    assert limited.value.retry_after_s == 7.0 and limited.value.retryable
    with pytest.raises(ProviderUnavailable):
        await model.synthesize(SpeechRequest(text="!500", voice="v-adam"))
    with pytest.raises(ContentRefused) as refused:
        await model.synthesize(SpeechRequest(text="!nsfw", voice="v-adam"))
    assert not refused.value.retryable and refused.value.code == 2004
    with pytest.raises(ProviderTimeout):
        await make(vendor, timeout_s=0.3).synthesize(SpeechRequest(text="!slow", voice="v-adam"))


async def test_elevenlabs_bad_key_is_not_retryable(vendor: str) -> None:
    model = ElevenLabsSpeech(provider="el", model="m", api_key="wrong", base_url=vendor)
    with pytest.raises(Exception) as caught:
        await model.voices()
    assert "invalid_api_key" in str(caught.value) and not getattr(caught.value, "retryable", True)
    assert "wrong" not in str(caught.value)


async def test_speech_job_through_the_call_layer(vendor: str, tmp_path: Path) -> None:
    """The job speaks every line at once; the provider's max_concurrency (2) holds at the
    vendor, a 429 is retried after its Retry-After, characters get distinct voices of their
    gender, and the same job again (a redelivery) makes no provider call."""
    config = ProviderConfig(
        name="oai",
        type="openai",
        base_url=f"{vendor}/v1",
        speech_model=["tts-1"],
        max_concurrency=2,
        prices={"per_1k_characters": 15.0},
    )
    objects = FolderObjectStore(tmp_path)
    job = SpeechJob(objects, SpeechBackend(ProviderRegistry([Provider(config=config)], objects)))
    people = [
        Character(id="c-ann", name="Ann", gender="female"),
        Character(id="c-bo", name="Bo", gender="male"),
    ]
    shots = [
        Shot(
            id=f"s{i}",
            number=i + 1,
            scene_id="sc",
            narration=f"!lag narration {i}",
            dialogue=[DialogueLine(character_id=people[i % 2].id, text=f"!lag !flaky line {i}")],
        )
        for i in range(3)
    ]
    board = Storyboard(language="en", characters=people, shots=shots)
    payload = {"storyboard": board.model_dump(mode="json"), "provider": "oai", "voice_id": "onyx"}
    for _ in range(100):  # a timed-out request of an earlier test may still be sleeping
        if not Vendor.in_flight:
            break
        await asyncio.sleep(0.05)
    Vendor.peak, before = 0, len(Vendor.calls)
    result = await job(Job("task_a", "speech", "u", payload, 1), NoProgress())
    assert Vendor.peak == 2
    assert len(Vendor.calls) - before == 6 + 3  # every line once, the flaky ones twice
    assert result["usage"]["calls"] == 6 and result["cost"] == pytest.approx(
        sum(len(t) for s in shots for t in (s.narration, s.dialogue[0].text)) / 1000 * 15.0
    )
    voices = result["voices"]
    assert voices["narrator"] == "onyx" and voices["c-ann"] in {"coral", "nova", "sage", "shimmer"}
    assert len(set(voices.values())) == 3
    assert [a["segments"][0]["speaker"] for a in result["audio"]] == ["narrator"] * 3

    before = len(Vendor.calls)
    again = await job(Job("task_a", "speech", "u", payload, 2), NoProgress())
    assert len(Vendor.calls) == before and again["usage"]["calls"] == 0
    assert again["usage"]["cached"] == 6


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"provider": "nope"}, "audio_provider"),
        ({"provider": "oai", "voice": "cosyvoice-mini"}, "voice"),
    ],
)
async def test_unknown_provider_or_voice_fails_the_job_naming_the_choices(
    vendor: str, tmp_path: Path, payload: dict[str, Any], field: str
) -> None:
    config = ProviderConfig(
        name="oai", type="openai", base_url=f"{vendor}/v1", speech_model=["tts-1"]
    )
    objects = FolderObjectStore(tmp_path)
    job = SpeechJob(objects, SpeechBackend(ProviderRegistry([Provider(config=config)], objects)))
    board = Storyboard(
        language="en", characters=[], shots=[Shot(id="s", number=1, scene_id="x", narration="Hi.")]
    )
    with pytest.raises(ValidationFailed) as caught:
        await job(
            Job(
                "task_b", "speech", "u", {"storyboard": board.model_dump(mode="json"), **payload}, 1
            ),
            NoProgress(),
        )
    assert caught.value.field == field and caught.value.code == 1001
    assert ("offline" if field == "audio_provider" else "nova") in caught.value.message


class NoProgress:
    async def progress(self, *args: Any, **kwargs: Any) -> None:
        pass


async def test_a_speech_budget_below_the_estimate_fails_before_any_call(
    vendor: str, tmp_path: Path
) -> None:
    """Every line's characters at the provider's price are checked before the first call:
    at $15 per 1,000 characters, 40 characters cost $0.60, so a $0.50 budget is refused."""
    config = ProviderConfig(
        name="oai",
        type="openai",
        base_url=f"{vendor}/v1",
        speech_model=["tts-1"],
        prices={"per_1k_characters": 15.0},
    )
    objects = FolderObjectStore(tmp_path)
    job = SpeechJob(objects, SpeechBackend(ProviderRegistry([Provider(config=config)], objects)))
    text = "Forty characters of narration, spoken!!."
    assert len(text) == 40
    board = Storyboard(
        language="en", characters=[], shots=[Shot(id="s", number=1, scene_id="x", narration=text)]
    )
    payload = {"storyboard": board.model_dump(mode="json"), "provider": "oai", "budget": 0.5}
    before = len(Vendor.calls)
    with pytest.raises(ValidationFailed) as caught:
        await job(Job("task_budget", "speech", "u", payload, 1), NoProgress())
    assert caught.value.field == "budget" and "$0.600000" in caught.value.message
    assert len(Vendor.calls) == before
    payload["budget"] = 0.6  # the estimate exactly: allowed, and spent
    result = await job(Job("task_budget2", "speech", "u", payload, 1), NoProgress())
    assert result["cost"] == pytest.approx(0.6)
