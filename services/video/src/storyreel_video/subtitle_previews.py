"""A preview image per dynamic subtitle template, drawn by the same ffmpeg + libass that burns.

Each preview is one 360x640 frame of a sample line written with the template
(`write_subtitles`), taken at a moment that shows the effect (mid-karaoke, mid-typing, after a
pop settles), as PNG. They are rendered on first request and cached in the object store under
`cache/subtitle-previews/<template>-<hash>.png`, the hash covering the ASS text and the ffmpeg
build, so a changed template or ffmpeg draws a new one and every replica shares the cache.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
from pathlib import Path

from storyreel_core.logging import get_logger
from storyreel_core.stores.object_store import ObjectStore
from storyreel_core.subtitle_templates import TEMPLATE_IDS
from storyreel_video.ffmpeg_runner import run_ffmpeg
from storyreel_video.segment_job import link_fonts
from storyreel_video.segments import encoder_version
from storyreel_video.subtitles import Cue, SubtitleStyle, write_subtitles

log = get_logger(__name__)

WIDTH, HEIGHT = 360, 640
SAMPLE = Cue(0.0, 3.0, "Every word lights up the moment it is spoken")
PREFIX = "cache/subtitle-previews/"
# When to look: karaoke and typewriter halfway through the line, the rest once settled.
_AT = {
    "karaoke": 1.4,
    "karaoke_sweep": 1.3,
    "typewriter": 1.6,
    "pop_in": 0.1,
    "bounce": 0.12,
    "fade_slide": 0.12,
}
_BACKGROUND = "0x2E3B55"


def _write_ass(template: str, work: Path) -> tuple[str, str]:
    files = write_subtitles(
        [SAMPLE],
        srt_path=work / "sample.srt",
        ass_path=work / "subs.ass",
        width=WIDTH,
        height=HEIGHT,
        style=SubtitleStyle(template=template, position="middle", font_size=28),
    )
    return (work / "subs.ass").read_text("utf-8"), str(files.font.path or "")


async def render_preview(template: str, out_path: Path, *, ffmpeg: str | None = None) -> Path:
    """Draw `template`'s preview into `out_path` (PNG). Raises `RenderFailed` if ffmpeg fails."""
    with tempfile.TemporaryDirectory(prefix="preview-") as tmp:
        work = Path(tmp)
        ass, font = await asyncio.to_thread(_write_ass, template, work)
        await asyncio.to_thread(link_fonts, font, ass, work / "fonts")
        at = _AT.get(template, 1.2)
        args = [
            "-f", "lavfi", "-i", f"color=c={_BACKGROUND}:s={WIDTH}x{HEIGHT}:r=25",
            "-vf", f"setpts=PTS+{at:.3f}/TB,ass=filename=subs.ass:fontsdir=fonts",
            "-frames:v", "1", "-y", str(out_path),
        ]  # fmt: skip
        await run_ffmpeg(
            args,
            ffmpeg=ffmpeg,
            cwd=work,
        )
    return out_path


async def preview_key(template: str, *, ffmpeg: str | None = None) -> str:
    """The object key of `template`'s preview for this build (see the module docstring)."""
    with tempfile.TemporaryDirectory(prefix="preview-") as tmp:
        ass, _ = await asyncio.to_thread(_write_ass, template, Path(tmp))
    build = await asyncio.to_thread(encoder_version, ffmpeg)
    digest = hashlib.sha256(f"{ass}\n{build}\n{_AT.get(template)}".encode()).hexdigest()[:16]
    return f"{PREFIX}{template}-{digest}.png"


class PreviewCache:
    """Preview keys by template, each rendered once into the object store and then reused."""

    def __init__(self, objects: ObjectStore, *, ffmpeg: str | None = None) -> None:
        self.objects = objects
        self.ffmpeg = ffmpeg
        self._keys: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def keys(self) -> dict[str, str]:
        """{template id: object key of its PNG} for every template, rendering the missing."""
        async with self._lock:  # two first requests render once
            for template in TEMPLATE_IDS:
                if template in self._keys:
                    continue
                key = await preview_key(template, ffmpeg=self.ffmpeg)
                if await self.objects.stat(key) is None:
                    with tempfile.TemporaryDirectory(prefix="preview-") as tmp:
                        png = await render_preview(
                            template, Path(tmp) / "preview.png", ffmpeg=self.ffmpeg
                        )
                        await self.objects.put_file(key, png, "image/png")
                    log.info("video.subtitle_preview.rendered", template=template, key=key)
                self._keys[template] = key
        return dict(self._keys)
