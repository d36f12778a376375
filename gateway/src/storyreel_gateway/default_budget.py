"""The spending limit a generation request runs under, when the request itself names none.

Precedence: the request's `budget` (or `options.budget`), then the user's own default
(`PUT /api/v1/users/me/budget`, stored on the user document as `default_budget`), then the
platform's `STORYREEL_DEFAULT_BUDGET`; none of them set → no limit. All in US dollars.
The gateway resolves it once, so every service downstream sees a concrete number.
"""

from __future__ import annotations

from typing import Any

from storyreel_core.settings import Settings

USER_FIELD = "default_budget"


def effective_budget(
    requested: float | None, user: dict[str, Any], settings: Settings
) -> float | None:
    """`requested` when given, else the user's default, else the platform's (None = no limit)."""
    if requested is not None:
        return requested
    own = user.get(USER_FIELD)
    if isinstance(own, int | float) and not isinstance(own, bool):
        return float(own)
    return settings.default_budget
