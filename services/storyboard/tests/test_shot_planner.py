"""plan_shots: shot numbering, line distribution, framing rules, durations, validation."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

import pytest

from storyreel_core.drama_models import CAMERA_MOVEMENTS, SHOT_TYPES, Screenplay, ShotType
from storyreel_core.errors import ValidationFailed
from storyreel_storyboard.shot_planner import plan_shots

from .screenplays import en_screenplay, single_scene, zh_screenplay

SCREENPLAYS = [zh_screenplay, en_screenplay]


@pytest.mark.parametrize("make", SCREENPLAYS)
@pytest.mark.parametrize("per_scene", [1, 2, 3, 5])
def test_shots_are_numbered_in_order_per_scene(
    make: Callable[[], Screenplay], per_scene: int
) -> None:
    screenplay = make()
    board = plan_shots(screenplay, shots_per_scene=per_scene)

    count = len(screenplay.scenes) * per_scene
    assert [s.number for s in board.shots] == list(range(1, count + 1))
    assert [s.id for s in board.shots] == [f"shot_{n:03d}" for n in range(1, count + 1)]
    expected_scenes = [scene.id for scene in screenplay.scenes for _ in range(per_scene)]
    assert [s.scene_id for s in board.shots] == expected_scenes


@pytest.mark.parametrize("make", SCREENPLAYS)
@pytest.mark.parametrize("per_scene", [1, 2, 3, 5])
def test_every_dialogue_line_appears_exactly_once_in_order(
    make: Callable[[], Screenplay], per_scene: int
) -> None:
    screenplay = make()
    board = plan_shots(screenplay, shots_per_scene=per_scene)

    for scene in screenplay.scenes:
        shots = [s for s in board.shots if s.scene_id == scene.id]
        planned = [(d.character_id, d.text) for s in shots for d in s.dialogue]
        assert planned == [(d.character_id, d.text) for d in scene.dialogue]


@pytest.mark.parametrize("make", SCREENPLAYS)
@pytest.mark.parametrize("per_scene", [1, 2, 4])
def test_scene_narration_is_shared_out_without_loss(
    make: Callable[[], Screenplay], per_scene: int
) -> None:
    screenplay = make()
    board = plan_shots(screenplay, shots_per_scene=per_scene)
    glue = "" if screenplay.language == "zh" else " "

    for scene in screenplay.scenes:
        shots = [s for s in board.shots if s.scene_id == scene.id]
        assert glue.join(s.narration for s in shots if s.narration) == scene.narration


@pytest.mark.parametrize("make", SCREENPLAYS)
@pytest.mark.parametrize("per_scene", [1, 3])
def test_shot_types_and_camera_moves_are_valid_and_moves_never_repeat(
    make: Callable[[], Screenplay], per_scene: int
) -> None:
    board = plan_shots(make(), shots_per_scene=per_scene, seed=11)

    for shot in board.shots:
        assert shot.shot_type in SHOT_TYPES
        assert shot.camera_movement in CAMERA_MOVEMENTS
    moves = [s.camera_movement for s in board.shots]
    assert all(a != b for a, b in pairwise(moves))


def test_establishing_shots_go_wide_and_the_last_shot_pulls_out() -> None:
    board = plan_shots(zh_screenplay(), shots_per_scene=2)

    assert board.shots[0].shot_type == "extreme_wide"
    river_opening = next(s for s in board.shots if s.scene_id == "scene_003")
    assert river_opening.shot_type == "wide"  # a new place opens wide
    assert board.shots[-1].camera_movement == "pull_out"


def test_dialogue_shots_move_in_close() -> None:
    board = plan_shots(zh_screenplay(), shots_per_scene=3)

    talking = [s for s in board.shots if s.dialogue]
    assert talking
    assert all(s.shot_type in ("close_up", "medium_close_up") for s in talking)
    exclaiming = next(s for s in talking if any("！" in d.text for d in s.dialogue))
    assert exclaiming.shot_type == "close_up"


def test_fixed_shot_type_applies_to_every_shot() -> None:
    board = plan_shots(en_screenplay(), shots_per_scene=2, shot_type="low_angle")

    assert {s.shot_type for s in board.shots} == {"low_angle"}
    moves = [s.camera_movement for s in board.shots]
    assert all(a != b for a, b in pairwise(moves))


def test_shots_carry_scene_setting_characters_and_prompts() -> None:
    screenplay = zh_screenplay()
    board = plan_shots(screenplay, shots_per_scene=2)

    assert board.language == "zh" and board.style == "水墨"
    assert [c.id for c in board.characters] == [c.id for c in screenplay.characters]
    scenes = {s.id: s for s in screenplay.scenes}
    for shot in board.shots:
        scene = scenes[shot.scene_id]
        assert shot.location == scene.location and shot.time == scene.time
        assert shot.prompt.startswith(scene.prompt)
        assert shot.description
        assert set(shot.character_ids) <= set(scene.character_ids)
        assert {d.character_id for d in shot.dialogue} <= set(shot.character_ids)


def test_duration_is_at_least_base_and_covers_reading_time() -> None:
    long_zh = "一" * 45 + "。"  # 45 CJK chars: 10 s + 0.6 s
    board = plan_shots(single_scene("zh", long_zh), base_duration=4.0)
    assert board.shots[0].duration == pytest.approx(10.6)

    words = " ".join(["word"] * 26) + "."  # 26 words: 10 s + 0.6 s
    board = plan_shots(single_scene("en", words), base_duration=4.0)
    assert board.shots[0].duration == pytest.approx(10.6)

    short = plan_shots(single_scene("en", "Hi."), base_duration=5.5)
    assert short.shots[0].duration == 5.5


def test_more_shots_than_lines_leaves_silent_visual_shots() -> None:
    board = plan_shots(single_scene("en", "One line."), shots_per_scene=3)

    assert [s.narration for s in board.shots] == ["One line.", "", ""]
    assert all(s.duration == 4.0 for s in board.shots)


@pytest.mark.parametrize("make", SCREENPLAYS)
def test_same_screenplay_and_seed_give_identical_storyboards(
    make: Callable[[], Screenplay],
) -> None:
    first = plan_shots(make(), shots_per_scene=3, seed=5)
    second = plan_shots(make(), shots_per_scene=3, seed=5)

    assert first.model_dump() == second.model_dump()
    assert first.seed == 5


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"shots_per_scene": 0}, "shots_per_scene"),
        ({"shots_per_scene": 11}, "shots_per_scene"),
        ({"base_duration": 0.0}, "base_duration"),
        ({"base_duration": -1.0}, "base_duration"),
        ({"base_duration": float("nan")}, "base_duration"),
        ({"shot_type": "dutch_angle"}, "shot_type"),
    ],
)
def test_invalid_arguments_raise_validation_failed(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        plan_shots(zh_screenplay(), **kwargs)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_screenplay_without_scenes_is_rejected() -> None:
    with pytest.raises(ValidationFailed) as caught:
        plan_shots(Screenplay(title="empty", language="en"))
    assert caught.value.field == "screenplay"


def test_every_shot_type_can_be_fixed() -> None:
    for shot_type in SHOT_TYPES:
        fixed: ShotType = shot_type
        board = plan_shots(en_screenplay(), shot_type=fixed)
        assert all(s.shot_type == fixed for s in board.shots)


def _ordered_scene() -> Screenplay:
    """小禾拉住爷爷的袖子：“你要去救人吗？”周海沉默了很久，终于点了点头。 as written."""
    return Screenplay.model_validate(
        {
            "title": "袖子",
            "language": "zh",
            "characters": [
                {"id": "char_he", "name": "小禾"},
                {"id": "char_zhou", "name": "周海", "gender": "male"},
            ],
            "scenes": [
                {
                    "id": "scene_001",
                    "number": 1,
                    "location": "小镇",
                    "narration": "小禾拉住爷爷的袖子。周海沉默了很久，终于点了点头。",
                    "dialogue": [{"character_id": "char_he", "text": "你要去救人吗？"}],
                    "lines": [
                        {"speaker": "narrator", "text": "小禾拉住爷爷的袖子。"},
                        {"speaker": "char_he", "text": "你要去救人吗？"},
                        {"speaker": "narrator", "text": "周海沉默了很久，终于点了点头。"},
                    ],
                    "weather": "rain",
                    "era": "ancient",
                    "props": ["lantern"],
                }
            ],
        }
    )


@pytest.mark.parametrize("per_scene", [1, 2, 3])
def test_shots_speak_a_scene_s_lines_in_text_order(per_scene: int) -> None:
    screenplay = _ordered_scene()
    board = plan_shots(screenplay, shots_per_scene=per_scene)

    heard = [(line.speaker, line.text) for shot in board.shots for line in shot.lines]
    assert heard == [(line.speaker, line.text) for line in screenplay.scenes[0].lines]
    for shot in board.shots:
        # The older fields say the same words as the shot's own lines.
        assert shot.narration == "".join(
            line.text for line in shot.lines if line.speaker == "narrator"
        )
        assert [d.text for d in shot.dialogue] == [
            line.text for line in shot.lines if line.speaker != "narrator"
        ]
        assert (shot.weather, shot.era, shot.props) == ("rain", "ancient", ["lantern"])
