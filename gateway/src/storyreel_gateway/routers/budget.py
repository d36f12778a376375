"""`/users/me/budget`: the caller's default spending limit for provider calls."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from storyreel_gateway.default_budget import USER_FIELD, effective_budget
from storyreel_gateway.deps import CurrentUser, State
from storyreel_gateway.envelope import ERROR_RESPONSES, Envelope, ok
from storyreel_gateway.json_body import CheckedRoute

router = APIRouter(route_class=CheckedRoute, tags=["auth"], responses=ERROR_RESPONSES)


class BudgetBody(BaseModel):
    default_budget: float | None = Field(
        le=1_000_000,
        ge=0,
        description="US dollars a request's provider calls may cost when the request names no"
        " `budget`; null removes it (the platform's default applies)",
        examples=[2.5],
    )


class BudgetOut(BaseModel):
    default_budget: float | None = Field(description="the caller's own default; null = none")
    platform_default: float | None = Field(description="STORYREEL_DEFAULT_BUDGET; null = none")
    effective: float | None = Field(
        description="what a request without `budget` runs under; null = no limit"
    )


def budget_view(user: dict[str, Any], state: Any) -> dict[str, Any]:
    own = user.get(USER_FIELD)
    return {
        "default_budget": own,
        "platform_default": state.settings.default_budget,
        "effective": effective_budget(None, user, state.settings),
    }


@router.get("/users/me/budget", response_model=Envelope[BudgetOut])
async def get_budget(state: State, user: CurrentUser) -> dict[str, Any]:
    """The caller's default budget, the platform's, and which one applies."""
    return ok(budget_view(user, state))


@router.put("/users/me/budget", response_model=Envelope[BudgetOut])
async def put_budget(body: BudgetBody, state: State, user: CurrentUser) -> dict[str, Any]:
    """Set (or, with null, remove) the caller's default budget for provider calls."""
    updated = await state.users.set_default_budget(user["_id"], body.default_budget)
    return ok(budget_view(updated, state))
