"""What a render request becomes: the workflow's preferences, held to the models' bounds."""

from __future__ import annotations

import pytest

from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import stages_pb2
from storyreel_workflow.grpc_api import parse_render
from storyreel_workflow.render_workflow import workflow_fields


def test_the_persona_goes_to_the_script_stage() -> None:
    """The gateway checked the persona is the caller's; the workflow's script stage gets its
    id and the script service builds its prompt in the story's language."""
    request = stages_pb2.RenderRequest(
        story="Mara lit the lamp.", options=stages_pb2.RenderOptions(persona_id="persona_x")
    )
    assert (
        workflow_fields(parse_render(request))["options"]["preferences"]["persona_id"]
        == "persona_x"
    )
    plain = parse_render(stages_pb2.RenderRequest(story="Mara lit the lamp."))
    assert workflow_fields(plain)["options"]["preferences"]["persona_id"] == ""


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
