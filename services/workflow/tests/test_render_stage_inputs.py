"""What the render hands each stage: a persona's prompt reaches the screenplay stage."""

from __future__ import annotations

import pytest

from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import stages_pb2
from storyreel_workflow.grpc_api import parse_render
from storyreel_workflow.render_job import stage_input
from storyreel_workflow.render_options import RenderInput


def test_the_persona_prompt_goes_to_the_screenplay_stage_only() -> None:
    spec = RenderInput.model_validate(
        {"story": "Mara lit the lamp.", "options": {"persona_prompt": "Tone: wry"}}
    )
    assert stage_input("script", spec, {})["persona_prompt"] == "Tone: wry"
    plain = RenderInput.model_validate({"story": "Mara lit the lamp."})
    assert stage_input("script", plain, {})["persona_prompt"] == ""


def test_a_typed_render_request_is_held_to_the_same_bounds() -> None:
    """The wire type holds any int32; the workflow reads it into the models' bounds."""
    request = stages_pb2.RenderRequest(
        story="Mara lit the lamp.", options=stages_pb2.RenderOptions(scene_count=31)
    )
    with pytest.raises(ValidationFailed) as err:
        parse_render(request)
    assert err.value.field == "options.scene_count"
    request.options.scene_count = 30
    request.options.music = False
    spec = parse_render(request)
    assert spec.options.scene_count == 30 and spec.options.music is False
    assert spec.options.speed == 1.0 and spec.options.video.fps == 24  # unset: the defaults
