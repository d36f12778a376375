"""`UsageLedger`: every provider call of one job, its totals, and the job's budget.

A job makes one ledger, hands it to the models the registry builds for it, and puts
`ledger.summary()` into its task result (`usage`, `cost`, `provider_calls`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from storyreel_core.providers.costs import BudgetExceeded
from storyreel_core.providers.ports import Usage


@dataclass
class UsageLedger:
    """Calls in the order they finished. `budget` in US dollars; None = unlimited."""

    budget: float | None = None
    records: list[Usage] = field(default_factory=list)

    @property
    def spent(self) -> float:
        return round(sum(u.cost for u in self.records), 6)

    def add(self, usage: Usage) -> None:
        self.records.append(usage)

    def check_budget(self) -> None:
        """Raise `BudgetExceeded` once the actual spend has reached the budget."""
        if self.budget is not None and self.records and self.spent >= self.budget:
            raise BudgetExceeded(self.budget, self.spent)

    def summary(self) -> dict[str, Any]:
        """`{"usage": totals, "cost": dollars, "provider_calls": [per call]}` for a task result.

        `usage.calls` counts the calls a provider answered, `usage.cached` those the result
        cache answered instead (they cost nothing).
        """
        paid = [u for u in self.records if not u.cached]
        totals: dict[str, Any] = {
            "calls": len(paid),
            "cached": len(self.records) - len(paid),
            "input_tokens": sum(u.input_tokens for u in paid),
            "output_tokens": sum(u.output_tokens for u in paid),
            "characters": sum(u.characters for u in paid),
            "images": sum(u.images for u in paid),
            "seconds": round(sum(u.seconds for u in paid), 3),
            "latency_s": round(sum(u.latency_s for u in paid), 3),
        }
        return {
            "usage": totals,
            "cost": self.spent,
            "provider_calls": [asdict(u) for u in self.records],
        }


def merge_summaries(*summaries: dict[str, Any]) -> dict[str, Any]:
    """Totals of several `UsageLedger.summary()` results (a render sums its stages')."""
    ledger = UsageLedger()
    for summary in summaries:
        for call in summary.get("provider_calls") or []:
            ledger.add(Usage(**call))
    return ledger.summary()
