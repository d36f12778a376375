"""Who may use the admin-only routes.

A user is an admin when its document says `role: "admin"`. The first admin is created from
configuration (`admin_seed`, `STORYREEL_ADMIN_USERNAME`); registration always makes `user`, and
an API user (`X-API-Key`) acts with `role: "api_user"`, so both are refused (403, code 1004).
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
