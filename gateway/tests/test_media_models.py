"""Seed 004 names a media model without its provider: `choose_model` finds the configured
provider that lists it, and refuses an unknown one naming every provider's models."""

from __future__ import annotations

import pytest

from storyreel_core.errors import ValidationFailed
from storyreel_core.providers.config import parse_providers
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_gateway.drafts.stages import choose_model

PROVIDERS = """\
[[provider]]
name = "studio"
type = "openai"
base_url = "http://127.0.0.1:9/v1"
image_model = ["gpt-image-1", "dall-e-3"]
video_model = "sora-2"
"""


def registry() -> ProviderRegistry:
    return ProviderRegistry(parse_providers(PROVIDERS, environ={}))


def test_a_model_alone_picks_the_provider_that_lists_it() -> None:
    choice = choose_model(registry(), "image", "", "dall-e-3")
    assert (choice.provider, choice.model) == ("studio", "dall-e-3")
    assert choose_model(registry(), "video", None, "sora-2").provider == "studio"
    assert choose_model(registry(), "image", "", "").offline  # nothing named: offline
    assert choose_model(registry(), "image", "studio", "").model == "gpt-image-1"


def test_an_unknown_model_or_provider_is_a_400_naming_the_configured_ones() -> None:
    with pytest.raises(ValidationFailed) as caught:
        choose_model(registry(), "image", "", "gemini-3-pro-image-preview-hd")
    assert caught.value.http_status == 400 and caught.value.field == "model"
    assert "studio: gpt-image-1, dall-e-3" in caught.value.message
    assert "offline: rule-based" in caught.value.message
    with pytest.raises(ValidationFailed) as caught:
        choose_model(registry(), "video", "nowhere", "")
    assert caught.value.field == "provider" and "studio" in caught.value.message
