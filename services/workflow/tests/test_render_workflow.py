"""A render as a workflow: each render option reaches its workflow preference, and the render's
result is read off the stages' task results with the fields clients read."""

from __future__ import annotations

from typing import Any

import pytest

from storyreel_core.errors import ValidationFailed
from storyreel_core.render_models import DEFAULT_SCENE_COUNT
from storyreel_core.workflow_models import STAGES, WorkflowPreferences
from storyreel_workflow.render_options import RenderInput
from storyreel_workflow.render_workflow import (
    render_name,
    render_result,
    render_workflow_id,
    stage_results,
    workflow_fields,
)


def spec(**options: Any) -> RenderInput:
    return RenderInput.model_validate(
        {"story": "Mara lit the lamp.\nThe boat turned.", "style": "noir", "options": options}
    )


def test_every_render_option_reaches_the_workflow() -> None:
    fields = workflow_fields(
        spec(
            scene_count=3,
            shots_per_scene=2,
            seed=7,
            image={"resolution": "360x640", "num_steps": 8, "cfg_scale": 2.0, "seed": 11},
            video={"resolution": "480p", "fps": 12, "transition": "fade"},
            voice="narrator-zh",
            audio_provider="piper",
            speed=1.25,
            music=False,
            ai_provider="standin",
            model="gpt-standin",
            image_provider="comfy",
            image_model="sdxl",
            video_provider="sora",
            video_model="sora-2",
            budget=0.5,
            persona_id="persona_1",
            subtitle_template="karaoke",
        )
    )
    assert (fields["name"], fields["input_type"]) == ("Mara lit the lamp.", "novel")
    assert fields["input_content"] == "Mara lit the lamp.\nThe boat turned."
    options = fields["options"]
    assert (options["ai_provider"], options["model"]) == ("standin", "gpt-standin")
    prefs = options["preferences"]
    assert prefs | {
        "style": "noir", "scene_count": 3, "shots_per_scene": 2, "seed": 7,
        "image_resolution": "360x640", "num_steps": 8, "cfg_scale": 2.0, "image_seed": 11,
        "resolution": "480p", "frame_rate": 12, "transition": "fade",
        "voice": "narrator-zh", "audio_provider": "piper", "speed": 1.25, "music": False,
        "image_provider": "comfy", "image_model": "sdxl",
        "video_provider": "sora", "video_model": "sora-2",
        "budget": 0.5, "persona_id": "persona_1", "subtitle_template": "karaoke",
    } == prefs  # fmt: skip


def test_defaults_draw_frames_at_the_videos_size_without_model_settings() -> None:
    prefs = workflow_fields(spec())["options"]["preferences"]
    assert prefs["image_resolution"] == prefs["resolution"] == "720p"
    assert prefs["num_steps"] is None and prefs["cfg_scale"] is None
    # No scene_count: the studio's default, the number the cost check and estimate count.
    assert prefs["scene_count"] == DEFAULT_SCENE_COUNT == 6 and prefs["budget"] is None
    assert prefs["subtitle_template"] is None and prefs["persona_id"] == ""


def test_a_render_skips_the_clip_stage() -> None:
    """The final cut animates each shot itself: a render's workflow asks for no clips (the
    video stage gets no task, `test_studio_stage_requests`); a studio workflow still does."""
    assert workflow_fields(spec())["options"]["preferences"]["clips"] is False
    assert WorkflowPreferences().clips is True


def test_what_the_workflow_would_refuse_is_a_400_naming_the_option() -> None:
    """The render's models hold the same bounds now (storyreel_core.render_models); a value
    that got past them (built without validation here) is still a 400 naming the option."""
    unchecked = spec()
    unchecked.options.voice = "v" * 81  # assignment is not validated
    with pytest.raises(ValidationFailed) as caught:
        workflow_fields(unchecked)
    assert caught.value.field == "options.voice"


def test_names_and_ids() -> None:
    assert render_workflow_id("task_abc") == "wf_abc"
    assert render_name("\n  " + "x" * 50 + "\nmore") == "x" * 40 + "…"
    assert render_name("   ") == "Render"


def board(board_id: str, **fields: Any) -> dict[str, Any]:
    return {"id": board_id, "shot_type": "wide", "prompt": "p", "duration": 4.0, **fields}


def call(cost: float) -> dict[str, Any]:
    return {"provider": "p", "model": "m", "modality": "image", "latency_s": 0.1, "cost": cost}


def test_the_result_reads_the_final_cut_the_script_and_the_shots() -> None:
    ids = {
        s: [f"task_{s}_{i}" for i in range(2 if s in ("frames", "audio") else 1)] for s in STAGES
    }
    doc = {
        "_id": "wf_1",
        "drama_id": "drama_1",
        "outputs": {"storyboard_ids": ["sb_2", "sb_1"]},
        "stages": {s: {"task_ids": ids[s]} for s in STAGES},
    }
    segments = [{"speaker": "narrator", "text": "a", "start": 0, "end": 1}] * 2
    results = {
        "task_script_0": {"title": "Lamp", "metadata": {"language": "en", "notes": ["n"],
                          "characters": [{"name": "Mara"}],
                          "generator": {"provider": "offline", "model": "rule-based"}}},
        "task_frames_0": {"storyboard": board("sb_1"), "provider_calls": [call(0.25)]},
        "task_frames_1": {"storyboard": board("sb_2", duration=3.0)},
        "task_audio_0": {"storyboard": board("sb_1", duration=5.5, audio_segments=segments),
                         "voices": {"narrator": "female-2"}, "provider_calls": [call(0.5)]},
        "task_final_0": {"video": {"id": "video_1", "key": "v.mp4", "subtitle_key": "v.srt",
                                   "thumbnail_key": "v.jpg", "duration": 8.5, "width": 360,
                                   "height": 640, "fps": 12, "file_size": 99},
                         "motion": {"kept_camera_motion": []}, "segments": {"total": 2},
                         "soundtrack": {"streamed": True}},
    }  # fmt: skip
    tasks = {t: {"result": r} for t, r in results.items()}
    result = render_result(doc, stage_results(doc, tasks))
    assert (result["video_key"], result["subtitle_key"], result["thumbnail_key"]) == (
        "v.mp4", "v.srt", "v.jpg",
    )  # fmt: skip
    assert (result["duration"], result["width"], result["fps"], result["file_size"]) == (
        8.5, 360, 12, 99,
    )  # fmt: skip
    assert result["motion"] == {"kept_camera_motion": []} and result["segments"] == {"total": 2}
    assert (result["title"], result["language"], result["notes"]) == ("Lamp", "en", ["n"])
    assert result["voices"] == {"narrator": "female-2"}
    assert result["cost"] == 0.75 and result["usage"]["calls"] == 2
    assert (result["drama_id"], result["workflow_id"], result["video_id"]) == (
        "drama_1", "wf_1", "video_1",
    )  # fmt: skip
    # In the storyboard stage's order; the audio stage's view (its duration, its lines) wins.
    shots = result["shots"]
    assert [(s["shot_id"], s["number"], s["duration"], s["lines"]) for s in shots] == [
        ("sb_2", 1, 3.0, 0),
        ("sb_1", 2, 5.5, 2),
    ]
