"""The speech job with the built-in eSpeak engine: where its CPU work runs."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from storyreel_core.bus.job_runner import Job
from storyreel_core.drama_models import Shot, Storyboard
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_tts import speech_job
from storyreel_tts.speech_job import OUTPUT_RATE, SpeechJob
from storyreel_tts.wav import read_wav


class NoProgress:
    async def progress(self, *args: Any, **kwargs: Any) -> None:
        pass


async def test_shots_are_assembled_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Laying a shot's lines out resamples every line (an FFT each) and packs a WAV: CPU work
    that must not run on the event loop, which in the embedded platform also pushes realtime
    progress to WebSocket clients. The shot's WAV is still written, at the output rate."""
    threads: list[int] = []
    assemble = speech_job.shot_wav

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return assemble(*args, **kwargs)

    monkeypatch.setattr(speech_job, "shot_wav", recording)
    objects = FolderObjectStore(tmp_path)
    board = Storyboard(
        language="en",
        shots=[Shot(id="s1", number=1, scene_id="sc", narration="The lamp is lit.")],
    )
    payload = {"storyboard": board.model_dump(mode="json"), "audio_provider": "espeak"}
    result = await SpeechJob(objects)(Job("task_sj", "speech", "u", payload, 1), NoProgress())  # type: ignore[arg-type]

    assert threads and threading.get_ident() not in threads
    pcm, rate = read_wav(await objects.get_bytes(result["audio"][0]["key"]))
    assert rate == OUTPUT_RATE and pcm.size > OUTPUT_RATE // 2
