"""Per-API-user quotas (requests per day and per month) on the `limits` library.

Each API user may have `quota_per_day` and `quota_per_month`; every request its key makes is
a hit on a fixed window of each (`limits.RateLimitItemPerDay` / `PerMonth`, the month being
`limits`' 30 days). The counters live in the document store through `DocumentLimitStorage`,
the storage login throttling uses, so every gateway replica shares them (MongoDB; SQLite in
embedded mode). A window starts with its first hit, and changing a quota starts a new one
(`limits` keys a counter by its amount).

A request past a window is refused before it is counted: 429, code 1005, `Retry-After` the
seconds until that window ends, and the error names the quota:
`error.quota = {period, limit, used, reset_at}`.
"""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime
from typing import Any, Literal

from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerMonth
from limits.aio.strategies import FixedWindowRateLimiter

from storyreel_core.errors import AppError, Code
from storyreel_core.stores.document_store import DocumentStore
from storyreel_core.stores.limit_storage import DocumentLimitStorage

Period = Literal["day", "month"]
NAMESPACE = "api-quota"


class QuotaExceeded(AppError):
    """429 (1005): `retry_after_s` for `Retry-After`, `extra` merged into the error object."""

    code = Code.RATE_LIMITED

    def __init__(self, quota: dict[str, Any], retry_after_s: int) -> None:
        message = (
            f"API quota exceeded: {quota['limit']} requests per {quota['period']}; "
            f"try again in {retry_after_s} s"
        )
        super().__init__(message, field="X-API-Key")
        self.retry_after_s = retry_after_s
        self.extra = {"quota": quota}


def _iso(unix_s: float) -> str:
    return datetime.fromtimestamp(unix_s, UTC).isoformat().replace("+00:00", "Z")


class ApiQuota:
    def __init__(self, docs: DocumentStore) -> None:
        self.limiter = FixedWindowRateLimiter(DocumentLimitStorage(docs))

    @staticmethod
    def windows(api_user: dict[str, Any]) -> list[tuple[Period, RateLimitItem]]:
        """The API user's quota windows; none when it has no quota."""
        out: list[tuple[Period, RateLimitItem]] = []
        if api_user.get("quota_per_day"):
            out.append(("day", RateLimitItemPerDay(int(api_user["quota_per_day"]))))
        if api_user.get("quota_per_month"):
            out.append(("month", RateLimitItemPerMonth(int(api_user["quota_per_month"]))))
        return out

    async def _describe(
        self, api_user_id: str, period: Period, item: RateLimitItem
    ) -> tuple[dict[str, Any], float]:
        """The window as the API shows it, and when it ends (unix seconds)."""
        stats = await self.limiter.get_window_stats(item, NAMESPACE, api_user_id)
        view = {
            "period": period,
            "limit": item.amount,
            "used": item.amount - stats.remaining,
            "remaining": stats.remaining,
            "reset_at": _iso(stats.reset_time),
        }
        return view, stats.reset_time

    async def charge(self, api_user: dict[str, Any]) -> None:
        """Count one request against every window; QuotaExceeded when one is spent (then
        nothing is counted, so waiting `Retry-After` is enough)."""
        windows = self.windows(api_user)
        user_id = api_user["_id"]
        spent = [w for w in windows if not await self.limiter.test(w[1], NAMESPACE, user_id)]
        if not spent:
            # Requests racing past the test above are caught here: their hit overflows.
            spent = [w for w in windows if not await self.limiter.hit(w[1], NAMESPACE, user_id)]
        if not spent:
            return
        # The window that ends last decides when a retry can succeed.
        described = [await self._describe(user_id, period, item) for period, item in spent]
        quota, reset = max(described, key=lambda d: d[1])
        raise QuotaExceeded(quota, max(1, math.ceil(reset - time.time())))

    async def state(self, api_user: dict[str, Any]) -> dict[str, dict[str, Any] | None]:
        """`{day, month}`: each `{period, limit, used, remaining, reset_at}` or None (no quota)."""
        out: dict[str, dict[str, Any] | None] = {"day": None, "month": None}
        for period, item in self.windows(api_user):
            out[period] = (await self._describe(api_user["_id"], period, item))[0]
        return out
