"""A render's one budget, spent stage by stage (`render_job.stage_budget`)."""

from __future__ import annotations

from typing import Any

import pytest

from storyreel_core.errors import ValidationFailed
from storyreel_core.providers.config import parse_providers
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_workflow.grpc_api import check_providers
from storyreel_workflow.render_job import stage_budget
from storyreel_workflow.render_options import RenderInput


def spent(cost: float) -> dict[str, Any]:
    """A stage result that made one provider call costing `cost` dollars."""
    call = {"provider": "p", "model": "m", "modality": "text", "latency_s": 0.1, "cost": cost}
    return {"provider_calls": [call]}


def render(**options: Any) -> RenderInput:
    return RenderInput.model_validate({"story": "A story.", "options": options})


def test_no_budget_means_no_limit_for_any_stage() -> None:
    spec = render()
    assert {s: stage_budget(s, spec, {}) for s in ("script", "frames", "speech")} == dict.fromkeys(
        ("script", "frames", "speech")
    )


def test_later_stages_get_what_the_earlier_ones_left() -> None:
    spec = render(budget=1.0, ai_provider="standin")
    assert stage_budget("script", spec, {}) == 1.0
    done = {"script": spent(0.25), "storyboard": {}}
    # Offline frames and speech: the one paid stage (none here) would get it all.
    assert stage_budget("frames", spec, done) == 0.75
    assert stage_budget("speech", spec, done) == 0.75
    assert stage_budget("final_cut", spec, {**done, "frames": spent(0.5)}) == 0.25


def test_paid_frames_and_speech_side_by_side_split_the_rest() -> None:
    spec = render(budget=1.0, image_provider="comfy", audio_provider="oai")
    done = {"script": spent(0.2), "storyboard": {}}
    assert stage_budget("frames", spec, done) == pytest.approx(0.4)
    assert stage_budget("speech", spec, done) == pytest.approx(0.4)
    # Only the frames are paid (Piper speaks in process): they may use all that is left.
    spec = render(budget=1.0, image_provider="comfy", audio_provider="piper")
    assert stage_budget("frames", spec, done) == pytest.approx(0.8)


def test_an_overspent_render_leaves_zero_not_a_negative_budget() -> None:
    spec = render(budget=0.1)
    assert stage_budget("frames", spec, {"script": spent(0.3)}) == 0.0


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
