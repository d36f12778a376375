"""RegenerateImage's frame size, image-model settings and budget, checked before any task."""

from __future__ import annotations

import pytest

from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import storyboards_pb2
from storyreel_storyboard.image_job import RegenerateInput
from storyreel_storyboard.library_api import frame_options


def request(**fields: object) -> storyboards_pb2.RegenerateImageRequest:
    return storyboards_pb2.RegenerateImageRequest(drama_id="d", storyboard_id="sb", **fields)


def test_unset_options_keep_the_storyboards_own_size_and_the_models_defaults() -> None:
    options = frame_options(request())
    assert options == {
        "width": 0, "height": 0, "num_steps": None, "cfg_scale": None, "budget": None,
    }  # fmt: skip
    spec = RegenerateInput(drama_id="d", storyboard_id="sb", **options)
    assert spec.frame_size("16:9") == (1280, 720) and spec.frame_size("") == (720, 1280)


def test_asked_options_reach_the_job() -> None:
    options = frame_options(request(width=360, height=640, num_steps=8, cfg_scale=0, budget=0.5))
    assert options == {
        "width": 360, "height": 640, "num_steps": 8, "cfg_scale": 0.0, "budget": 0.5,
    }  # fmt: skip
    spec = RegenerateInput(drama_id="d", storyboard_id="sb", **options)
    assert spec.frame_size("16:9") == (360, 640)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"width": 360}, "height"),
        ({"width": 32, "height": 640}, "width"),
        ({"width": 360, "height": 5000}, "height"),
        ({"num_steps": 101}, "num_steps"),
        ({"cfg_scale": 31}, "cfg_scale"),
        ({"budget": -1}, "budget"),
    ],
)
def test_bad_options_are_refused_naming_their_field(fields: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        frame_options(request(**fields))
    assert caught.value.field == field
