"""The `openai` text adapter: structured generation on any OpenAI-compatible server.

One `AsyncOpenAI` client per provider (`base_url`, the key from the registry, the provider's
timeout, `max_retries=0` because the call layer retries), so it serves OpenAI, DeepSeek, Qwen,
Gemini's OpenAI endpoint, Doubao/Ark, vLLM, llama.cpp and Ollama alike.

Structured output follows OpenAI's documented `response_format`
`{"type": "json_schema", "json_schema": {"name", "schema", "strict": true}}` with the schema the
SDK itself derives from the Pydantic model (`to_strict_json_schema`, as `chat.completions.parse`
does). A server that rejects `json_schema` (400/422 naming it) is remembered and asked with the
schema in the system prompt instead; an answer that does not validate gets one repair turn
that quotes the validation errors. The SDK's typed errors become the `ProviderError` family in
`map_openai_error`, the one place that knows them.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import openai
from openai.lib._pydantic import to_strict_json_schema  # what chat.completions.parse uses
from pydantic import BaseModel, ValidationError

from storyreel_core.logging import get_logger
from storyreel_core.providers.config import Provider
from storyreel_core.providers.http_errors import retry_after_seconds
from storyreel_core.providers.ports import (
    ContentRefused,
    ProviderError,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    SchemaT,
    TextRequest,
    TextResult,
    Usage,
)

log = get_logger("storyreel.providers")

# Error codes vendors use for a content-policy refusal (OpenAI, Azure OpenAI, DeepSeek/Qwen).
_REFUSAL_CODES = {"content_filter", "content_policy_violation", "data_inspection_failed"}
_SCHEMA_REJECTED = re.compile(r"response_format|json_schema|structured", re.IGNORECASE)


def map_openai_error(exc: openai.OpenAIError, provider: str) -> ProviderError:
    """The SDK's typed errors as the `ProviderError` family (the only place that knows them).

    A content-policy refusal is `ContentRefused`, business code 2004 (AI_FILTERED). Issue 9
    says 2002 for it, but seed 000's table defines 2002 as the AI timeout and 2004 as the
    content filter, and the codes follow the seed.
    """
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return ContentRefused(f"{provider}: refused by the content filter", provider=provider)
    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeout(f"{provider}: request timed out", provider=provider)
    if isinstance(exc, openai.APIConnectionError):
        return ProviderUnavailable(f"{provider}: connection failed: {exc}", provider=provider)
    if isinstance(exc, openai.APIStatusError):
        message = f"{provider}: HTTP {exc.status_code}: {exc.message}"[:500]
        if isinstance(exc, openai.RateLimitError) or exc.status_code == 429:
            wait = retry_after_seconds(exc.response.headers)
            return ProviderRateLimited(message, provider=provider, retry_after_s=wait)
        if exc.code in _REFUSAL_CODES:
            return ContentRefused(message, provider=provider)
        if exc.status_code >= 500 or exc.status_code == 408:
            wait = retry_after_seconds(exc.response.headers)
            return ProviderUnavailable(message, provider=provider, retry_after_s=wait)
        return ProviderError(message, provider=provider)
    return ProviderError(f"{provider}: {exc}"[:500], provider=provider)


class _SchemaRejected(ProviderError):
    """The server refused `response_format` json_schema: ask with the schema in the prompt."""


def _json_text(text: str) -> str:
    """The JSON object in an answer that may wrap it in prose or a ``` fence."""
    start, end = text.find("{"), text.rfind("}")
    return text[start : end + 1] if 0 <= start < end else text


def _schema_prompt(schema: type[BaseModel]) -> str:
    return (
        "Answer with one JSON object and nothing else (no prose, no code fence). It must"
        " validate against this JSON Schema:\n"
        + json.dumps(schema.model_json_schema(), ensure_ascii=False, separators=(",", ":"))
    )


class OpenAITextModel:
    """`TextModel` over `chat.completions` of an OpenAI-compatible server."""

    def __init__(self, provider: str, model: str, client: openai.AsyncOpenAI) -> None:
        self.provider = provider
        self.model = model
        self.client = client
        self.structured = True  # False once the server rejected response_format json_schema

    @classmethod
    def from_provider(cls, provider: Provider, model: str) -> OpenAITextModel:
        config = provider.config
        client = openai.AsyncOpenAI(
            base_url=config.base_url,
            # A local server (llama.cpp, vLLM, Ollama) needs no key, but the SDK wants one.
            api_key=provider.api_key.get_secret_value() if provider.api_key else "unused",
            timeout=config.timeout_s,
            max_retries=0,  # the call layer retries, honouring Retry-After
        )
        return cls(config.name, model, client)

    async def generate(self, request: TextRequest[SchemaT]) -> TextResult[SchemaT]:
        started = time.perf_counter()
        tokens = [0, 0]
        messages: list[dict[str, str]] = []
        if self.structured:
            messages = self._messages(request, with_schema=False)
            try:
                answer = await self._complete(request, messages, tokens, structured=True)
            except _SchemaRejected:
                log.warning("provider.openai.no_json_schema", provider=self.provider)
                self.structured = False
        if not self.structured:
            messages = self._messages(request, with_schema=True)
            answer = await self._complete(request, messages, tokens, structured=False)
        try:
            value = request.schema.model_validate_json(_json_text(answer))
        except ValidationError as exc:
            # One repair turn: the model sees its answer and what is wrong with it.
            log.info("provider.openai.repair", provider=self.provider, model=self.model)
            messages = [
                *messages,
                {"role": "assistant", "content": answer},
                {
                    "role": "user",
                    "content": "That answer does not validate: "
                    + "; ".join(
                        f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                        for e in exc.errors()[:20]
                    )
                    + ". Reply with the corrected JSON object only.",
                },
            ]
            answer = await self._complete(request, messages, tokens, structured=self.structured)
            try:
                value = request.schema.model_validate_json(_json_text(answer))
            except ValidationError as again:
                raise ProviderError(
                    f"{self.provider}: the answer does not match the schema after a repair"
                    f" turn: {again.errors()[0]['msg']}",
                    provider=self.provider,
                ) from None
        usage = Usage(
            provider=self.provider,
            model=self.model,
            modality="text",
            latency_s=round(time.perf_counter() - started, 4),
            input_tokens=tokens[0],
            output_tokens=tokens[1],
        )
        return TextResult(value=value, usage=usage)

    def _messages(
        self, request: TextRequest[SchemaT], *, with_schema: bool
    ) -> list[dict[str, str]]:
        system = request.system
        if with_schema:
            system = (system + "\n\n" if system else "") + _schema_prompt(request.schema)
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": request.prompt})
        return messages

    async def _complete(
        self,
        request: TextRequest[SchemaT],
        messages: list[dict[str, str]],
        tokens: list[int],
        *,
        structured: bool,
    ) -> str:
        """One chat completion; the answer's text. Adds its token usage to `tokens`."""
        extra: dict[str, Any] = {}
        if structured:
            extra["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": request.schema.__name__,
                    "schema": to_strict_json_schema(request.schema),
                    "strict": True,
                },
            }
        if request.seed is not None:
            extra["seed"] = request.seed
        try:
            completion = await self.client.chat.completions.create(
                model=self.model,
                messages=messages,  # type: ignore[arg-type]
                temperature=request.temperature,
                # max_tokens, not max_completion_tokens: every compatible server reads it.
                max_tokens=request.max_output_tokens,
                **extra,
            )
        except openai.OpenAIError as exc:
            if (
                structured
                and isinstance(exc, openai.BadRequestError | openai.UnprocessableEntityError)
                and _SCHEMA_REJECTED.search(str(exc.message))
            ):
                raise _SchemaRejected(str(exc.message)[:300], provider=self.provider) from None
            raise map_openai_error(exc, self.provider) from None
        if completion.usage is not None:
            tokens[0] += completion.usage.prompt_tokens
            tokens[1] += completion.usage.completion_tokens
        if not completion.choices:
            raise ProviderUnavailable(
                f"{self.provider}: an answer with no choices", provider=self.provider
            )
        choice = completion.choices[0]
        refusal = getattr(choice.message, "refusal", None)
        if choice.finish_reason == "content_filter" or refusal:
            reason = refusal or "refused by the content filter"
            raise ContentRefused(f"{self.provider}: {reason}"[:500], provider=self.provider)
        if choice.finish_reason == "length":
            raise ProviderError(
                f"{self.provider}: the answer was cut at max_tokens={request.max_output_tokens}",
                provider=self.provider,
            )
        return choice.message.content or ""
