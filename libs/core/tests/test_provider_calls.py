"""The call layer and the `openai` text adapter against a loopback stand-in for OpenAI.

Every test here talks to `openai_standin.OpenAIStandIn`, which stands in for the vendor: it
speaks OpenAI's documented `POST /v1/chat/completions` protocol (answers, error bodies, the
`retry-after` header) so the error paths can be produced on demand. The real model path is
tested with llama.cpp in tests/test_llm_render_e2e.py.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openai_standin import OpenAIStandIn, Reply
from pydantic import BaseModel, Field

from storyreel_core.errors import ValidationFailed
from storyreel_core.providers.config import parse_providers
from storyreel_core.providers.costs import BudgetExceeded, check_budget, estimate_text
from storyreel_core.providers.ports import (
    ContentRefused,
    ProviderTimeout,
    ProviderUnavailable,
    TextRequest,
)
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.providers.usage import UsageLedger
from storyreel_core.stores.folder_store import FolderObjectStore


class Answer(BaseModel):
    title: str = Field(max_length=40)
    lines: list[str] = Field(max_length=4)


GOOD = json.dumps({"title": "Rain", "lines": ["It rains.", "She waits."]})
REQUEST = TextRequest(prompt="Write two lines about rain.", schema=Answer, max_output_tokens=200)


@pytest.fixture
def standin() -> Iterator[OpenAIStandIn]:
    server = OpenAIStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def backup() -> Iterator[OpenAIStandIn]:
    server = OpenAIStandIn().start()
    yield server
    server.stop()


def _registry(
    primary: OpenAIStandIn,
    tmp_path: Path | None = None,
    *,
    extra: str = "",
    backup: OpenAIStandIn | None = None,
) -> ProviderRegistry:
    text = f"""
[[provider]]
name = "primary"
type = "openai"
base_url = "{primary.base_url}"
api_key_env = "STANDIN_KEY"
text_model = ["m1"]
max_attempts = 3
retry_backoff_s = 0.05
timeout_s = 5
prices = {{ input_per_1m_tokens = 1000, output_per_1m_tokens = 2000 }}
{extra}
"""
    if backup is not None:
        text += f"""
