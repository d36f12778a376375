"""What the render hands each stage: a persona's prompt reaches the screenplay stage."""

from __future__ import annotations

from storyreel_workflow.render_job import stage_input
from storyreel_workflow.render_options import RenderInput


def test_the_persona_prompt_goes_to_the_screenplay_stage_only() -> None:
    spec = RenderInput.model_validate(
        {"story": "Mara lit the lamp.", "options": {"persona_prompt": "Tone: wry"}}
    )
    assert stage_input("script", spec, {})["persona_prompt"] == "Tone: wry"
    plain = RenderInput.model_validate({"story": "Mara lit the lamp."})
    assert stage_input("script", plain, {})["persona_prompt"] == ""
