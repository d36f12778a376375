"""A one-click render (`/pipeline/render`) as a workflow: its request in, its result out.

A render runs seed 001's workflow (`workflow_machine`) on a drama of its own, through the
studio stages, and reads the result off the stages' tasks. Where each render option goes:

| render option                | workflow (`options`/`preferences`) | studio stage: request field  |
|------------------------------|------------------------------------|------------------------------|
| story                        | input_type `novel`, input_content  | script: GenerateScript       |
| style                        | style                              | script style, storyboard     |
|                              |                                    | image_style                  |
| scene_count (default 6)      | scene_count                        | script: scene_count          |
| seed                         | seed                               | script, storyboard: seed     |
| ai_provider, model           | options.ai_provider, model         | script                       |
| persona_id (the gateway's)   | persona_id                         | script: persona_id           |
| shots_per_scene              | shots_per_scene                    | storyboard: count_per_scene  |
| image.resolution (else       | image_resolution                   | frames: RegenerateImage      |
| video.resolution)            |                                    | width/height                 |
| image.num_steps, cfg_scale   | num_steps, cfg_scale (image model) | frames                       |
| image.seed                   | image_seed                         | frames: seed                 |
| image_provider, image_model  | image_provider, image_model        | assets, storyboard, frames   |
| voice, audio_provider, speed | voice, audio_provider, speed       | audio: GenerateShotAudio     |
| video.resolution, fps,       | resolution, frame_rate, transition | final: RenderFinalCut        |
| transition                   |                                    |                              |
| (none: always)               | clips = False                      | video: skipped (no task)     |
| music                        | music                              | final: music.enabled         |
| video_provider, video_model  | video_provider, video_model        | final (each shot's motion)   |
| subtitle_template            | subtitle_template                  | final                        |
| budget                       | budget (shared: `stage_budget`)    | script, frames, audio, final |

The result (`render_result`) keeps the fields clients read: the final cut's `video_key`,
`subtitle_key`, `ass_key`, `thumbnail_key` (signed into `*_url` by the gateway), `duration`,
`width`, `height`, `fps`, `file_size`, `motion` (`shot_clips`, `providers_used`,
`failed_attempts`, `kept_camera_motion`, …), `segments`, `soundtrack`; the script's `title`,
`notes`, `generator`, `language`, `characters`; every stage's `usage`, `cost` and
`provider_calls` summed; the audio stage's `voices`; and the `shots` in play order
(`shot_id` = the storyboard's id; each with its `image_key`, `audio_key`, `audio_segments`
and `figures`). `drama_id`, `workflow_id` and `video_id` name what the
render made: ordinary drama resources the studio API reads and edits.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from storyreel_core.errors import ValidationFailed
from storyreel_core.providers.usage import merge_summaries
from storyreel_core.render_models import DEFAULT_SCENE_COUNT
from storyreel_core.workflow_models import MAX_NAME, STAGES, WorkflowPreferences
from storyreel_workflow.render_options import RenderInput

# The drama a render makes is named after its story's first line, cut to this many characters.
NAME_CHARS = 40


def render_workflow_id(task_id: str) -> str:
    """The workflow of render task `task_<x>` is `wf_<x>`: a redelivered render finds it."""
    return "wf_" + task_id.removeprefix("task_")


def render_name(story: str) -> str:
    """The story's first non-blank line, at most NAME_CHARS characters (the drama's name)."""
    first = next((line.strip() for line in story.splitlines() if line.strip()), "")
    name = first[:NAME_CHARS].rstrip()
    return (name + "…" if len(first) > NAME_CHARS else name)[:MAX_NAME] or "Render"


def workflow_fields(spec: RenderInput) -> dict[str, Any]:
    """The workflow a render runs (`WorkflowStore.create`'s fields): the table above.
    ValidationFailed (400) naming `options.<preference>` when a value is out of the
    workflow's bounds (StartRender asks before any task exists)."""
    opts = spec.options
    preferences: dict[str, Any] = {
        "style": spec.style,
        # Always a number, so that the cost check and the estimate count what is written.
        "scene_count": opts.scene_count or DEFAULT_SCENE_COUNT,
        "seed": opts.seed,
        "shots_per_scene": opts.shots_per_scene,
        # Frames are drawn at the video's size unless the image resolution is asked for.
        "image_resolution": opts.image.resolution or opts.video.resolution,
        "image_seed": opts.image.seed,
        "image_provider": opts.image_provider or "",
        "image_model": opts.image_model or "",
        "voice": opts.voice or "",
        "audio_provider": opts.audio_provider or "",
        "speed": opts.speed,
        "resolution": opts.video.resolution,
        "frame_rate": opts.video.fps,
        "transition": opts.video.transition,
        "music": opts.music,
        "video_provider": opts.video_provider or "",
        "video_model": opts.video_model or "",
        "subtitle_template": opts.subtitle_template,
        "budget": opts.budget,
        "persona_id": opts.persona_id,
        # The final cut animates each shot itself: clips of the video stage would go unused.
        "clips": False,
    }
    if opts.image_provider:  # the procedural renderer has no steps or guidance
        preferences["num_steps"] = opts.image.num_steps
        preferences["cfg_scale"] = opts.image.cfg_scale
    try:
        checked = WorkflowPreferences.model_validate(preferences)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(["options", *(str(p) for p in first["loc"])])
        raise ValidationFailed(f"{field}: {first['msg']}", field=field) from exc
    return {
        "name": render_name(spec.story),
        "input_type": "novel",
        "input_content": spec.story,
        "options": {
            "ai_provider": (opts.ai_provider or "").strip(),
            "model": (opts.model or "").strip(),
            "preferences": checked.model_dump(mode="json"),
        },
    }


def stage_results(doc: dict[str, Any], tasks: dict[str, dict[str, Any]]) -> dict[str, list[Any]]:
    """Each stage's task results in target order, from the workflow and its tasks by id."""
    return {
        stage: [(tasks.get(t) or {}).get("result") or {} for t in doc["stages"][stage]["task_ids"]]
        for stage in STAGES
    }


def _shot(board: dict[str, Any], number: int) -> dict[str, Any]:
    return {
        "shot_id": board["id"],
        "number": number,
        "shot_type": board.get("shot_type", "medium"),
        "camera_movement": board.get("camera_movement", "static"),
        "prompt": board.get("prompt", ""),
        "narration": board.get("narration", ""),
        "dialogue": list(board.get("dialogue") or []),
        "duration": float(board.get("duration") or 0.0),
        "lines": len(board.get("audio_segments") or []),
        # The shot's frame and speech (signed into image_url/audio_url by the gateway), what
        # the speech says when, and where the frame's characters stand.
        "image_key": board.get("image_key") or None,
        "audio_key": board.get("audio_key") or None,  # None: a shot with nothing to say
        "audio_segments": list(board.get("audio_segments") or []),
        "figures": list(board.get("figures") or []),
    }


def render_result(doc: dict[str, Any], results: dict[str, list[Any]]) -> dict[str, Any]:
    """The render's task result from its completed workflow (`doc`) and the stage results
    (`stage_results`). Shots are the storyboards as the last stage that touched each left them
    (audio after frames), in the storyboard stage's order."""
    script = (results["script"] or [{}])[0]
    final = (results["final"] or [{}])[0]
    metadata = script.get("metadata") or {}
    video = final.get("video") or {}
    latest: dict[str, dict[str, Any]] = {}
    for stage in ("frames", "audio"):
        for result in results[stage]:
            board = result.get("storyboard") or {}
            if board.get("id"):
                latest[board["id"]] = board
    order = (doc.get("outputs") or {}).get("storyboard_ids") or list(latest)
    boards = [latest[i] for i in order if i in latest]
    voices: dict[str, str] = {}
    for result in results["audio"]:
        voices.update(result.get("voices") or {})
    spent = merge_summaries(*(r for stage in STAGES for r in results[stage]))
    out: dict[str, Any] = {
        key: final[key] for key in ("motion", "segments", "soundtrack", "spoken") if key in final
    }
    for field in ("key", "subtitle_key", "ass_key", "thumbnail_key"):
        if video.get(field):
            out["video_key" if field == "key" else field] = video[field]
    out.update(
        {
            "duration": float(video.get("duration") or 0.0),
            "width": video.get("width"),
            "height": video.get("height"),
            "fps": video.get("fps"),
            "file_size": video.get("file_size"),
            "video_id": video.get("id", ""),
            "drama_id": doc["drama_id"],
            "workflow_id": doc["_id"],
            "title": script.get("title", ""),
            # e.g. fewer scenes than asked for: the screenwriter splits a story, never pads it.
            "notes": list(metadata.get("notes") or []),
            "generator": metadata.get("generator") or {"provider": "offline", "model": ""},
            "language": metadata.get("language", ""),
            "characters": list(metadata.get("characters") or []),
            "voices": voices,
            "usage": spent["usage"],
            "cost": spent["cost"],
            "provider_calls": spent["provider_calls"],
            "shots": [_shot(b, n) for n, b in enumerate(boards, start=1)],
        }
    )
    return out
