"""A render's budget is checked before any task (its stages share it: `studio_stages.stage_budget`,
tested in test_studio_stage_requests.py)."""

from __future__ import annotations

import pytest

from storyreel_core.errors import ValidationFailed
from storyreel_core.providers.config import parse_providers
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_workflow.grpc_api import check_providers
from storyreel_workflow.render_options import RenderInput


def test_a_render_that_cannot_afford_its_voices_is_refused_before_any_task() -> None:
    """Every sentence is spoken once: the story's characters at the speech price count up
    front, so the render is refused with 400, not after its screenplay and frames."""
    registry = ProviderRegistry(
        parse_providers(
            '[[provider]]\nname = "oai"\ntype = "openai"\nbase_url = "http://h/v1"\n'
            'speech_model = "tts-1"\nprices = { per_1k_characters = 10.0 }\n',
            environ={},
        )
    )
    story = "Mara climbs the tower. " * 10  # 230 characters: $2.30 of speech
    spec = RenderInput.model_validate(
        {"story": story, "options": {"audio_provider": "oai", "budget": 2.0}}
    )
    with pytest.raises(ValidationFailed, match=r"\$2\.300000 exceeds the budget of \$2\.000000"):
        check_providers(spec, registry)
    spec.options.budget = 2.3
    check_providers(spec, registry)  # affordable: no error
    spec.options.audio_provider = "piper"  # in process: free
    spec.options.budget = 0.0
    check_providers(spec, registry)
