"""Transitions between shots, blended in numpy on yuv420p frames.

They mirror ffmpeg's xfade looks (crossfade, fade through black, wipes, slide, dissolve) but
run in the frame generator, so the final cut is still one encode of one frame stream: no
per-shot intermediate files and no second decode. `alpha` runs 0 → 1 from the outgoing shot to
the incoming one.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from storyreel_core.drama_models import Transition
from storyreel_video.yuv import Plane, YuvFrame

_BLACK_Y, _NEUTRAL_C = 16, 128  # limited-range black


def blend(a: YuvFrame, b: YuvFrame, alpha: float, kind: Transition) -> YuvFrame:
    """Mix outgoing frame `a` into incoming frame `b` at `alpha` (0 = all a, 1 = all b)."""
    alpha = min(1.0, max(0.0, alpha))
    if kind == "none" or alpha >= 1.0:
        return b
    if alpha <= 0.0:
        return a
    if kind == "fade":
        # Through black: the first half darkens a, the second half brightens b.
        src, level = (a, 1.0 - 2.0 * alpha) if alpha < 0.5 else (b, 2.0 * alpha - 1.0)
        return YuvFrame(
            _mix(np.full_like(src.y, _BLACK_Y), src.y, level),
            _mix(np.full_like(src.u, _NEUTRAL_C), src.u, level),
            _mix(np.full_like(src.v, _NEUTRAL_C), src.v, level),
        )
    if kind in ("wipeleft", "wiperight"):
        return YuvFrame(*(_wipe(pa, pb, alpha, kind) for pa, pb in _planes(a, b)))
    if kind == "slideup":
        return YuvFrame(*(_slide_up(pa, pb, alpha) for pa, pb in _planes(a, b)))
    if kind == "dissolve":
        # One noise field for luma, subsampled for chroma, so a pixel switches as a whole.
        noise = _noise(a.y.shape)
        keep_y, keep_c = noise < alpha, noise[::2, ::2] < alpha
        return YuvFrame(
            np.where(keep_y, b.y, a.y), np.where(keep_c, b.u, a.u), np.where(keep_c, b.v, a.v)
        )
    # "crossfade" (and any unknown kind) is a plain linear mix.
    return YuvFrame(_mix(a.y, b.y, alpha), _mix(a.u, b.u, alpha), _mix(a.v, b.v, alpha))


def _planes(a: YuvFrame, b: YuvFrame) -> tuple[tuple[Plane, Plane], ...]:
    return ((a.y, b.y), (a.u, b.u), (a.v, b.v))


def _mix(a: Plane, b: Plane, alpha: float) -> Plane:
    w = round(alpha * 256)
    out = a.astype(np.int16)
    diff = b.astype(np.int16) - out
    diff *= w
    diff >>= 8
    out += diff
    result: Plane = out.astype(np.uint8)
    return result


def _wipe(a: Plane, b: Plane, alpha: float, kind: str) -> Plane:
    width = a.shape[1]
    out = a.copy()
    if kind == "wipeleft":  # the edge travels right → left, b revealed from the right
        edge = round((1.0 - alpha) * width)
        out[:, edge:] = b[:, edge:]
    else:  # wiperight: the edge travels left → right, b revealed from the left
        edge = round(alpha * width)
        out[:, :edge] = b[:, :edge]
    return out


def _slide_up(a: Plane, b: Plane, alpha: float) -> Plane:
    height = a.shape[0]
    off = round(alpha * height)
    out = np.empty_like(a)
    out[: height - off] = a[off:]
    out[height - off :] = b[:off]
    return out


_NOISE: dict[tuple[int, ...], npt.NDArray[np.float32]] = {}


def _noise(shape: tuple[int, ...]) -> npt.NDArray[np.float32]:
    """Pixels switch from a to b in a fixed random order (deterministic: seeded per size)."""
    noise = _NOISE.get(shape)
    if noise is None:
        noise = np.random.default_rng(7).random(shape, dtype=np.float32)
        _NOISE[shape] = noise
    return noise
