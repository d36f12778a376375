"""Video providers: the `comfyui`, `async_video` and `openai` video adapters through the call
layer, and the video service's motion step (`model_motion`), against `VideoStandIn`, which
stands in for a ComfyUI image-to-video server and an async video API of the OpenAI videos /
Kling / Seedance kind (their documented protocols; no video model can run here). Every clip
the stand-in returns is a real MP4 of another size and rate (480x480 @ 12 fps) than asked.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image
from video_standins import CLIP_FPS, CLIP_SIZE, Behaviour, VideoStandIn, sha

from storyreel_core.errors import Code, ValidationFailed
from storyreel_core.providers.config import ProvidersFileError, parse_providers
from storyreel_core.providers.ports import (
    ContentRefused,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    VideoRequest,
)
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.providers.usage import UsageLedger
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_video.model_motion import MotionShot, animate
from storyreel_video.specs import ClipSpec

W, H, FPS = 360, 640, 24


def providers_file(url: str, timeout_s: float = 20, attempts: int = 3) -> str:
    return f"""
[[provider]]
name = "comfy"
type = "comfyui"
base_url = "{url}"
video_model = "ltx-video-2b-v0.9.5.safetensors"
max_attempts = {attempts}
retry_backoff_s = 0.01
timeout_s = {timeout_s}

[[provider]]
name = "kling"
type = "async_video"
base_url = "{url}"
api_key_env = "KLING_TEST_KEY"
video_model = ["kling-v2", "kling-v1"]
max_attempts = {attempts}
retry_backoff_s = 0.01
timeout_s = {timeout_s}
poll_interval_s = 0.05
prices = {{ per_second = 0.1 }}

