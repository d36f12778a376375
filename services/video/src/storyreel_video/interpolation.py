"""Linear interpolation onto a regular grid, by broadcasting instead of `np.interp`.

The soundtrack turns per-block gains (the ducker's, the limiter's) and the pad synthesised at a
quarter rate into per-sample curves: over a million points each for half a minute of 48 kHz
audio. Every known point then sits a whole number of samples apart, so each span between two
of them is the same ramp scaled; building the spans by broadcasting takes a fraction of
`np.interp`'s time, which searches for every point's neighbours.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Curve = npt.NDArray[np.float32]


def upsample_linear(values: npt.ArrayLike, factor: int, n: int, *, offset: int = 0) -> Curve:
    """`n` samples through `values[k]` placed at sample `offset + k·factor` (along axis 0).

    Straight lines join neighbouring values; before the first and after the last the curve
    holds flat, as `np.interp` does. Extra axes (channels) are carried along.
    """
    v = np.asarray(values, dtype=np.float32)
    if factor < 1 or offset < 0:
        raise ValueError("factor must be ≥ 1 and offset ≥ 0")
    out = np.empty((n, *v.shape[1:]), dtype=np.float32)
    if n == 0 or v.shape[0] == 0:
        out[...] = 0.0
        return out
    ramp = (np.arange(factor, dtype=np.float32) / np.float32(factor)).reshape(
        factor, *([1] * (v.ndim - 1))
    )
    joined = (v[:-1, None] + (v[1:] - v[:-1])[:, None] * ramp).reshape(-1, *v.shape[1:])
    head = min(offset, n)
    out[:head] = v[0]
    body = joined[: n - head]
    out[head : head + body.shape[0]] = body
    out[head + body.shape[0] :] = v[-1]
    return out


def upsample_window(
    values: npt.ArrayLike, factor: int, lo: int, hi: int, *, offset: int = 0
) -> Curve:
    """Samples `lo:hi` of `upsample_linear(values, factor, n, offset=offset)` for any n ≥ hi,
    computed from the few known points around the window only (for curves too long to hold:
    a streamed soundtrack asks for one chunk at a time)."""
    v = np.asarray(values, dtype=np.float32)
    if not 0 <= lo <= hi:
        raise ValueError("need 0 ≤ lo ≤ hi")
    if v.shape[0] == 0:
        return np.zeros((hi - lo, *v.shape[1:]), dtype=np.float32)
    # The last known point at or before lo (or the first), and one past the first at or after hi.
    k0 = min(v.shape[0] - 1, max(0, (lo - offset) // factor))
    k1 = min(v.shape[0], max(k0 + 1, -(-(hi - offset) // factor) + 1))
    base = offset + k0 * factor
    if base <= lo:
        return upsample_linear(v[k0:k1], factor, hi - base)[lo - base :]
    return upsample_linear(v[:k1], factor, hi - lo, offset=base - lo)
