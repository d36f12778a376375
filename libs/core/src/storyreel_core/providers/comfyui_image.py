"""The `comfyui` image adapter: a workflow template filled in and run on a ComfyUI server.

Two templates ship in `comfyui_templates/` (ComfyUI's API format, "Save (API)"):

- `text_to_image.json`: checkpoint → CLIP text encode (prompt, negative) → empty latent →
  KSampler → VAE decode → SaveImage (SD 1.5/SDXL layout).
- `image_reference.json`: the same with the reference sheet loaded (`LoadImage`), VAE-encoded
  and attached to the conditioning with `ReferenceLatent` (the FLUX Kontext / Qwen-Image-Edit
  node layout, core ComfyUI nodes only), so the characters and the place stay as drawn.

A provider's `templates = { text_to_image = "…", image_reference = "…" }` replaces either with
a deployment's own (an IP-Adapter or InstantID graph, say). Placeholders, `{{name}}`:

| placeholder           | value                                                           |
|-----------------------|-----------------------------------------------------------------|
| `{{prompt}}`          | the shot's prompt                                               |
| `{{negative_prompt}}` | the negative prompt                                             |
| `{{seed}}`            | int ≥ 0: the request's seed (per character in a shot)           |
| `{{steps}}`           | int: the request's steps (default 20)                           |
| `{{cfg}}`             | float: the request's cfg scale (default 7.0)                    |
| `{{width}}`, `{{height}}` | ints: the image size in pixels                              |
| `{{count}}`           | int: images per request (batch size)                            |
| `{{model}}`           | the provider's `image_model` (a checkpoint file name)           |
| `{{reference_image}}` | the uploaded name of all references side by side (one sheet)    |
| `{{reference_image_N}}` | the uploaded name of reference N (1-based; the sheet when absent) |

References are uploaded with `POST /upload/image` under content-derived names, so the same
sheet is stored once on the server.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import time
from importlib import resources
from pathlib import Path
from typing import Any

from PIL import Image

from storyreel_core.providers.comfyui_client import ComfyUIClient, fill_template
from storyreel_core.providers.config import Provider
from storyreel_core.providers.ports import (
    ImageRequest,
    ImageResult,
    Progress,
    ProviderError,
    ReferenceImage,
    Usage,
)

DEFAULT_STEPS = 20
DEFAULT_CFG = 7.0
MAX_REFERENCE_SLOTS = 8


def shipped_template(kind: str) -> dict[str, Any]:
    """A template shipped in the package (`text_to_image`, `image_reference`, …)."""
    text = (
        resources.files("storyreel_core.providers")
        .joinpath(f"comfyui_templates/{kind}.json")
        .read_text(encoding="utf-8")
    )
    template: dict[str, Any] = json.loads(text)
    return template


def load_template(provider: Provider, kind: str) -> dict[str, Any]:
    """The provider's own template of `kind` when it names one, else the shipped one.

    Raises `ProviderError` when the named file is unreadable or not a JSON object.
    """
    path = provider.config.templates.get(kind)
    if not path:
        return shipped_template(kind)
    try:
        template = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ProviderError(
            f"{provider.name}: cannot read the {kind} template {path}: {exc}"[:500],
            provider=provider.name,
        ) from None
    if not isinstance(template, dict):
        raise ProviderError(
            f"{provider.name}: the {kind} template {path} is not a workflow object",
            provider=provider.name,
        )
    return template


def reference_sheet(references: tuple[ReferenceImage, ...]) -> bytes:
    """All references side by side at one height (512 px), as one PNG."""
    pictures = [Image.open(io.BytesIO(r.data)).convert("RGB") for r in references]
    height = 512
    scaled = [p.resize((max(1, p.width * height // p.height), height)) for p in pictures]
    sheet = Image.new("RGB", (sum(p.width for p in scaled), height), "white")
    x = 0
    for p in scaled:
        sheet.paste(p, (x, 0))
        x += p.width
    out = io.BytesIO()
    sheet.save(out, format="PNG")
    return out.getvalue()


class ComfyUIImageModel:
    """`ImageModel` that runs the provider's ComfyUI image templates."""

    def __init__(
        self,
        provider: str,
        model: str,
        client: ComfyUIClient,
        templates: dict[str, dict[str, Any]],
    ) -> None:
        self.provider = provider
        self.model = model
        self.client = client
        self.templates = templates
        # Uploaded input names by content hash: a character's sheet is uploaded once per
        # process, not once per shot (the server keeps its inputs folder).
        self._uploaded: dict[str, str] = {}

    @classmethod
    def from_provider(cls, provider: Provider, model: str) -> ComfyUIImageModel:
        config = provider.config
        assert config.base_url is not None  # the providers file requires it for comfyui
        client = ComfyUIClient(
            config.name,
            config.base_url,
            timeout_s=config.timeout_s,
            api_key=provider.api_key.get_secret_value() if provider.api_key else None,
        )
        templates = {k: load_template(provider, k) for k in ("text_to_image", "image_reference")}
        return cls(config.name, model, client, templates)

    async def _upload(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        if digest not in self._uploaded:
            name = f"storyreel_{digest[:24]}.png"
            self._uploaded[digest] = await self.client.upload_image(name, data)
        return self._uploaded[digest]

    async def _sheet(self, references: tuple[ReferenceImage, ...]) -> str:
        """The uploaded name of the references' side-by-side sheet (composed once per set)."""
        key = "+".join(hashlib.sha256(r.data).hexdigest() for r in references)
        if key not in self._uploaded:
            data = await asyncio.to_thread(reference_sheet, references)
            self._uploaded[key] = await self._upload(data)
        return self._uploaded[key]

    async def generate(
        self, request: ImageRequest, on_progress: Progress | None = None
    ) -> ImageResult:
        """Fill the template, run it, read back `count` images (the first SaveImage's)."""
        started = time.perf_counter()
        values: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt,
            "seed": max(0, request.seed or 0),
            "steps": request.steps or DEFAULT_STEPS,
            "cfg": request.cfg_scale if request.cfg_scale is not None else DEFAULT_CFG,
            "width": request.width,
            "height": request.height,
            "count": request.count,
            "model": self.model,
        }
        kind = "text_to_image"
        if request.references:
            kind = "image_reference"
            sheet = await self._sheet(request.references)
            values["reference_image"] = sheet
            # Each reference on its own only when the template asks for them by number.
            numbered = "{{reference_image_" in json.dumps(self.templates[kind])
            for n in range(1, MAX_REFERENCE_SLOTS + 1):
                ref = request.references[n - 1] if n <= len(request.references) else None
                if numbered and ref is not None:
                    values[f"reference_image_{n}"] = await self._upload(ref.data)
                else:
                    values[f"reference_image_{n}"] = sheet
        try:
            workflow = fill_template(self.templates[kind], values)
        except KeyError as exc:
            raise ProviderError(
                f"{self.provider}: the {kind} template uses an unknown placeholder {exc}",
                provider=self.provider,
            ) from None
        try:
            prompt_id, files = await self.client.run(workflow, on_progress)
        except ProviderError:
            self._uploaded.clear()  # a restarted server lost its inputs: upload them again
            raise
        images = [await self.client.view(f) for f in files if f.kind == "images"]
        if not images:
            raise ProviderError(
                f"{self.provider}: prompt {prompt_id} produced no image", provider=self.provider
            )
        usage = Usage(
            provider=self.provider,
            model=self.model,
            modality="image",
            latency_s=round(time.perf_counter() - started, 4),
            images=len(images[: request.count]),
        )
        return ImageResult(images=tuple(images[: request.count]), usage=usage)
