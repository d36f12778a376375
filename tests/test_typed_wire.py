"""The typed wire: every model that crosses gRPC has a message of the same field names, a
field the model defaults to something other than zero (or to None) has presence on the wire,
and a model filled with non-default values comes back whole (proto ↔ model)."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from pydantic import BaseModel

from storyreel_asset.frames_job import FramesInput
from storyreel_core.drama_models import (
    Character,
    DialogueLine,
    FigureBox,
    Line,
    Scene,
    Screenplay,
    Shot,
    SpeechSegment,
    Storyboard,
)
from storyreel_core.proto.storyreel.v1 import (
    drama_pb2,
    json_values_pb2,
    stage_inputs_pb2,
    stages_pb2,
    videos_pb2,
)
from storyreel_core.render_models import ImageOptions, VideoOptions, WorkflowRenderOptions
from storyreel_core.rpc.messages import (
    from_message,
    object_to_dict,
    stage_request,
    to_message,
    to_object,
)
from storyreel_tts.speech_job import SpeechInput
from storyreel_video.video_models import CutShot
from storyreel_workflow.material_video_job import Material, MaterialVideoInput
from storyreel_workflow.pipeline_storyboard import StoryboardTask
from storyreel_workflow.stage_tasks import (
    ClipFrame,
    ClipsTask,
    FramesTask,
    LineIn,
    NarrationTask,
    SceneIn,
)

PAIRS: list[tuple[type[BaseModel], type[Message]]] = [
    (DialogueLine, drama_pb2.DialogueLine),
    (SpeechSegment, drama_pb2.SpeechSegment),
    (Character, drama_pb2.StoryCharacter),
    (Line, drama_pb2.Line),
    (Scene, drama_pb2.Scene),
    (Screenplay, drama_pb2.Screenplay),
    (Shot, drama_pb2.Shot),
    (Storyboard, drama_pb2.StoryboardPlan),
    (FigureBox, drama_pb2.FigureBox),
    (FramesInput, stage_inputs_pb2.FramesInput),
    (SpeechInput, stage_inputs_pb2.SpeechInput),
    (CutShot, videos_pb2.CutShot),
    (Material, stage_inputs_pb2.Material),
    (MaterialVideoInput, stage_inputs_pb2.MaterialVideoInput),
    (StoryboardTask, stages_pb2.StoryboardTask),
    (SceneIn, stages_pb2.SceneIn),
    (FramesTask, stages_pb2.FramesTask),
    (ClipFrame, stages_pb2.ClipFrame),
    (ClipsTask, stages_pb2.ClipsTask),
    (LineIn, stages_pb2.LineIn),
    (NarrationTask, stages_pb2.NarrationTask),
    (ImageOptions, stages_pb2.RenderImageOptions),
    (VideoOptions, stages_pb2.RenderVideoOptions),
    (WorkflowRenderOptions, stages_pb2.RenderOptions),
]


@pytest.mark.parametrize(("model", "message"), PAIRS, ids=lambda p: p.__name__)
def test_model_and_message_name_the_same_fields(
    model: type[BaseModel], message: type[Message]
) -> None:
    fields = message.DESCRIPTOR.fields_by_name
    assert set(model.model_fields) == set(fields)
    for name, info in model.model_fields.items():
        field = fields[name]
        if info.is_required() or field.type == FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.is_repeated:
            continue
        default = info.get_default(call_default_factory=True)
        if default is None or default != field.default_value:
            assert field.has_presence, f"{message.__name__}.{name} must be optional"


SCREENPLAY = Screenplay(
    title="Rain",
    language="zh",
    style="noir",
    seed=2**40,
    characters=[Character(id="c1", name="Mei", gender="female", description="tall")],
    scenes=[
        Scene(
            id="s1",
            number=1,
            location="harbour",
            time="night",
            summary="she waits",
            character_ids=["c1"],
            narration="Rain fell.",
            dialogue=[DialogueLine(character_id="c1", text="Go.")],
            lines=[Line(text="Rain fell."), Line(speaker="c1", text="Go.")],
            weather="rain",
            era="modern",
            props=["boat"],
            prompt="a harbour at night",
        )
    ],
    notes=["fewer scenes"],
)
BOARD = Storyboard(
    language="en",
    style="noir",
    seed=7,
    characters=SCREENPLAY.characters,
    shots=[
        Shot(
            id="sh1",
            number=1,
            scene_id="s1",
            shot_type="wide",
            camera_movement="push_in",
            prompt="p",
            description="d",
            location="harbour",
            time="night",
            narration="Rain fell.",
            dialogue=[DialogueLine(character_id="c1", text="Go.")],
            lines=[Line(speaker="c1", text="Go.")],
            weather="rain",
            era="future",
            props=["lantern"],
            character_ids=["c1"],
            duration=0.0,
        )
    ],
)
FILLED: list[tuple[BaseModel, type[Message]]] = [
    (SCREENPLAY, drama_pb2.Screenplay),
    (BOARD, drama_pb2.StoryboardPlan),
    (
        FramesInput(storyboard=BOARD, width=512, height=900, style="s", seed=3,
                    character_sheets=False, thumbnail_width=0, references={"c1": "k/c1.png"},
                    image_provider="p", image_model="m", num_steps=8, cfg_scale=0.0, budget=0.0),
        stage_inputs_pb2.FramesInput,
    ),
    (
        SpeechInput(storyboard=BOARD, voice="v", audio_provider="offline", speed=0.5, budget=1.5),
        stage_inputs_pb2.SpeechInput,
    ),
    (
        CutShot(shot_id="sh1", frame_key="f.png", audio_key=None, duration=3.0,
                camera_movement="tilt_up",
                segments=[SpeechSegment(speaker="c1", text="Go.", start=0, end=1.25)],
                figures=[FigureBox(character_id="c1", face=(0.1, 0.1, 0.3, 0.3),
                                   body=(0.0, 0.1, 0.5, 1.0))],
                prompt="p"),
        videos_pb2.CutShot,
    ),
    (
        WorkflowRenderOptions(
            scene_count=30, shots_per_scene=4, image=ImageOptions(resolution="768x512", seed=0),
            video=VideoOptions(fps=60, resolution="1080p", transition="fade"), voice="v",
            audio_provider="a", speed=2.0, music=False, seed=2**31 - 1, ai_provider="x",
            model="m", budget=0.0, persona_id="persona_x", subtitle_template=None,
        ),
        stages_pb2.RenderOptions,
    ),
]  # fmt: skip


@pytest.mark.parametrize(("value", "message"), FILLED, ids=lambda p: type(p).__name__)
def test_a_typed_round_trip_keeps_every_field(value: BaseModel, message: type[Message]) -> None:
    wire = message.FromString(to_message(value, message()).SerializeToString())
    assert from_message(wire, type(value)) == value


def test_a_stage_request_carries_its_kind_even_with_every_default() -> None:
    empty: dict[str, Any] = {}
    request = stage_request("material_video", empty, task_id="t1")
    assert request.WhichOneof("input") == "material_video"
    back = common_request(request.SerializeToString())
    assert back.task_id == "t1" and back.WhichOneof("input") == "material_video"


def common_request(data: bytes) -> Message:
    from storyreel_core.proto.storyreel.v1 import common_pb2

    return common_pb2.StageRequest.FromString(data)


def test_free_form_json_reads_back_exactly() -> None:
    """JsonObject keeps what Struct would not: 64-bit integers, and 2 apart from 2.0."""
    value = {
        "n": 2**63 - 1, "neg": -(2**63), "whole": 2.0, "big": 1.5e308, "two": 2,
        "items": [None, True, False, "字", {"a": [], "b": {}}], "empty": {},
    }  # fmt: skip
    wire = json_values_pb2.JsonObject.FromString(to_object(value).SerializeToString())
    back = object_to_dict(wire)
    assert back == value
    assert type(back["whole"]) is float and type(back["two"]) is int
    assert type(back["items"][1]) is bool
