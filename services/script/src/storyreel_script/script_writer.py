"""Which screenwriter writes a screenplay: the offline rules, or a configured text model.

`choose` checks a request's `ai_provider` and `model` against the providers file before any
task exists (400 naming the configured ones), and `check_estimate` refuses one whose
estimated cost exceeds its `budget`. `write` runs the chosen screenwriter inside a job with a
`UsageLedger` for its provider calls and reports who wrote it (`generator`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from storyreel_core.drama_models import Language, Screenplay
from storyreel_core.logging import get_logger
from storyreel_core.providers.costs import BudgetExceeded, check_budget, estimate_screenplay
from storyreel_core.providers.ports import ContentRefused, ProviderError
from storyreel_core.providers.registry import ModelChoice, ProviderRegistry
from storyreel_core.providers.usage import UsageLedger
from storyreel_script.llm_screenwriter import ScreenplayRefused, write_screenplay_llm
from storyreel_script.screenwriter import write_screenplay

log = get_logger("storyreel.script")


def choose(registry: ProviderRegistry, ai_provider: str | None, model: str | None) -> ModelChoice:
    """The text provider and model a request names (empty → offline); 400 when unknown."""
    return registry.resolve("text", ai_provider, model, field="ai_provider", model_field="model")


def check_estimate(
    registry: ProviderRegistry,
    choice: ModelChoice,
    story: str,
    scene_count: int | None,
    budget: float | None,
    field: str = "budget",
) -> float:
    """The estimated dollars of writing `story` with `choice`; 400 when above `budget`."""
    if choice.offline:
        return 0.0
    prices = registry.providers[choice.provider].config.prices
    estimate = estimate_screenplay(prices, story, scene_count)
    check_budget(budget, estimate, field=field)
    return estimate


@dataclass
class Written:
    screenplay: Screenplay
    generator: dict[str, str]
    ledger: UsageLedger = field(default_factory=UsageLedger)

    def report(self) -> dict[str, Any]:
        """`generator`, `usage`, `cost` and `provider_calls` for a task result."""
        return {"generator": self.generator, **self.ledger.summary()}


async def write(
    registry: ProviderRegistry,
    choice: ModelChoice,
    story: str,
    *,
    scene_count: int | None,
    style: str,
    seed: int,
    language: Language | None,
    budget: float | None = None,
    persona_prompt: str = "",
) -> Written:
    """Write the screenplay with `choice`'s screenwriter; provider errors propagate.

    `persona_prompt` (`storyreel_core.persona_text.persona_prompt`) goes into the LLM
    screenwriter's prompts; the offline screenwriter gets the persona through `style`."""
    ledger = UsageLedger(budget=budget)
    if choice.offline:
        # jieba and the rules are CPU work: keep them off the event loop.
        screenplay = await asyncio.to_thread(
            write_screenplay,
            story,
            scene_count=scene_count,
            style=style,
            seed=seed,
            language=language,
        )
        return Written(screenplay, {"provider": "offline", "model": "rule-based"}, ledger)
    model = registry.text_model(choice, ledger)
    try:
        screenplay = await write_screenplay_llm(
            model,
            story,
            scene_count=scene_count,
            style=style,
            seed=seed,
            language=language,
            persona_prompt=persona_prompt,
        )
    except (ProviderError, ScreenplayRefused) as exc:
        # A refusal and a spent budget are the caller's to see; any other failure falls back
        # to the rule-based screenwriter when the provider lists `offline` as a fallback.
        if isinstance(exc, ContentRefused | BudgetExceeded) or not registry.falls_back_offline(
            choice.provider
        ):
            raise
        log.warning("script.screenplay.fallback_offline", provider=choice.provider, error=str(exc))
        offline = await write(
            registry,
            registry.resolve("text", "offline"),
            story,
            scene_count=scene_count,
            style=style,
            seed=seed,
            language=language,
        )
        offline.ledger = ledger
        offline.generator = {**offline.generator, "fallback_from": choice.provider}
        return offline
    log.info(
        "script.screenplay.written",
        provider=choice.provider,
        model=choice.model,
        scenes=len(screenplay.scenes),
        characters=len(screenplay.characters),
        cost=ledger.spent,
    )
    return Written(screenplay, choice.as_dict(), ledger)
