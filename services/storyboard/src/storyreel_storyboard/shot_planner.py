"""Plan a storyboard: turn each scene of a Screenplay into one or more timed shots.

This is the bridge between writing and pictures: it decides framing and camera per shot
by film-grammar rules (see `framing`), shares every narration sentence and dialogue line
out to exactly one shot (see `beat_distribution`), and gives each shot enough time to be
spoken (see `reading_time`). Pure and deterministic: the same screenplay and seed always
give the same storyboard.
"""

from __future__ import annotations

import math
import random

from storyreel_core.drama_models import (
    SHOT_TYPES,
    CameraMovement,
    Character,
    DialogueLine,
    Language,
    Scene,
    Screenplay,
    Shot,
    ShotType,
    Storyboard,
)
from storyreel_core.errors import ValidationFailed
from storyreel_storyboard.beat_distribution import (
    Beat,
    beat_lines,
    distribute,
    join_narration,
    mentions,
    scene_beats,
    speaking_ids,
)
from storyreel_storyboard.framing import (
    FRAMING_WORDS,
    ShotContext,
    choose_camera,
    choose_shot_type,
)
from storyreel_storyboard.reading_time import shot_duration

MIN_SHOTS_PER_SCENE = 1
MAX_SHOTS_PER_SCENE = 10
MAX_BASE_DURATION = 60.0

_SHOT_LABELS_EN: dict[ShotType, str] = {
    "extreme_wide": "Extreme wide shot",
    "wide": "Wide shot",
    "medium": "Medium shot",
    "medium_close_up": "Medium close-up",
    "close_up": "Close-up",
    "low_angle": "Low-angle shot",
    "high_angle": "High-angle shot",
}
_SHOT_LABELS_ZH: dict[ShotType, str] = {
    "extreme_wide": "大远景",
    "wide": "远景",
    "medium": "中景",
    "medium_close_up": "中近景",
    "close_up": "特写",
    "low_angle": "仰拍",
    "high_angle": "俯拍",
}
_CAMERA_EN: dict[CameraMovement, str] = {
    "push_in": "push in",
    "pull_out": "pull out",
    "pan_left": "pan left",
    "pan_right": "pan right",
    "tilt_up": "tilt up",
    "static": "static camera",
}
_CAMERA_ZH: dict[CameraMovement, str] = {
    "push_in": "推镜",
    "pull_out": "拉镜",
    "pan_left": "左摇",
    "pan_right": "右摇",
    "tilt_up": "上摇",
    "static": "固定镜头",
}
_TIME_ZH = {"day": "日", "night": "夜", "dusk": "黄昏", "dawn": "黎明"}
_SNIPPET_ZH = 30
_SNIPPET_EN = 16


def plan_shots(
    screenplay: Screenplay,
    *,
    shots_per_scene: int = 1,
    shot_type: ShotType | None = None,
    seed: int = 0,
    base_duration: float = 4.0,
) -> Storyboard:
    """Plan `shots_per_scene` shots for every scene of `screenplay`.

    `shot_type` fixes every shot's framing (camera moves still vary); `base_duration` is
    the shortest a shot may be. Raises ValidationFailed for a screenplay without scenes or
    out-of-range arguments.
    """
    _validate(screenplay, shots_per_scene, shot_type, base_duration)
    language = screenplay.language
    names = {c.id: c for c in screenplay.characters}
    total_shots = len(screenplay.scenes) * shots_per_scene
    shots: list[Shot] = []
    previous_type: ShotType | None = None
    previous_move: CameraMovement | None = None
    previous_location: str | None = None

    for scene_index, scene in enumerate(screenplay.scenes):
        beats = scene_beats(scene.narration, scene.dialogue, language, scene.lines)
        runs = distribute(beats, shots_per_scene)
        new_location = scene.location != previous_location
        previous_location = scene.location
        for position, run in enumerate(runs):
            number = len(shots) + 1
            rng = random.Random(f"storyreel-storyboard:{seed}:{number}")
            text = " ".join(beat.text for beat in run) or scene.summary
            context = ShotContext(
                text=text,
                has_dialogue=any(beat.line is not None for beat in run),
                position=position,
                scene_index=scene_index,
                new_location=new_location,
                is_last=number == total_shots,
            )
            framing = shot_type or choose_shot_type(context, previous_type, rng)
            move = choose_camera(framing, context, previous_move, rng)
            shots.append(_shot(number, scene, run, framing, move, names, language, base_duration))
            previous_type, previous_move = framing, move

    return Storyboard(
        language=language,
        style=screenplay.style,
        seed=seed,
        characters=[c.model_copy() for c in screenplay.characters],
        shots=shots,
    )


