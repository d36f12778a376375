"""Choosing the screenwriter, its estimate against a budget, and the fallback to offline.

The provider here is `OpenAIStandIn`, which stands in for a hosted vendor: it speaks OpenAI's
documented chat.completions protocol and is made to fail with HTTP 500.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openai_standin import OpenAIStandIn, Reply

from storyreel_core.errors import ValidationFailed
from storyreel_core.providers.config import parse_providers
from storyreel_core.providers.ports import ProviderUnavailable
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_script import script_writer

STORY = 'Mara kept the lighthouse. "Hold on!" Mara shouted. Tom climbed the stairs.'


@pytest.fixture
def failing() -> Iterator[OpenAIStandIn]:
    server = OpenAIStandIn(lambda body, n: Reply(status=500, error_message="down")).start()
    yield server
    server.stop()


def _registry(standin: OpenAIStandIn, fallback: str) -> ProviderRegistry:
    return ProviderRegistry(
        parse_providers(
            f"""
[[provider]]
name = "cloud"
type = "openai"
base_url = "{standin.base_url}"
text_model = "m"
max_attempts = 2
retry_backoff_s = 0.01
fallback = {fallback}
prices = {{ input_per_1m_tokens = 100, output_per_1m_tokens = 100 }}
"""
        )
    )


async def test_a_provider_listing_offline_falls_back_to_the_rule_based_screenwriter(
    failing: OpenAIStandIn,
) -> None:
    registry = _registry(failing, '["offline"]')
    choice = script_writer.choose(registry, "cloud", None)
    written = await script_writer.write(
        registry, choice, STORY, scene_count=1, style="", seed=0, language=None
    )
    assert failing.calls == 2
    assert written.generator == {
        "provider": "offline",
        "model": "rule-based",
        "fallback_from": "cloud",
    }
    assert written.screenplay.scenes and written.report()["usage"]["calls"] == 0


async def test_without_that_fallback_the_provider_error_is_the_result(
    failing: OpenAIStandIn,
) -> None:
    registry = _registry(failing, "[]")
    choice = script_writer.choose(registry, "cloud", "m")
    with pytest.raises(ProviderUnavailable):
        await script_writer.write(
            registry, choice, STORY, scene_count=1, style="", seed=0, language=None
        )


def test_the_estimate_is_checked_against_the_budget(failing: OpenAIStandIn) -> None:
    registry = _registry(failing, "[]")
    choice = script_writer.choose(registry, "cloud", None)
    estimate = script_writer.check_estimate(registry, choice, STORY, 1, budget=None)
    assert estimate > 0
    assert script_writer.check_estimate(registry, choice, STORY, 1, budget=estimate) == estimate
    with pytest.raises(ValidationFailed, match="exceeds the budget"):
        script_writer.check_estimate(registry, choice, STORY, 1, budget=estimate / 2)
    offline = script_writer.choose(registry, "", None)
    assert script_writer.check_estimate(registry, offline, STORY, 1, budget=0) == 0
    assert failing.calls == 0
