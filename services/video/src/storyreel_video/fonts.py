"""Finding a font libass can burn subtitles with, CJK included.

Chinese subtitles need a font with CJK glyphs, which many servers lack; without one libass
draws empty boxes. We look via fontconfig (`fc-list`) and a list of usual install paths, and if
nothing fits we still render (with a clear warning) rather than fail the whole video.
The chosen file is later linked alone into a private fonts dir for the `ass` filter, so libass
never has to scan a whole system font tree.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from PIL import ImageFont

from storyreel_core.logging import get_logger

log = get_logger(__name__)

_CJK_PATHS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.otf",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
)
_LATIN_PATHS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/System/Library/Fonts/Helvetica.ttc",
)
_CJK_PREFERRED = ("Noto Sans CJK", "Source Han Sans", "WenQuanYi", "Droid Sans Fallback")
_LATIN_PREFERRED = ("DejaVu Sans", "Noto Sans", "Liberation Sans", "Roboto")


@dataclass(frozen=True)
class FontChoice:
    """A font family name for the ASS style and, when found, the file that provides it."""

    family: str
    path: Path | None
    covers_cjk: bool


def has_cjk(text: str) -> bool:
    return any(_is_cjk(ch) for ch in text)


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF  # radicals, kana, CJK unified ideographs, punctuation
        or 0xAC00 <= o <= 0xD7AF  # Hangul
        or 0xF900 <= o <= 0xFAFF
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x20000 <= o <= 0x2FA1F
    )


def is_wide(ch: str) -> bool:
    """Characters that take a full em and may break anywhere (for wrapping)."""
    return _is_cjk(ch)


def _family_of(path: Path) -> str | None:
    try:
        name = ImageFont.truetype(str(path), 12).getname()[0]
    except OSError:
        return None
    return name or None


def _fc_list(pattern: str) -> list[Path]:
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run(
            [exe, pattern, "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [Path(line.split(":", 1)[0].strip()) for line in out.splitlines() if line.strip()]


def _pick(candidates: list[Path], preferred: tuple[str, ...]) -> tuple[Path, str] | None:
    named = [(p, fam) for p in candidates if p.is_file() and (fam := _family_of(p))]
    for want in preferred:
        for p, fam in named:
            if fam.startswith(want):
                return p, fam
    return named[0] if named else None


def _bundled_cjk() -> list[Path]:
    """Noto Sans CJK from the `manimgx-fonts-cjk` wheel: a pip install brings it everywhere.

    Checked after the system's fonts (an image with fonts-noto-cjk uses those), but before
    giving up, so a laptop or CI machine without CJK fonts still burns real Chinese glyphs.
    """
    try:
        import manimgx_fonts_cjk
    except ImportError:
        return []
    return sorted(Path(manimgx_fonts_cjk.__file__).parent.glob("*.tt[cf]"))


@functools.lru_cache(maxsize=4)
def find_font(cjk: bool) -> FontChoice:
    """The best subtitle font on this machine; `cjk` asks for one with Chinese glyphs."""
    if cjk:
        found = (
            _pick([Path(p) for p in _CJK_PATHS], _CJK_PREFERRED)
            or _pick(_fc_list(":lang=zh"), _CJK_PREFERRED)
            or _pick(_bundled_cjk(), _CJK_PREFERRED)
        )
        if found:
            return FontChoice(family=found[1], path=found[0], covers_cjk=True)
        log.warning(
            "video.subtitles.no_cjk_font",
            detail="no CJK font found (install fonts-noto-cjk or fonts-wqy-microhei); "
            "Chinese subtitles will render as empty boxes",
        )
    found = _pick([Path(p) for p in _LATIN_PATHS], _LATIN_PREFERRED) or _pick(
        _fc_list(":lang=en"), _LATIN_PREFERRED
    )
    if found:
        return FontChoice(family=found[1], path=found[0], covers_cjk=False)
    log.warning("video.subtitles.no_font", detail="no font file found; libass will fall back")
    return FontChoice(family="Sans", path=None, covers_cjk=False)
