"""The `comfyui` video adapter: image-to-video through a workflow template on a ComfyUI server.

The shipped `comfyui_templates/image_to_video.json` is LTX-Video's image-to-video graph with
core ComfyUI nodes only (checkpoint + T5 text encoder → `LTXVImgToVideo` → `LTXVConditioning`
→ `SamplerCustomAdvanced` → VAE decode → `CreateVideo` → `SaveVideo` as H.264 MP4). A
provider's `templates = { image_to_video = "…" }` replaces it with a deployment's own graph
(Wan 2.2 i2v, HunyuanVideo, a VHS_VideoCombine output…). Placeholders, `{{name}}`:

| placeholder           | value                                                           |
|-----------------------|-----------------------------------------------------------------|
| `{{prompt}}`          | the shot's motion prompt                                        |
| `{{negative_prompt}}` | what the clip must avoid                                        |
| `{{start_image}}`     | the uploaded name of the shot's frame (for a `LoadImage` node)  |
| `{{end_image}}`       | the uploaded end frame; the start frame when the request has none |
| `{{width}}`, `{{height}}` | ints: the clip size in pixels (rounded up to a multiple of 32) |
| `{{fps}}`             | int: frames per second                                          |
| `{{frames}}`          | int: frame count, duration × fps rounded up to 8·k + 1 (LTX, Wan) |
| `{{duration}}`        | float: the asked seconds                                        |
| `{{seed}}`            | int ≥ 0                                                         |
| `{{steps}}`, `{{cfg}}` | int 30 and float 3.0 (LTX-Video's defaults)                    |
| `{{model}}`           | the provider's `video_model` (a checkpoint file name)           |

The protocol is `comfyui_client`'s: upload the frame (`POST /upload/image`), queue `/prompt`,
progress from `/ws`, outputs from `/history`, the file from `/view`; the whole run is bounded
by the provider's `timeout_s`. The output is whatever the graph saves (MP4, WebM, GIF…): the
video service conforms any codec, size and rate to the cut.
"""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from storyreel_core.providers.comfyui_client import ComfyUIClient, OutputFile, fill_template
from storyreel_core.providers.comfyui_image import load_template
from storyreel_core.providers.config import Provider
from storyreel_core.providers.ports import (
    Progress,
    ProviderError,
    Usage,
    VideoRequest,
    VideoResult,
)

DEFAULT_STEPS = 30
DEFAULT_CFG = 3.0
DEFAULT_NEGATIVE = "worst quality, inconsistent motion, blurry, jittery, distorted"
_VIDEO_SUFFIXES = (".mp4", ".webm", ".mov", ".mkv", ".gif", ".webp", ".avi")


def frame_count(duration_s: float, fps: int) -> int:
    """The frames a clip of `duration_s` at `fps` needs, rounded up to 8·k + 1 (what LTX-Video
    and Wan accept: their VAEs compress time 8:1 after the first frame)."""
    need = max(1, math.ceil(duration_s * fps - 1e-9))
    return 8 * math.ceil((need - 1) / 8) + 1


def _multiple_of_32(value: int) -> int:
    return max(32, 32 * math.ceil(value / 32))


def pick_video(files: list[OutputFile]) -> OutputFile | None:
    """The first output that is a video by its name (SaveVideo lists its MP4 under `images`,
    VHS_VideoCombine under `gifs`), else the first `videos`/`gifs` entry."""
    for file in files:
        if file.filename.lower().endswith(_VIDEO_SUFFIXES):
            return file
    return next((f for f in files if f.kind in ("videos", "gifs")), None)


class ComfyUIVideoModel:
    """`VideoModel` that runs the provider's ComfyUI image-to-video template."""

    def __init__(
        self, provider: str, model: str, client: ComfyUIClient, template: dict[str, Any]
    ) -> None:
        self.provider = provider
        self.model = model
        self.client = client
        self.template = template

    @classmethod
    def from_provider(cls, provider: Provider, model: str) -> ComfyUIVideoModel:
        config = provider.config
        assert config.base_url is not None  # the providers file requires it for comfyui
        client = ComfyUIClient(
            config.name,
            config.base_url,
            timeout_s=config.timeout_s,
            api_key=provider.api_key.get_secret_value() if provider.api_key else None,
        )
        return cls(config.name, model, client, load_template(provider, "image_to_video"))

    async def _upload(self, data: bytes) -> str:
        return await self.client.upload_image(
            f"storyreel_{hashlib.sha256(data).hexdigest()[:24]}.png", data
        )

    async def generate(
        self, request: VideoRequest, on_progress: Progress | None = None
    ) -> VideoResult:
        """Upload the frame(s), run the template, read back the first video it saved.

        Raises `ProviderTimeout` past `timeout_s`, `ProviderError` for an execution error or a
        run that saved no video, the HTTP family (`ProviderRateLimited`, …) as the client does.
        """
        started = time.perf_counter()
        start = await self._upload(request.start_image)
        end = await self._upload(request.end_image) if request.end_image else start
        values: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": DEFAULT_NEGATIVE,
            "start_image": start,
            "end_image": end,
            "width": _multiple_of_32(request.width),
            "height": _multiple_of_32(request.height),
            "fps": request.fps,
            "frames": frame_count(request.duration_s, request.fps),
            "duration": request.duration_s,
            "seed": max(0, request.seed or 0),
            "steps": DEFAULT_STEPS,
            "cfg": DEFAULT_CFG,
            "model": self.model,
        }
        try:
            workflow = fill_template(self.template, values)
        except KeyError as exc:
            raise ProviderError(
                f"{self.provider}: the image_to_video template uses an unknown placeholder {exc}",
                provider=self.provider,
            ) from None
        prompt_id, files = await self.client.run(workflow, on_progress)
        chosen = pick_video(files)
        if chosen is None:
            raise ProviderError(
                f"{self.provider}: prompt {prompt_id} saved no video", provider=self.provider
            )
        mp4 = await self.client.view(chosen)
        usage = Usage(
            provider=self.provider,
            model=self.model,
            modality="video",
            latency_s=round(time.perf_counter() - started, 4),
            seconds=request.duration_s,
        )
        return VideoResult(mp4=mp4, usage=usage)
