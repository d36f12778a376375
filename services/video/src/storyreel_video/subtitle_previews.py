"""A preview image per dynamic subtitle template, drawn by the same ffmpeg + libass that burns.

Each preview is one 360x640 frame of a sample line written with the template
(`write_subtitles`), taken at a moment that shows the effect (mid-karaoke, mid-typing, a pop
or a bounce in flight), as PNG. They are drawn at build time and committed beside this module
(`previews/<template>.png`, ~15 KB each; `python -m storyreel_video.subtitle_previews`
draws them again after a template changes), because drawing them on request would make the
first `GET /dynamic-subtitles/templates` wait ~10 s for fonts, jieba and eight ffmpeg runs.
The service copies each into the object store under
`cache/subtitle-previews/<template>-<sha256 of the PNG>.png` (so a new drawing gets a new key
and every replica shares them); a template without a committed preview is drawn on first
request instead.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import tempfile
from pathlib import Path

from storyreel_core.logging import get_logger
from storyreel_core.stores.object_store import ObjectStore
from storyreel_core.subtitle_templates import TEMPLATE_IDS
from storyreel_video.ffmpeg_runner import run_ffmpeg
from storyreel_video.segment_job import link_fonts
from storyreel_video.subtitles import Cue, SubtitleStyle, write_subtitles

log = get_logger(__name__)

WIDTH, HEIGHT = 360, 640
SAMPLE = Cue(0.0, 2.0, "Every word lights up")
PREFIX = "cache/subtitle-previews/"
COMMITTED = Path(__file__).parent / "previews"
# When to look: karaoke and typewriter halfway through the line, the rest once settled.
_AT = {
    "karaoke": 1.0,
    "karaoke_sweep": 0.9,
    "typewriter": 1.1,
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


async def _png(template: str, ffmpeg: str | None) -> bytes:
    committed = COMMITTED / f"{template}.png"
    if committed.is_file():
        return await asyncio.to_thread(committed.read_bytes)
    with tempfile.TemporaryDirectory(prefix="preview-") as tmp:
        png = await render_preview(template, Path(tmp) / "preview.png", ffmpeg=ffmpeg)
        log.info("video.subtitle_preview.rendered", template=template)
        return await asyncio.to_thread(png.read_bytes)


class PreviewCache:
    """Preview keys by template, each copied (or drawn) into the object store once."""

    def __init__(self, objects: ObjectStore, *, ffmpeg: str | None = None) -> None:
        self.objects = objects
        self.ffmpeg = ffmpeg
        self._keys: dict[str, str] = {}
        self._lock = asyncio.Lock()

    async def keys(self) -> dict[str, str]:
        """{template id: object key of its PNG} for every template."""
        async with self._lock:  # two first requests store once
            for template in TEMPLATE_IDS:
                if template in self._keys:
                    continue
                data = await _png(template, self.ffmpeg)
                key = f"{PREFIX}{template}-{hashlib.sha256(data).hexdigest()[:16]}.png"
                if await self.objects.stat(key) is None:
                    await self.objects.put_bytes(key, data, "image/png")
                self._keys[template] = key
        return dict(self._keys)


async def _draw_all(folder: Path) -> None:
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    for template in TEMPLATE_IDS:
        await render_preview(template, folder / f"{template}.png")


if __name__ == "__main__":  # draw the committed previews again
    asyncio.run(_draw_all(Path(sys.argv[1]) if len(sys.argv) > 1 else COMMITTED))
