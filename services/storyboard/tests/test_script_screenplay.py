"""Stored scripts read as screenplays (generated and hand-written shapes), cast with the drama's
designed characters, then planned."""

from __future__ import annotations

from typing import Any

import pytest

from storyreel_core.drama_models import Character
from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import script_pb2
from storyreel_core.rpc.messages import to_object, to_objects
from storyreel_storyboard.script_screenplay import (
    cast_with,
    character_id,
    screenplay_from_script,
)
from storyreel_storyboard.shot_planner import plan_shots

from .screenplays import en_screenplay, zh_screenplay


def script(scenes: Any, metadata: Any = None, content: str = "") -> script_pb2.Script:
    return script_pb2.Script(
        id="script_1",
        drama_id="drama_1",
        title="Rain",
        content=content,
        scenes=to_objects(scenes),
        metadata=to_object(metadata),
    )


def test_a_generated_script_reads_back_as_its_screenplay() -> None:
    original = zh_screenplay()
    metadata = {
        "characters": [c.model_dump() for c in original.characters],
        "language": "zh",
        "style": original.style,
    }
    read = screenplay_from_script(
        script([s.model_dump() for s in original.scenes], metadata, "《荒城》")
    )
    assert read.scenes == original.scenes
    assert read.characters == original.characters
    assert (read.language, read.style) == ("zh", original.style)


def test_hand_written_scenes_name_people_by_name_and_get_stable_ids() -> None:
    scenes = [
        {"id": "s1", "location": "tea house", "characters": ["Mei", "Lin"],
         "dialogue": [{"speaker": "Mei", "text": "Tea?"}, {"speaker": "Bo", "line": "Yes."}]},
        {"location": "harbour", "time": "night", "dialogue": [{"character": "lin", "text": "Go."}]},
    ]  # fmt: skip
    read = screenplay_from_script(script(scenes, content="Mei and Lin drink tea."))
    assert read.language == "en"
    names = {c.name: c.id for c in read.characters}
    assert set(names) == {"Mei", "Lin", "Bo"} and names["Mei"] == character_id("Mei")
    first, second = read.scenes
    assert (first.id, first.number, second.id, second.number) == ("s1", 1, "scene_002", 2)
    assert first.character_ids == [names["Mei"], names["Lin"], names["Bo"]]
    assert second.dialogue[0].character_id == names["Lin"]  # names match without case
    assert second.time == "night" and first.time == "day"


# The wire carries scenes as objects (JsonObjects): a list of strings or an object no longer
# reaches the service, so an empty list and none are what is left to refuse.
@pytest.mark.parametrize("scenes", [[], None])
def test_a_script_without_scenes_cannot_make_storyboards(scenes: Any) -> None:
    with pytest.raises(ValidationFailed) as err:
        screenplay_from_script(script(scenes))
    assert err.value.field == "script_id"


def test_chinese_is_detected_when_the_metadata_does_not_say() -> None:
    read = screenplay_from_script(script([{"location": "茶馆", "narration": "他走进茶馆。"}]))
    assert read.language == "zh"


def test_cast_with_swaps_script_characters_for_the_designed_ones_everywhere() -> None:
    play = en_screenplay()
    designed = [
        Character(id="char_designed_anna", name=" anna ", gender="female"),
        Character(id="char_stranger", name="Nobody"),
    ]
    cast = cast_with(play, designed)
    ids = {c.id for c in cast.characters}
    assert "char_designed_anna" in ids and "char_anna" not in ids and "char_stranger" not in ids
    everywhere = [i for s in cast.scenes for i in s.character_ids] + [
        line.character_id for s in cast.scenes for line in s.dialogue
    ]
    assert "char_anna" not in everywhere and "char_designed_anna" in everywhere
    board = plan_shots(cast, shots_per_scene=2)
    used = {c for shot in board.shots for c in shot.character_ids}
    assert used <= ids
    assert cast_with(play, []) is play


def test_reference_keys_are_the_default_images() -> None:
    from storyreel_core.proto.storyreel.v1 import assets_pb2
    from storyreel_storyboard.script_screenplay import reference_keys

    def image(image_id: str) -> assets_pb2.CharacterImage:
        return assets_pb2.CharacterImage(id=image_id, key=f"dramas/d/characters/{image_id}.png")

    mei = assets_pb2.Character(
        id="char_mei", default_image_id="img_2", images=[image("img_1"), image("img_2")]
    )
    lin = assets_pb2.Character(id="char_lin", images=[image("img_3")])  # no default chosen
    assert reference_keys([mei, lin]) == {"char_mei": "dramas/d/characters/img_2.png"}


def test_a_generated_scene_keeps_its_line_order_and_setting_unless_edited() -> None:
    scene = {
        "id": "scene_001",
        "location": "小镇",
        "narration": "小禾拉住爷爷的袖子。周海点了点头。",
        "dialogue": [{"character_id": "小禾", "text": "你要去救人吗？"}],
        "lines": [
            {"speaker": "narrator", "text": "小禾拉住爷爷的袖子。"},
            {"speaker": "小禾", "text": "你要去救人吗？"},
            {"speaker": "narrator", "text": "周海点了点头。"},
        ],
        "weather": "rain",
        "era": "ancient",
        "props": ["boat", "lantern"],
    }
    read = screenplay_from_script(script([scene])).scenes[0]
    he = character_id("小禾")
    assert [(line.speaker, line.text) for line in read.lines] == [
        ("narrator", "小禾拉住爷爷的袖子。"),
        (he, "你要去救人吗？"),
        ("narrator", "周海点了点头。"),
    ]
    assert (read.weather, read.era, read.props) == ("rain", "ancient", ["boat", "lantern"])

    # A scene whose narration was edited after generation: the old order would speak words
    # that are gone, so it is dropped and the scene is read as narration, then dialogue.
    edited = screenplay_from_script(script([{**scene, "narration": "周海走了。"}])).scenes[0]
    assert edited.lines == []
    shot = plan_shots(screenplay_from_script(script([{**scene, "narration": "周海走了。"}])))
    assert shot.shots[0].narration == "周海走了。"