def _validate(
    screenplay: Screenplay,
    shots_per_scene: int,
    shot_type: ShotType | None,
    base_duration: float,
) -> None:
    if not screenplay.scenes:
        raise ValidationFailed("screenplay has no scenes", field="screenplay")
    if (
        isinstance(shots_per_scene, bool)
        or not isinstance(shots_per_scene, int)
        or not MIN_SHOTS_PER_SCENE <= shots_per_scene <= MAX_SHOTS_PER_SCENE
    ):
        raise ValidationFailed(
            f"shots_per_scene must be between {MIN_SHOTS_PER_SCENE} and {MAX_SHOTS_PER_SCENE}",
            field="shots_per_scene",
        )
    if shot_type is not None and shot_type not in SHOT_TYPES:
        raise ValidationFailed(f"unknown shot_type {shot_type!r}", field="shot_type")
    if (
        not isinstance(base_duration, int | float)
        or not math.isfinite(base_duration)
        or not 0 < base_duration <= MAX_BASE_DURATION
    ):
        raise ValidationFailed(
            f"base_duration must be in (0, {MAX_BASE_DURATION:g}] seconds", field="base_duration"
        )


def _shot(
    number: int,
    scene: Scene,
    run: list[Beat],
    framing: ShotType,
    move: CameraMovement,
    names: dict[str, Character],
    language: Language,
    base_duration: float,
) -> Shot:
    narration = join_narration(run, language)
    dialogue = [
        DialogueLine(character_id=beat.line.character_id, text=beat.line.text)
        for beat in run
        if beat.line is not None
    ]
    character_ids = _shot_characters(scene, run, narration, names, language)
    return Shot(
        id=f"shot_{number:03d}",
        number=number,
        scene_id=scene.id,
        shot_type=framing,
        camera_movement=move,
        prompt=_prompt(scene, framing, character_ids, dialogue, names),
        description=_description(scene, framing, move, character_ids, run, names, language),
        location=scene.location,
        time=scene.time,
        narration=narration,
        dialogue=dialogue,
        lines=beat_lines(run),
        weather=scene.weather,
        era=scene.era,
        props=list(scene.props),
        character_ids=character_ids,
        duration=shot_duration([beat.text for beat in run], base_duration),
    )


def _shot_characters(
    scene: Scene,
    run: list[Beat],
    narration: str,
    names: dict[str, Character],
    language: Language,
) -> list[str]:
    """Who is on screen: speakers and people named in the shot, else the scene's cast."""
    present = set(speaking_ids(run))
    text = " ".join([narration, *(beat.text for beat in run if beat.line is not None)])
    for character_id in scene.character_ids:
        character = names.get(character_id)
        if character is not None and mentions(text, character.name, language):
            present.add(character_id)
    if not present:
        return list(scene.character_ids)
    ordered = [cid for cid in scene.character_ids if cid in present]
    return ordered + sorted(present - set(ordered))


def _prompt(
    scene: Scene,
    framing: ShotType,
    character_ids: list[str],
    dialogue: list[DialogueLine],
    names: dict[str, Character],
) -> str:
    parts = [scene.prompt] if scene.prompt else [f"{scene.location}, {scene.time}"]
    parts.append(FRAMING_WORDS[framing])
    if dialogue:
        speaker = names.get(dialogue[0].character_id)
        if speaker is not None:
            parts.append(f"focus on {speaker.name} speaking")
    elif character_ids and framing in ("close_up", "medium_close_up"):
        subject = names.get(character_ids[0])
        if subject is not None:
            parts.append(f"focus on {subject.name}")
    return ", ".join(parts)


def _description(
    scene: Scene,
    framing: ShotType,
    move: CameraMovement,
    character_ids: list[str],
    run: list[Beat],
    names: dict[str, Character],
    language: Language,
) -> str:
    """A one-line shot note for people reading the storyboard, in the story's language."""
    who = [names[cid].name for cid in character_ids if cid in names]
    content = " ".join(beat.text for beat in run) or scene.summary
    if language == "zh":
        snippet = content if len(content) <= _SNIPPET_ZH else content[:_SNIPPET_ZH] + "…"
        people = "、".join(who) if who else "空镜"
        time = _TIME_ZH.get(scene.time, scene.time)
        return (
            f"{_SHOT_LABELS_ZH[framing]}·{_CAMERA_ZH[move]}｜{scene.location}（{time}）"
            f"｜{people}｜{snippet}"
        )
    words = content.split()
    snippet = content if len(words) <= _SNIPPET_EN else " ".join(words[:_SNIPPET_EN]) + "…"
    people = ", ".join(who) if who else "no characters"
    return (
        f"{_SHOT_LABELS_EN[framing]}, {_CAMERA_EN[move]} — {scene.location} ({scene.time})"
        f" — {people} — {snippet}"
    )