[[provider]]
name = "backup"
type = "openai"
base_url = "{backup.base_url}"
text_model = "b1"
"""
    objects = FolderObjectStore(tmp_path / "media") if tmp_path is not None else None
    return ProviderRegistry(parse_providers(text, environ={"STANDIN_KEY": "sk-standin"}), objects)


def _model(registry: ProviderRegistry, ledger: UsageLedger | None = None) -> Any:
    choice = registry.resolve("text", "primary", None)
    return registry.text_model(choice, ledger or UsageLedger())


async def test_structured_output_sends_the_strict_schema_and_the_key(
    standin: OpenAIStandIn,
) -> None:
    standin.reply = lambda body, n: Reply(content=GOOD, prompt_tokens=30, completion_tokens=12)
    ledger = UsageLedger()
    result = await _model(_registry(standin), ledger).generate(REQUEST)
    assert result.value == Answer.model_validate_json(GOOD)
    body = standin.requests[0]
    assert body["model"] == "m1" and body["max_tokens"] == 200
    schema = body["response_format"]["json_schema"]
    assert schema["strict"] is True and schema["schema"]["additionalProperties"] is False
    summary = ledger.summary()
    assert summary["usage"]["input_tokens"] == 30 and summary["usage"]["output_tokens"] == 12
    # 30 × $1000/1M + 12 × $2000/1M
    assert summary["cost"] == pytest.approx(0.054)
    assert summary["provider_calls"][0]["provider"] == "primary"


async def test_429_waits_the_retry_after_then_succeeds(standin: OpenAIStandIn) -> None:
    def reply(body: dict[str, Any], n: int) -> Reply:
        if n == 1:
            return Reply(status=429, headers={"retry-after": "1"}, error_code="rate_limit_exceeded")
        return Reply(content=GOOD)

    standin.reply = reply
    started = time.monotonic()
    result = await _model(_registry(standin)).generate(REQUEST)
    assert result.value.title == "Rain"
    assert standin.calls == 2
    assert time.monotonic() - started >= 0.9  # the vendor's Retry-After was honoured


async def test_5xx_is_retried_then_the_fallback_answers(
    standin: OpenAIStandIn, backup: OpenAIStandIn
) -> None:
    standin.reply = lambda body, n: Reply(status=500, error_message="overloaded")
    backup.reply = lambda body, n: Reply(content=GOOD)
    ledger = UsageLedger()
    registry = _registry(standin, extra='fallback = ["backup"]', backup=backup)
    result = await _model(registry, ledger).generate(REQUEST)
    assert result.value.title == "Rain"
    assert standin.calls == 3  # max_attempts
    assert backup.calls == 1
    assert result.usage.provider == "backup" and result.usage.model == "b1"


async def test_5xx_without_fallback_fails_as_unavailable(standin: OpenAIStandIn) -> None:
    standin.reply = lambda body, n: Reply(status=503, error_message="down")
    with pytest.raises(ProviderUnavailable) as caught:
        await _model(_registry(standin)).generate(REQUEST)
    assert standin.calls == 3 and caught.value.code == 2001


async def test_a_timeout_is_retried_and_fails_with_code_2002(standin: OpenAIStandIn) -> None:
    standin.reply = lambda body, n: Reply(content=GOOD, delay_s=1.5)
    registry = _registry(standin, extra="")
    text = registry.providers["primary"].config.model_copy(
        update={"timeout_s": 0.3, "max_attempts": 2}
    )
    registry.providers["primary"] = type(registry.providers["primary"])(
        config=text, api_key=registry.providers["primary"].api_key
    )
    with pytest.raises(ProviderTimeout) as caught:
        await _model(registry).generate(REQUEST)
    assert caught.value.code == 2002 and standin.calls == 2


async def test_a_content_refusal_fails_at_once_without_fallback(
    standin: OpenAIStandIn, backup: OpenAIStandIn
) -> None:
    standin.reply = lambda body, n: Reply(
        content="", finish_reason="content_filter", refusal="violence"
    )
    registry = _registry(standin, extra='fallback = ["backup"]', backup=backup)
    with pytest.raises(ContentRefused) as caught:
        await _model(registry).generate(REQUEST)
    assert caught.value.code == 2004 and "violence" in caught.value.message
    assert standin.calls == 1 and backup.calls == 0
    # The same refusal as an HTTP 400 with the policy code.
    standin.reply = lambda body, n: Reply(
        status=400, error_code="content_policy_violation", error_message="blocked by policy"
    )
    with pytest.raises(ContentRefused, match="blocked by policy"):
        await _model(registry).generate(REQUEST)
    assert standin.calls == 2


async def test_a_server_without_json_schema_gets_the_schema_in_the_prompt_and_one_repair(
    standin: OpenAIStandIn,
) -> None:
    def reply(body: dict[str, Any], n: int) -> Reply:
        if "response_format" in body:
            return Reply(status=400, error_message="response_format json_schema is not supported")
        if n == 2:
            return Reply(content='Sure! ```{"title": "Rain"}```')  # `lines` missing
        return Reply(content=GOOD)

    standin.reply = reply
    model = _model(_registry(standin))
    result = await model.generate(REQUEST)
    assert result.value.lines == ["It rains.", "She waits."]
    assert standin.calls == 3
    prompt_mode = standin.requests[1]["messages"]
    assert "JSON Schema" in prompt_mode[0]["content"]
    repair = standin.requests[2]["messages"]
    assert repair[-2]["role"] == "assistant" and "lines" in repair[-1]["content"]
    # The adapter remembers: the next call goes straight to the prompt mode.
    await model.generate(REQUEST)
    assert "response_format" not in standin.requests[3]


async def test_slow_answers_never_exceed_the_concurrency_limit(standin: OpenAIStandIn) -> None:
    standin.reply = lambda body, n: Reply(content=GOOD, delay_s=0.2)
    registry = _registry(standin, extra="max_concurrency = 2")
    model = _model(registry)
    requests = [TextRequest(prompt=f"line {i}", schema=Answer) for i in range(6)]
    await asyncio.gather(*(model.generate(r) for r in requests))
    assert standin.calls == 6
    assert standin.peak_in_flight == 2


async def test_a_second_identical_call_is_answered_by_the_cache(
    standin: OpenAIStandIn, tmp_path: Path
) -> None:
    standin.reply = lambda body, n: Reply(content=GOOD)
    ledger = UsageLedger()
    registry = _registry(standin, tmp_path)
    first = await _model(registry, ledger).generate(REQUEST)
    again = await _model(_registry(standin, tmp_path), ledger).generate(REQUEST)
    assert standin.calls == 1
    assert again.value == first.value and again.usage.cached
    summary = ledger.summary()
    assert summary["usage"]["calls"] == 1 and summary["usage"]["cached"] == 1
    assert summary["cost"] == first.usage.cost
    # Any parameter that changes the answer changes the key.
    other = TextRequest(prompt=REQUEST.prompt, schema=Answer, max_output_tokens=200, seed=7)
    await _model(registry, ledger).generate(other)
    assert standin.calls == 2


async def test_budget_refused_before_any_call_and_stops_a_job_once_spent(
    standin: OpenAIStandIn,
) -> None:
    standin.reply = lambda body, n: Reply(content=GOOD, prompt_tokens=100, completion_tokens=50)
    registry = _registry(standin)
    prices = registry.providers["primary"].config.prices
    estimate = estimate_text(prices, REQUEST.prompt, REQUEST.max_output_tokens)
    with pytest.raises(ValidationFailed) as caught:
        check_budget(estimate / 2, estimate, field="options.budget")
    assert caught.value.http_status == 400 and "exceeds the budget" in caught.value.message
    assert standin.calls == 0
    ledger = UsageLedger(budget=0.1)  # the first call costs 0.2
    model = _model(registry, ledger)
    await model.generate(REQUEST)
    with pytest.raises(BudgetExceeded) as spent:
        await model.generate(TextRequest(prompt="more", schema=Answer))
    assert standin.calls == 1 and "budget of $0.1000 reached" in spent.value.message
