"""Video sizes as clients write them: a named vertical size (`720p`) or `WxH`.

Shared by the workflow (one-click renders) and the video service (studio clips and cuts), so a
size means the same wherever it is asked for.
"""

from __future__ import annotations

import re

from storyreel_core.errors import ValidationFailed

NAMED_RESOLUTIONS: dict[str, tuple[int, int]] = {
    "360p": (360, 640),
    "480p": (480, 854),
    "540p": (540, 960),
    "720p": (720, 1280),
    "1080p": (1080, 1920),
}
_WXH = re.compile(r"^\s*(\d{2,4})\s*[xX×*]\s*(\d{2,4})\s*$")
_SIDE = r"(6[4-9]|[7-9][0-9]|[1-9][0-9]{2}|[1-3][0-9]{3}|40[0-8][0-9]|409[0-6])"
RESOLUTION_PATTERN = (
    r"^\s*((360|480|540|720|1080)[pP]|" + _SIDE + r"\s*[xX×*]\s*" + _SIDE + r")\s*$"
)
"""What `parse_resolution` accepts, as a regular expression an API schema can state (no inline
flags, so ECMA and Python engines read it alike): a named size or WxH with sides 64-4096."""


def parse_resolution(value: str, field: str) -> tuple[int, int]:
    """A named vertical size or WxH; odd sizes round down to even, as H.264 4:2:0 needs."""
    key = value.strip().lower()
    if key in NAMED_RESOLUTIONS:
        return NAMED_RESOLUTIONS[key]
    match = _WXH.match(value)
    if not match:
        raise ValidationFailed(
            f"{field} must be WxH or one of {', '.join(NAMED_RESOLUTIONS)}", field=field
        )
    width, height = int(match[1]) // 2 * 2, int(match[2]) // 2 * 2
    if not (64 <= width <= 4096 and 64 <= height <= 4096):
        raise ValidationFailed(f"{field}: sides must be 64-4096 pixels", field=field)
    return width, height
