"""Login throttling per account and per client address, on the `limits` library.

Every login attempt is a hit on two sets of fixed windows (`limits` strings, configurable):

- the account it names (its folded username or email, whether or not it exists, so the answer
  tells nothing about who has an account): `STORYREEL_LOGIN_LIMIT_ACCOUNT`, default
  `5/minute;30/hour`. A successful login clears the account's windows;
- the client address (the peer address uvicorn reports; behind a proxy, run uvicorn with
  `--forwarded-allow-ips` so it is the client's): `STORYREEL_LOGIN_LIMIT_ADDRESS`, default
  `20/minute;200/hour`, which also bounds guessing across many accounts.

An attempt past any window is refused before the password is looked at: 429, code 1005, with
`Retry-After` (seconds until the exhausted window ends). With the defaults, fifty wrong
passwords in a row for one account take more than an hour, not the seconds they take
unthrottled.

The counters live in the document store (`storyreel_core.stores.limit_storage`): every gateway
replica of a deployment shares them through MongoDB; in embedded mode they are in SQLite.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.strategies import FixedWindowRateLimiter

from storyreel_core.errors import AppError, Code
from storyreel_core.stores.document_store import DocumentStore
from storyreel_core.stores.limit_storage import DocumentLimitStorage


class TooManyAttempts(AppError):
    """429 (1005) with the seconds after which a retry can succeed (`Retry-After`)."""

    code = Code.RATE_LIMITED

    def __init__(self, retry_after_s: int) -> None:
        message = f"too many login attempts; try again in {retry_after_s} s"
        super().__init__(message, field="username")
        self.retry_after_s = retry_after_s


def parse_limits(value: str, setting: str) -> list[RateLimitItem]:
    """`"5/minute;30/hour"` → limit items; ValueError naming the setting when malformed."""
    try:
        return list(parse_many(value))
    except ValueError as exc:
        raise ValueError(f"{setting}: {exc}") from exc


class LoginThrottle:
    def __init__(
        self,
        docs: DocumentStore,
        account_limits: str = "5/minute;30/hour",
        address_limits: str = "20/minute;200/hour",
    ) -> None:
        self.limiter = FixedWindowRateLimiter(DocumentLimitStorage(docs))
        self.account_limits = parse_limits(account_limits, "STORYREEL_LOGIN_LIMIT_ACCOUNT")
        self.address_limits = parse_limits(address_limits, "STORYREEL_LOGIN_LIMIT_ADDRESS")

    def _windows(self, account: str, address: str) -> list[tuple[RateLimitItem, str, str]]:
        return [(item, "login-account", account) for item in self.account_limits] + [
            (item, "login-address", address) for item in self.address_limits
        ]

    async def attempt(self, account: str, address: str) -> None:
        """Count one attempt; TooManyAttempts when a window is already spent.

        `account`: the folded login name (`identity_key`); `address`: the client's IP. A refused
        attempt is not counted, so `Retry-After` stays true: waiting that long is enough."""
        windows = self._windows(account, address)
        spent = [w for w in windows if not await self.limiter.test(*w)]
        if not spent:
            # Attempts racing past the test above are caught here: their hit overflows.
            spent = [w for w in windows if not await self.limiter.hit(*w)]
        if spent:
            resets = [(await self.limiter.get_window_stats(*w)).reset_time for w in spent]
            raise TooManyAttempts(max(1, math.ceil(max(resets) - time.time())))

    async def succeeded(self, account: str) -> None:
        """The account's password was right: its windows start again."""
        for item in self.account_limits:
            await self.limiter.clear(item, "login-account", account)
