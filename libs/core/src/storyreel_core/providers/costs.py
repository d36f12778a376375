"""What a call costs (from its `Usage`) and what it may cost (before it is made).

Prices are the provider's, in US dollars, from the providers file (`config.Prices`). The
estimate is deliberately an upper bound for text — the whole `max_output_tokens` — so that a
budget refused up front is never exceeded by the answer's length.
"""

from __future__ import annotations

import math
import unicodedata

from storyreel_core.errors import AppError, Code, ValidationFailed
from storyreel_core.providers.config import Prices
from storyreel_core.providers.ports import Usage


def approx_tokens(text: str) -> int:
    """A tokenizer-free token count: one per CJK character, one per four other characters.

    BPE vocabularies (tiktoken's cl100k/o200k, Qwen's, Llama's) average about four characters
    of English per token and one to one and a half tokens per Han character; counting a Han
    character as one token keeps the estimate on the low side only for rare characters.
    """
    wide = sum(1 for ch in text if unicodedata.east_asian_width(ch) in ("W", "F"))
    return wide + math.ceil((len(text) - wide) / 4)


def cost_of(prices: Prices, usage: Usage) -> float:
    """US dollars for `usage` at `prices`, rounded to a millionth of a dollar."""
    total = (
        usage.input_tokens * prices.input_per_1m_tokens / 1_000_000
        + usage.output_tokens * prices.output_per_1m_tokens / 1_000_000
        + usage.characters * prices.per_1k_characters / 1000
        + usage.images * prices.per_image
        + usage.seconds * prices.per_second
    )
    return round(total, 6)


def estimate_text(prices: Prices, prompt: str, max_output_tokens: int) -> float:
    """Upper-bound dollars of one structured-text call: the prompt plus the whole answer budget."""
    return round(
        approx_tokens(prompt) * prices.input_per_1m_tokens / 1_000_000
        + max_output_tokens * prices.output_per_1m_tokens / 1_000_000,
        6,
    )


def estimate_speech(prices: Prices, characters: int, seconds: float = 0.0) -> float:
    """Dollars of speaking `characters` characters (and `seconds` where billed by time)."""
    return round(characters * prices.per_1k_characters / 1000 + seconds * prices.per_second, 6)


def estimate_images(prices: Prices, images: int) -> float:
    """Dollars of `images` generated images at the provider's per-image price."""
    return round(images * prices.per_image, 6)


class BudgetExceeded(AppError):
    """A job's actual spend reached its `options.budget`; the job stops before the next call."""

    code = Code.AI_QUOTA

    def __init__(self, budget: float, spent: float) -> None:
        super().__init__(
            f"budget of ${budget:.4f} reached: ${spent:.4f} spent on provider calls",
            field="budget",
            permanent=True,
        )
        self.budget = budget
        self.spent = spent


def check_budget(budget: float | None, estimate: float, field: str = "budget") -> None:
    """Refuse a request whose estimate exceeds its budget (400, 1001), before any call."""
    if budget is not None and estimate > budget:
        raise ValidationFailed(
            f"estimated cost ${estimate:.6f} exceeds the budget of ${budget:.6f}", field=field
        )


_SENTENCE_END = frozenset("。！？!?.…\n")
_QUOTE_OPEN = frozenset('“「『"')
SCREENPLAY_PROMPT_CHARS = 1200  # the screenwriter's instructions around the numbered story


def estimate_screenplay(prices: Prices, story: str, scene_count: int | None) -> float:
    """Upper-bound dollars of the LLM screenwriter's one call for `story`, before it is made.

    It counts what the screenwriter's bounded answer can hold without splitting sentences the
    way the script service does: sentence ends and quote marks are upper bounds of its
    sentences and quoted lines (the answer budget of `storyreel_script.llm_screenwriter`:
    40 + 35 per character (≤ 8) + 30 per scene + 18 per quoted line tokens).
    """
    sentences = max(1, sum(1 for ch in story if ch in _SENTENCE_END))
    quotes = sum(1 for ch in story if ch in _QUOTE_OPEN)
    scenes = min(scene_count or 30, sentences)
    output = 40 + min(8, sentences + 1) * 35 + scenes * 30 + quotes * 18
    prompt_tokens = (
        approx_tokens(story) + sentences * 2 + approx_tokens("x" * SCREENPLAY_PROMPT_CHARS)
    )
    return round(
        prompt_tokens * prices.input_per_1m_tokens / 1_000_000
        + output * prices.output_per_1m_tokens / 1_000_000,
        6,
    )
