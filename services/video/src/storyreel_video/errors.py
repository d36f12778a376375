"""Errors raised by the video domain.

Rendering failures carry the tail of ffmpeg's stderr, because that tail is the only useful
diagnosis of why an encode broke (a bad input, a missing filter, a full disk).
"""

from __future__ import annotations

from storyreel_core.errors import AppError


class RenderFailed(AppError):
    """ffmpeg (or the frame generator feeding it) failed; `stderr_tail` says why."""

    def __init__(self, message: str, *, stderr_tail: str = "", returncode: int | None = None):
        detail = (
            f"{message}\n--- ffmpeg stderr (tail) ---\n{stderr_tail}" if stderr_tail else message
        )
        super().__init__(detail, reason=message)
        self.stderr_tail = stderr_tail
        self.returncode = returncode
