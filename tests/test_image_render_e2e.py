"""A render with `options.image_provider`: its frames are the provider's pictures.

The platform's providers file names `comfy`, a ComfyUI provider served by `ImageStandIn`,
which stands in for a ComfyUI server (its documented /prompt, /ws, /history, /view and
/upload/image protocol; no diffusion model can run here) and returns solid-colour PNGs, so
a frame of the MP4 can be checked against what the server returned.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest
from e2e_client import Api, assert_error
from image_standins import ImageStandIn
from PIL import Image
from test_render_e2e import download, wait_done

from storyreel_cli.platform_process import PlatformProcess

STORY = 'Mara kept the lighthouse. "Hold on!" Mara shouted.'


@pytest.fixture(scope="module")
def standin() -> Iterator[ImageStandIn]:
    server = ImageStandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def image_api(tmp_path_factory: pytest.TempPathFactory, standin: ImageStandIn) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("image-platform")
    providers = root / "providers.toml"
    providers.write_text(
        f"""
[[provider]]
name = "comfy"
type = "comfyui"
base_url = "{standin.base_url}"
image_model = ["flux1-kontext-dev.safetensors"]
max_concurrency = 4
timeout_s = 60
""",
        encoding="utf-8",
    )
    proc = PlatformProcess(root / "data", env={"STORYREEL_PROVIDERS": str(providers)}).start(
        timeout=300
    )
    yield Api(proc.url)
    proc.stop()


def test_unknown_image_provider_is_a_400_naming_the_configured_ones(image_api: Api) -> None:
    r = image_api.post(
        "/pipeline/render", json={"story": STORY, "options": {"image_provider": "dalle"}}
    )
    assert_error(r, 400, 1001)
    assert "configured: comfy, offline" in r.json()["message"]
    r = image_api.post(
        "/pipeline/render",
        json={"story": STORY, "options": {"image_provider": "comfy", "image_model": "sd15"}},
    )
    assert_error(r, 400, 1001)
    assert "flux1-kontext-dev.safetensors" in r.json()["message"]


def test_a_render_with_an_image_provider_shows_the_providers_pictures(
    image_api: Api, standin: ImageStandIn, tmp_path: Path
) -> None:
    options = {
        "image_provider": "comfy",
        "scene_count": 1,
        "music": False,
        "image": {"num_steps": 3, "cfg_scale": 2.5},
        "video": {"resolution": "360x640", "fps": 12},
    }
    r = image_api.post("/pipeline/render", json={"story": STORY, "options": options})
    assert r.status_code == 202, r.text
    task = wait_done(image_api, r.json()["data"]["task_id"], timeout=300)
    result = task["result"]
    assert result["usage"]["images"] >= 2  # Mara's sheet, the location, the shot
    shot = standin.requests[-1]  # sheets first, then the one shot
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
