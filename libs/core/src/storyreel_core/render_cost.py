"""What a render may cost: pixels × frames per second × seconds, against a configured limit.

Encoding time grows with the pixels encoded, so a request's cost is its frame size times its
frame rate times its length (`pixel-frames`). One 4-second shot at 4096×4096 and 60 fps is
4.0e9 pixel-frames and took 232 s of two cores; the default limit
(`Settings.max_render_pixel_frames`) is three minutes of 1080×1920 at 30 fps, 1.1e10.
Checked by the service that starts the render, before its task exists.
"""

from __future__ import annotations

from storyreel_core.errors import ValidationFailed

DEFAULT_MAX_PIXEL_FRAMES = 1080 * 1920 * 30 * 180
ESTIMATED_SHOT_SECONDS = 5.0
"""A shot's length before its speech exists (seed 000's default clip duration)."""


def pixel_frames(width: int, height: int, fps: float, seconds: float) -> float:
    return float(width) * height * fps * seconds


def check_render_cost(
    width: int, height: int, fps: float, seconds: float, limit: int, *, field: str = "resolution"
) -> None:
    """Raise ValidationFailed (400, code 1001) naming the limit when the render costs more
    than `limit` pixel-frames; `limit` 0 means no limit."""
    cost = pixel_frames(width, height, fps, seconds)
    if limit > 0 and cost > limit:
        raise ValidationFailed(
            f"render too large: {width}x{height} at {fps:g} fps for {seconds:g} s is "
            f"{cost:.3g} pixel-frames, over the limit of {limit:.3g} "
            "(STORYREEL_MAX_RENDER_PIXEL_FRAMES); lower the resolution, the frame rate or "
            "the number of shots",
            field=field,
        )
