"""Planar YUV 4:2:0 frames and the RGB → YUV conversion used to feed the encoder.

Frames are generated in Python as yuv420p planes rather than RGB because that halves the bytes
moved per frame and lets ffmpeg hand them straight to libx264 without a swscale pass; both
matter when the whole final cut must cost little more than the raw encode. The conversion is
BT.709 limited range, and the encoder tags the stream the same way so players show the colours
that were meant.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt
from PIL import Image

Plane = npt.NDArray[np.uint8]
Plane16 = npt.NDArray[np.int16]

# BT.709 luma weights; limited ("tv") range: Y in [16, 235], Cb/Cr in [16, 240].
_KR, _KB = 0.2126, 0.0722
_KG = 1.0 - _KR - _KB


@dataclass(frozen=True)
class YuvFrame:
    """One yuv420p frame: full-size luma and two half-size chroma planes (uint8)."""

    y: Plane
    u: Plane
    v: Plane

    def tobytes(self) -> bytes:
        return self.y.tobytes() + self.u.tobytes() + self.v.tobytes()

    @property
    def nbytes(self) -> int:
        return self.y.nbytes + self.u.nbytes + self.v.nbytes


def frame_bytes(width: int, height: int) -> int:
    """Size of one yuv420p frame; width and height are even."""
    return width * height * 3 // 2


def _rgb_to_ycbcr_matrix() -> tuple[float, ...]:
    """RGB → (Y, Cb, Cr) as one affine 3×4 matrix, BT.709 limited range (8-bit codes)."""
    sy, sc = 219.0 / 255.0, 224.0 / 255.0
    cb = 0.5 / (1.0 - _KB)
    cr = 0.5 / (1.0 - _KR)
    return (
        sy * _KR, sy * _KG, sy * _KB, 16.0,
        -sc * cb * _KR, -sc * cb * _KG, sc * cb * (1.0 - _KB), 128.0,
        sc * cr * (1.0 - _KR), -sc * cr * _KG, -sc * cr * _KB, 128.0,
    )  # fmt: skip


_MATRIX = _rgb_to_ycbcr_matrix()


def rgb_to_yuv420(rgb: Image.Image | npt.NDArray[np.uint8]) -> tuple[Plane, Plane, Plane]:
    """Convert RGB with even width and height to BT.709 limited-range yuv420p planes.

    Done by Pillow in C (an affine colour matrix, then a 2×2 box `reduce` for centre-sited
    chroma): 5x faster than the same maths in numpy, and it runs once per shot.
    """
    img = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    if img.width % 2 or img.height % 2:
        raise ValueError("yuv420p needs even width and height")
    y, cb, cr = img.convert("RGB").convert("RGB", _MATRIX).split()
    return (
        np.asarray(y, dtype=np.uint8).copy(),
        np.asarray(cb.reduce(2), dtype=np.uint8).copy(),
        np.asarray(cr.reduce(2), dtype=np.uint8).copy(),
    )


def yuv420_to_rgb(frame: YuvFrame) -> npt.NDArray[np.uint8]:
    """Inverse of `rgb_to_yuv420` (chroma upsampled by repetition); used for thumbnails/tests."""
    y = (frame.y.astype(np.float32) - 16.0) / 219.0
    u = (np.repeat(np.repeat(frame.u, 2, axis=0), 2, axis=1).astype(np.float32) - 128.0) / 224.0
    v = (np.repeat(np.repeat(frame.v, 2, axis=0), 2, axis=1).astype(np.float32) - 128.0) / 224.0
    r = y + v * (2.0 * (1.0 - _KR))
    b = y + u * (2.0 * (1.0 - _KB))
    g = (y - _KR * r - _KB * b) / _KG
    rgb = np.stack([r, g, b], axis=-1) * np.float32(255.0)
    return _to_u8(rgb.astype(np.float32))


def load_rgb(path: str | Path | BinaryIO, width: int, height: int) -> Image.Image:
    """Load an image (a path or an open binary file) and cover-fit it (scale to fill,
    centre-crop) to exactly width×height.

    Lanczos is used because this happens once per shot; every per-frame operation after it is
    cheap bilinear sampling. Stills already at the frame size are not resampled at all.
    """
    with Image.open(path) as im:
        rgb: Image.Image = im.convert("RGB")
    src_w, src_h = rgb.size
    if (src_w, src_h) == (width, height):
        return rgb
    scale = max(width / src_w, height / src_h)
    box_w, box_h = width / scale, height / scale
    left, top = (src_w - box_w) / 2.0, (src_h - box_h) / 2.0
    fitted: Image.Image = rgb.resize(
        (width, height), Image.Resampling.LANCZOS, box=(left, top, left + box_w, top + box_h)
    )
    return fitted


def _to_u8(a: npt.NDArray[np.float32]) -> Plane:
    out: Plane = np.clip(np.rint(a), 0, 255).astype(np.uint8)
    return out


STILL_CACHE_SIZE = 8
"""Stills kept ready as yuv420p planes per process (~1.4 MB each at 720×1280). A segment draws
its shot's still and the next shot's (the transition into it), so a process encoding a cut's
segments decoded nearly every still twice, ~50 ms of CPU each at 720×1280 (a PNG decode is
most of it)."""

_StillKey = tuple[str, int, int]
_stills: OrderedDict[_StillKey, tuple[Plane, Plane, Plane]] = OrderedDict()
_stills_lock = threading.Lock()
# One lock per still being decoded: two segments starting at once on the same still (one's
# shot, the other's next shot) wait for one decode instead of making two.
_decoding: dict[_StillKey, threading.Lock] = {}


def still_yuv420(
    path: str | Path, width: int, height: int, *, sha256: str | None = None
) -> tuple[Plane, Plane, Plane]:
    """The image at `path` cover-fitted to width×height (`load_rgb`) as yuv420p planes
    (`rgb_to_yuv420`), read-only: the same arrays are handed to every caller.

    The last `STILL_CACHE_SIZE` are kept, keyed by the file's SHA-256 (hex) and the size, so
    a file rewritten with other pixels is never served stale and the same picture under
    another path (each segment job downloads its own copy) is decoded once. `sha256`, when
    the caller has already checked the file against it, spares reading and hashing the file
    again; it must be the file's. Safe across threads. Raises what `load_rgb` raises
    (OSError, PIL.UnidentifiedImageError).
    """
    data = None
    if sha256 is None:
        data = Path(path).read_bytes()
        sha256 = hashlib.sha256(data).hexdigest()
    key = (sha256, width, height)
    with _stills_lock:
        planes = _cached(key)
        if planes is not None:
            return planes
        gate = _decoding.setdefault(key, threading.Lock())
    with gate:
        with _stills_lock:
            planes = _cached(key)  # decoded by another thread while this one waited
        if planes is not None:
            return planes
        source = path if data is None else io.BytesIO(data)
        try:
            planes = rgb_to_yuv420(load_rgb(source, width, height))
        finally:
            with _stills_lock:
                _decoding.pop(key, None)
                if planes is not None:
                    for plane in planes:
                        plane.flags.writeable = False
                    _stills[key] = planes
                    while len(_stills) > STILL_CACHE_SIZE:
                        _stills.popitem(last=False)
    return planes


def _cached(key: _StillKey) -> tuple[Plane, Plane, Plane] | None:
    """The kept planes of `key`, now the most recent; None if not kept. Under _stills_lock."""
    planes = _stills.get(key)
    if planes is not None:
        _stills.move_to_end(key)
    return planes
