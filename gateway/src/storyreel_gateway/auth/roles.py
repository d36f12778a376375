"""Who may use the admin-only routes.

There is no role management yet: a user is an admin when its document says `role: "admin"`
(nothing sets that field today, so every user is refused). The part of issue 12 that adds
roles writes the field; routes keep asking `is_admin` / `AdminUser`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends

from storyreel_core.errors import AppError, Code
from storyreel_gateway.deps import CurrentUser

ADMIN = "admin"


def is_admin(user: dict[str, Any]) -> bool:
    """True only when the user document's `role` is exactly `"admin"`."""
    return user.get("role") == ADMIN


def require_admin(user: CurrentUser) -> dict[str, Any]:
    """The current user when an admin; AppError 403 (code 1004) for anyone else."""
    if not is_admin(user):
        raise AppError("this route is for administrators", code=Code.FORBIDDEN, field="role")
    return user


AdminUser = Annotated[dict[str, Any], Depends(require_admin)]
