"""A render's one budget, spent stage by stage (`render_job.stage_budget`)."""

from __future__ import annotations

from typing import Any

import pytest

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
