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
import unicodedata
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
# Family names in order of preference. Noto Sans CJK / Source Han Sans ship one face per
# region in a collection (JP, KR, SC, TC, HK) whose glyphs differ (骨 and 直 are drawn one way in
# Japanese, another in Chinese), so the face is chosen by its family name, never by index 0.
_CJK_SIMPLIFIED = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "Source Han Sans CN",
)
_CJK_TRADITIONAL = (
    "Noto Sans CJK TC",
    "Source Han Sans TC",
    "Noto Sans TC",
    "Source Han Sans TW",
    "Noto Sans CJK HK",
)
_CJK_ANY = ("Noto Sans CJK", "Source Han Sans", "WenQuanYi", "Droid Sans Fallback")
_LATIN_PREFERRED = ("DejaVu Sans", "Noto Sans", "Liberation Sans", "Roboto")


@dataclass(frozen=True)
class FontChoice:
    """A font family name for the ASS style and, when found, the file that provides it."""

    family: str
    path: Path | None
    covers_cjk: bool
    index: int = 0  # the face within a collection (.ttc), the one `family` names


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


@functools.lru_cache(maxsize=64)
def _faces(path: Path) -> tuple[tuple[int, str], ...]:
    """(index, family name) of every face in a font file (a .ttc holds several)."""
    faces: list[tuple[int, str]] = []
    for index in range(32):
        try:
            name = ImageFont.truetype(str(path), 12, index=index).getname()[0]
        except OSError:
            break
        if name:
            faces.append((index, name))
    return tuple(faces)


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


def _pick(candidates: list[Path], preferred: tuple[str, ...]) -> tuple[Path, str, int] | None:
    """The first face, in `preferred` order, whose family starts with a preferred name."""
    named = [(p, fam, i) for p in candidates if p.is_file() for i, fam in _faces(p)]
    for want in preferred:
        for p, fam, i in named:
            if fam.startswith(want):
                return p, fam, i
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


def is_traditional(text: str) -> bool:
    """Whether Chinese `text` is written in traditional characters (hanzidentifier's tables)."""
    import hanzidentifier

    han = "".join(ch for ch in text if 0x4E00 <= ord(ch) <= 0x9FFF)
    return bool(han) and hanzidentifier.identify(han) == hanzidentifier.TRADITIONAL


def wants_traditional(language: str, text: str) -> bool:
    """Traditional face for zh-Hant/zh-TW/zh-HK, or for text written in traditional characters."""
    tag = language.lower().replace("_", "-")
    if tag.startswith(("zh-hant", "zh-tw", "zh-hk", "zh-mo")):
        return True
    if tag.startswith(("zh-hans", "zh-cn", "zh-sg")):
        return False
    return is_traditional(text)


@functools.lru_cache(maxsize=8)
def find_font(cjk: bool, traditional: bool = False) -> FontChoice:
    """The best subtitle font on this machine; `cjk` asks for one with Chinese glyphs, in the
    Simplified Chinese face, or the Traditional one with `traditional`."""
    if cjk:
        region = _CJK_TRADITIONAL if traditional else _CJK_SIMPLIFIED
        # A regional face anywhere beats a generic CJK face found first.
        for preferred in (region, _CJK_ANY):
            found = (
                _pick([Path(p) for p in _CJK_PATHS], preferred)
                or _pick(_fc_list(":lang=zh"), preferred)
                or _pick(_bundled_cjk(), preferred)
            )
            if found and any(found[1].startswith(name) for name in preferred):
                return FontChoice(found[1], found[0], covers_cjk=True, index=found[2])
        log.warning(
            "video.subtitles.no_cjk_font",
            detail="no CJK font found (install fonts-noto-cjk or fonts-wqy-microhei); "
            "Chinese subtitles will render as empty boxes",
        )
    found = _pick([Path(p) for p in _LATIN_PATHS], _LATIN_PREFERRED) or _pick(
        _fc_list(":lang=en"), _LATIN_PREFERRED
    )
    if found:
        return FontChoice(family=found[1], path=found[0], covers_cjk=False, index=found[2])
    log.warning("video.subtitles.no_font", detail="no font file found; libass will fall back")
    return FontChoice(family="Sans", path=None, covers_cjk=False)


@functools.lru_cache(maxsize=8)
def coverage(path: Path, index: int) -> frozenset[int]:
    """Code points the face draws (its best cmap, read with fontTools)."""
    from fontTools.ttLib import TTCollection, TTFont

    if path.suffix.lower() in (".ttc", ".otc") or path.name.lower().endswith(".ttc"):
        collection = TTCollection(str(path), lazy=True)
        face = collection.fonts[index]
    else:
        face = TTFont(str(path), lazy=True)
    cmap = face["cmap"].getBestCmap() or {}
    return frozenset(cmap)


def readable(text: str, font: FontChoice) -> str:
    """`text` with every character the font cannot draw replaced by something readable.

    Format and control characters (zero-width joiners, variation selectors) are dropped; a
    character whose compatibility form the font has becomes that (ｆｕｌｌ → full, ﬁ → fi);
    anything else becomes its Unicode name in brackets, e.g. 😀 → "[grinning face]", never an
    empty box. Without a font file there is nothing to check against and text is unchanged.
    """
    if font.path is None:
        return text
    covered = coverage(font.path, font.index)
    out: list[str] = []
    for ch in text:
        if ord(ch) in covered or ch in "\n\t ":
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category in ("Cc", "Cf", "Mn", "Me") or 0xFE00 <= ord(ch) <= 0xFE0F:
            continue
        if category == "Zs":
            out.append(" ")
            continue
        compat = unicodedata.normalize("NFKC", ch)
        if compat != ch and all(ord(c) in covered for c in compat):
            out.append(compat)
            continue
        name = unicodedata.name(ch, "").lower()
        out.append(f"[{name}]" if name else f"[U+{ord(ch):04X}]")
    return "".join(out)