[[provider]]
name = "sora"
type = "openai"
base_url = "{url}/v1"
video_model = "sora-2"
max_attempts = {attempts}
timeout_s = {timeout_s}
poll_interval_s = 0.05
"""


def registry(url: str, root: Path, **kw: Any) -> ProviderRegistry:
    providers = parse_providers(providers_file(url, **kw), environ={"KLING_TEST_KEY": "sk-t"})
    return ProviderRegistry(providers, FolderObjectStore(root))


def still(rgb: tuple[int, int, int], size: tuple[int, int] = (W, H)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, rgb).save(out, format="PNG")
    return out.getvalue()


def request(prompt: str = "Mara climbs the stairs", duration: float = 1.5) -> VideoRequest:
    return VideoRequest(
        prompt=prompt,
        start_image=still((200, 30, 30)),
        duration_s=duration,
        width=W,
        height=H,
        fps=FPS,
    )


def video_shape(data: bytes) -> tuple[int, int, float, int, np.ndarray]:
    """Width, height, fps, frame count and the mean RGB of the first frame of an MP4."""
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        rate = float(stream.average_rate or 0)
        return (
            stream.width,
            stream.height,
            rate,
            len(frames),
            frames[0].reshape(-1, 3).mean(axis=0),
        )


@pytest.fixture
def standin() -> Iterator[VideoStandIn]:
    server = VideoStandIn().start()
    yield server
    server.stop()


def _generate(reg: ProviderRegistry, name: str, req: VideoRequest, progress: list[float]) -> Any:
    choice = reg.resolve("video", name)
    model = reg.video_model(choice, UsageLedger())

    async def on_progress(fraction: float) -> None:
        progress.append(fraction)

    return asyncio.run(model.generate(req, on_progress))


@pytest.mark.parametrize("provider", ["comfy", "kling", "sora"])
def test_each_adapter_sends_the_frame_and_prompt_and_returns_the_vendors_mp4(
    standin: VideoStandIn, tmp_path: Path, provider: str
) -> None:
    progress: list[float] = []
    req = request()
    result = _generate(registry(standin.base_url, tmp_path), provider, req, progress)
    (seen,) = standin.requests
    assert seen.prompt == req.prompt
    assert result.mp4 == seen.mp4
    assert video_shape(result.mp4)[:3] == (*CLIP_SIZE, CLIP_FPS)
    assert progress and progress[-1] == 1.0 and progress == sorted(progress)
    assert len(progress) >= 2  # progress while the job ran, not only at its end
    assert result.usage.modality == "video" and result.usage.seconds == req.duration_s
    if provider == "comfy":
        # The frame went through /upload/image into the template's LoadImage node.
        assert seen.image_sha256 == sha(req.start_image)
        workflow = seen.body
        assert workflow["6"]["inputs"]["length"] == 41  # 1.5 s × 24 fps → 8·k + 1
        assert workflow["1"]["inputs"]["ckpt_name"] == "ltx-video-2b-v0.9.5.safetensors"
        assert (seen.width, seen.height, seen.fps) == (384, 640, FPS)  # multiples of 32
    elif provider == "kling":
        assert seen.image_sha256 == sha(req.start_image)  # the data URI's bytes
        assert (seen.width, seen.height, seen.duration, seen.fps) == (W, H, 1.5, FPS)
        assert seen.body["model"] == "kling-v2"
        assert result.usage.cost == pytest.approx(0.15)
    else:
        # The SDK's multipart `input_reference`: the frame, fitted to the asked size.
        sent = np.asarray(Image.open(io.BytesIO(seen.image)).convert("RGB"), dtype=float)
        assert sent.shape == (H, W, 3) and np.abs(sent.mean(axis=(0, 1)) - (200, 30, 30)).max() < 2
        assert seen.body["model"] == "sora-2" and seen.body["size"] == f"{W}x{H}"


def test_the_same_clip_twice_is_one_vendor_call(standin: VideoStandIn, tmp_path: Path) -> None:
    reg = registry(standin.base_url, tmp_path)
    first = _generate(reg, "kling", request(), [])
    again = _generate(reg, "kling", request(), [])
    assert standin.calls["submit"] == 1
    assert again.mp4 == first.mp4 and again.usage.cached and again.usage.cost == 0


def _failing(kind: str, rule: Any) -> VideoStandIn:
    return VideoStandIn(lambda k, n, prompt: rule(n) if k == kind else Behaviour()).start()


@pytest.mark.parametrize("provider", ["kling", "comfy"])
def test_429_with_retry_after_and_500_are_retried(tmp_path: Path, provider: str) -> None:
    kind = "submit" if provider == "kling" else "comfyui"
    statuses = {1: Behaviour(429, headers={"retry-after": "0.2"}), 2: Behaviour(500)}
    server = _failing(kind, lambda n: statuses.get(n, Behaviour()))
    try:
        started = time.monotonic()
        result = _generate(registry(server.base_url, tmp_path), provider, request(), [])
        assert time.monotonic() - started >= 0.2  # the vendor's Retry-After was waited
        assert server.calls[kind] == 3 and result.mp4 == server.requests[0].mp4
    finally:
        server.stop()


def test_errors_that_outlast_the_retries(tmp_path: Path) -> None:
    server = _failing("submit", lambda n: Behaviour(500) if n <= 2 else Behaviour(429))
    try:
        with pytest.raises(ProviderUnavailable):
            _generate(registry(server.base_url, tmp_path, attempts=2), "kling", request(), [])
        with pytest.raises(ProviderRateLimited):
            _generate(registry(server.base_url, tmp_path, attempts=2), "kling", request(), [])
    finally:
        server.stop()


def test_a_content_refusal_fails_at_once_with_the_vendors_reason(tmp_path: Path) -> None:
    server = _failing("submit", lambda n: Behaviour(refuse=True))
    try:
        with pytest.raises(ContentRefused) as caught:
            _generate(registry(server.base_url, tmp_path), "kling", request(), [])
        assert caught.value.code == Code.AI_FILTERED
        assert "moderation" in str(caught.value) and server.calls["submit"] == 1  # not retried
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("provider", "rule"),
    [
        ("kling", Behaviour(never_finish=True)),
        ("comfy", Behaviour(never_finish=True)),
        ("kling", Behaviour(delay_s=1.2)),  # the submit itself hangs
    ],
)
def test_a_job_that_never_finishes_fails_after_the_configured_limit(
    tmp_path: Path, provider: str, rule: Behaviour
) -> None:
    kind = "submit" if provider == "kling" else "comfyui"
    server = _failing(kind, lambda n: rule)
    try:
        reg = registry(server.base_url, tmp_path, timeout_s=0.6, attempts=1)
        started = time.monotonic()
        with pytest.raises(ProviderTimeout) as caught:
            _generate(reg, provider, request(), [])
        # It gave up at the limit, not at once and not after a hang (loose: the CI box is slow).
        assert 0.5 <= time.monotonic() - started < 30
        assert "did not finish within 0.6 s (timeout_s)" in str(caught.value)
        assert caught.value.code == Code.AI_TIMEOUT
        if provider == "comfy":
            assert server.cancelled  # removed from the ComfyUI queue
    finally:
        server.stop()


def test_unknown_video_provider_or_model_names_the_configured_ones(tmp_path: Path) -> None:
    reg = registry("http://127.0.0.1:9", tmp_path)
    with pytest.raises(ValidationFailed) as caught:
        reg.resolve("video", "runway", field="video_provider")
    assert "configured: comfy, kling, sora, offline" in str(caught.value)
    with pytest.raises(ValidationFailed) as caught:
        reg.resolve("video", "kling", "kling-v9", field="video_provider")
    assert "kling-v2, kling-v1" in str(caught.value)
    with pytest.raises(ProvidersFileError, match="video_api is an async_video field"):
        parse_providers(
            '[[provider]]\nname = "c"\ntype = "comfyui"\nbase_url = "http://c"\n'
            'video_model = "m"\n[provider.video_api]\nid_path = "data.id"\n'
        )


def test_a_vendor_protocol_is_configured_by_json_paths(tmp_path: Path) -> None:
    """An `async_video` table maps another vendor's field names (Kling's `data.task_id`,
    `data.task_status`, `data.task_result.videos.0.url`) onto the same cycle."""
    from storyreel_core.providers.async_video import json_path, request_values

    answer = {"data": {"task_id": "t1", "task_result": {"videos": [{"url": "https://v/1.mp4"}]}}}
    assert json_path(answer, "data.task_id") == "t1"
    assert json_path(answer, "data.task_result.videos.0.url") == "https://v/1.mp4"
    assert json_path(answer, "data.missing.0") is None
    values = request_values(request(duration=4.2), "m")
    assert values["duration_int"] == 5 and values["size"] == f"{W}x{H}"
    assert values["start_image"].startswith("data:image/png;base64,")
    assert values["end_image"] is None


# --- the video service's motion step ------------------------------------------------------


def test_shot_clips_are_conformed_and_a_failed_one_falls_back(tmp_path: Path) -> None:
    """Three shots: one animated, one refused, one that never finishes. The animated clip is
    the cut's size, rate and the shot's frame count, in the vendor's colour; the other two
    keep camera motion and the result names them with their codes. A second run of the same
    shots makes no vendor call."""

    def rule(kind: str, n: int, prompt: str) -> Behaviour:
        if "refuse" in prompt:
            return Behaviour(refuse=True)
        if "stall" in prompt:
            return Behaviour(never_finish=True)
        return Behaviour()

    server = VideoStandIn(rule).start()
    try:
        reg = registry(server.base_url, tmp_path / "cache", timeout_s=4.0, attempts=1)
        objects = FolderObjectStore(tmp_path / "objects")
        clips = []
        for n, rgb in enumerate([(200, 30, 30), (30, 200, 30), (30, 30, 200)]):
            path = tmp_path / f"still{n}.png"
            path.write_bytes(still(rgb))
            clips.append(ClipSpec(image_path=path, duration=1.0 + n * 0.3))
        shots = [
            MotionShot("s1", "Mara waves"),
            MotionShot("s2", "refuse"),
            MotionShot("s3", "stall"),
        ]
        model = reg.video_model(reg.resolve("video", "kling"), UsageLedger())
        reports: list[tuple[str, float, int]] = []

        async def on_progress(shot_id: str, fraction: float, done: int) -> None:
            reports.append((shot_id, fraction, done))

        async def run() -> Any:
            return await animate(
                model, objects, clips, shots, width=W, height=H, fps=FPS,
                scratch=tmp_path / "motion", store_prefix="cache/clips/u1/",
                on_progress=on_progress,
            )  # fmt: skip

        async def twice() -> tuple[Any, int, Any]:
            first = await run()
            calls = server.calls["submit"]
            return first, calls, await run()

        motion, calls, again = asyncio.run(twice())
        assert motion.keys[1] is None and motion.keys[2] is None
        assert [(f["shot_id"], f["code"]) for f in motion.fell_back] == [
            ("s2", int(Code.AI_FILTERED)),
            ("s3", int(Code.AI_TIMEOUT)),
        ]
        assert motion.clips[1].video_path is None and motion.clips[2].video_path is None
        key, digest = motion.keys[0] or ("", "")
        stored = asyncio.run(objects.get_bytes(key))
        assert sha(stored) == digest and key.startswith("cache/clips/u1/")
        width, height, rate, frames, mean = video_shape(stored)
        assert (width, height, rate, frames) == (W, H, FPS, 24)  # 1.0 s × 24 fps
        waved = next(r for r in server.requests if "Mara waves" in r.prompt)  # any order
        assert np.abs(mean - waved.rgb).max() < 6
        assert ("s1", 0.5) in [(r[0], r[1]) for r in reports]  # progress while it ran
        assert reports[-1][1:] == (1.0, 3)  # then every shot done
        assert motion.result("kling", "kling-v2")["clips"] == 1

        assert again.keys[0] == motion.keys[0]
        assert server.calls["submit"] == calls + 2  # only the two failed shots asked again
    finally:
        server.stop()


class _Ctx:
    """The part of `JobContext` the motion step uses: progress reports, recorded."""

    def __init__(self) -> None:
        self.steps: list[str] = []

    async def progress(self, completed: int, total: int, step: str, **_: Any) -> None:
        self.steps.append(step)


def test_clips_over_the_budget_keep_camera_motion_without_a_call(
    standin: VideoStandIn, tmp_path: Path
) -> None:
    from storyreel_video.model_motion import motion_for_job

    reg = registry(standin.base_url, tmp_path / "cache")
    path = tmp_path / "still.png"
    path.write_bytes(still((10, 200, 10)))
    clips = [ClipSpec(image_path=path, duration=3.0), ClipSpec(image_path=path, duration=2.0)]
    shots = [MotionShot("s1", "a"), MotionShot("s2", "b")]
    outcome = asyncio.run(
        motion_for_job(
            _Ctx(),  # type: ignore[arg-type]
            reg,
            FolderObjectStore(tmp_path / "objects"),
            clips,
            shots,
            video_provider="kling",
            video_model="",
            budget=0.4,  # 5 s at $0.10 a second = $0.50
            width=W,
            height=H,
            fps=FPS,
            scratch=tmp_path / "motion",
            store_prefix="cache/clips/u1/",
        )
    )
    assert standin.calls["submit"] == 0 and outcome.keys == []
    fell = outcome.result["motion"]["fell_back"]
    assert [(f["shot_id"], f["code"]) for f in fell] == [("s1", 2003), ("s2", 2003)]
    assert "exceeds the budget" in fell[0]["reason"]


def test_a_fallback_clip_names_the_provider_that_made_it_and_the_failed_attempts(
    tmp_path: Path,
) -> None:
    """Issue 10: every kling submit answers 500 (2 attempts each), its fallback comfy makes
    both clips; the motion result says so per shot and lists the four failed calls."""
    server = _failing("submit", lambda n: Behaviour(500))
    try:
        text = providers_file(server.base_url, attempts=2).replace(
            'api_key_env = "KLING_TEST_KEY"\n',
            'api_key_env = "KLING_TEST_KEY"\nfallback = ["comfy"]\n',
        )
        reg = ProviderRegistry(
            parse_providers(text, environ={"KLING_TEST_KEY": "sk-t"}),
            FolderObjectStore(tmp_path / "cache"),
        )
        path = tmp_path / "still.png"
        path.write_bytes(still((30, 200, 30)))
        clips = [ClipSpec(image_path=path, duration=1.0), ClipSpec(image_path=path, duration=0.5)]
        model = reg.video_model(reg.resolve("video", "kling"), UsageLedger())
        motion = asyncio.run(
            animate(
                model, FolderObjectStore(tmp_path / "objects"), clips,
                [MotionShot("s1", "a"), MotionShot("s2", "b")], width=W, height=H, fps=FPS,
                scratch=tmp_path / "motion", store_prefix="cache/clips/u1/",
            )
        )  # fmt: skip
        result = motion.result("kling", "kling-v2")
        comfy = "ltx-video-2b-v0.9.5.safetensors"
        assert result["provider"] == "kling" and result["clips"] == 2
        assert [(c["shot_id"], c["provider"], c["model"]) for c in result["shot_clips"]] == [
            ("s1", "comfy", comfy),
            ("s2", "comfy", comfy),
        ]
        assert result["providers_used"] == [{"provider": "comfy", "model": comfy, "clips": 2}]
        failed = [(a["shot_id"], a["provider"], a["attempt"]) for a in result["failed_attempts"]]
        assert failed == [
            ("s1", "kling", 1),
            ("s1", "kling", 2),
            ("s2", "kling", 1),
            ("s2", "kling", 2),
        ]
        assert all("500" in a["reason"] for a in result["failed_attempts"])
        assert result["kept_camera_motion"] == [] and result["fell_back"] == []
        assert server.calls["submit"] == 4 and server.calls["comfyui"] >= 2
    finally:
        server.stop()
