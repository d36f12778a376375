"""The screenwriter's contract: validation, scene counts, ids and determinism."""

from __future__ import annotations

import hashlib

import pytest

from storyreel_core.drama_models import Scene
from storyreel_core.errors import Code, ValidationFailed
from storyreel_script.character_finder import character_id
from storyreel_script.screenwriter import write_screenplay

from .story_samples import EN_CHAPTER, EN_IDEA, ZH_CHAPTER, ZH_IDEA, ZH_MARKDOWN

ALL_STORIES = [ZH_IDEA, EN_IDEA, ZH_CHAPTER, EN_CHAPTER, ZH_MARKDOWN]
STORY_IDS = ["zh_idea", "en_idea", "zh_chapter", "en_chapter", "zh_markdown"]


@pytest.mark.parametrize("story", ["", "   ", "\n\t \n"])
def test_empty_story_is_rejected_on_the_story_field(story: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        write_screenplay(story)
    assert caught.value.field == "story"
    assert caught.value.code == Code.VALIDATION


def test_markup_only_story_is_rejected() -> None:
    with pytest.raises(ValidationFailed) as caught:
        write_screenplay("![](a.png)\n\n---\n")
    assert caught.value.field == "story"


@pytest.mark.parametrize("scene_count", [0, -1, 31, 100])
def test_scene_count_outside_1_to_30_is_rejected(scene_count: int) -> None:
    with pytest.raises(ValidationFailed) as caught:
        write_screenplay(ZH_IDEA, scene_count=scene_count)
    assert caught.value.field == "scene_count"


def test_unknown_language_is_rejected() -> None:
    with pytest.raises(ValidationFailed) as caught:
        write_screenplay(EN_IDEA, language="fr")  # type: ignore[arg-type]
    assert caught.value.field == "language"


@pytest.mark.parametrize("scene_count", [1, 8, 30])
@pytest.mark.parametrize("story", ALL_STORIES, ids=STORY_IDS)
def test_requested_scene_count_splits_the_story_and_never_pads_it(
    story: str, scene_count: int
) -> None:
    screenplay = write_screenplay(story, scene_count=scene_count)
    count = len(screenplay.scenes)

    assert 1 <= count <= scene_count
    if count < scene_count:
        # Fewer sentences than scenes: one sentence a scene, and the user is told.
        assert screenplay.notes and str(scene_count) in screenplay.notes[0]
        assert all(len(_sentences(scene)) >= 1 for scene in screenplay.scenes)
    else:
        assert screenplay.notes == []
    assert [s.number for s in screenplay.scenes] == list(range(1, count + 1))
    assert [s.id for s in screenplay.scenes] == [f"scene_{n:03d}" for n in range(1, count + 1)]
    known = {c.id for c in screenplay.characters}
    for scene in screenplay.scenes:
        assert scene.lines and (scene.narration or scene.dialogue)
        assert scene.location and scene.time in {"day", "night", "dusk", "dawn"}
        assert set(scene.character_ids) <= known
        assert all(line.character_id in known for line in scene.dialogue)
        assert all(line.speaker in known | {"narrator"} for line in scene.lines)


def _sentences(scene: Scene) -> list[str]:
    return [line.text for line in scene.lines]


@pytest.mark.parametrize("story", [ZH_CHAPTER, EN_CHAPTER], ids=["zh", "en"])
def test_every_quote_survives_any_scene_count(story: str) -> None:
    reference = [d.text for s in write_screenplay(story).scenes for d in s.dialogue]
    for scene_count in (1, 2, 8, 30):
        screenplay = write_screenplay(story, scene_count=scene_count)
        lines = [d.text for s in screenplay.scenes for d in s.dialogue]
        assert lines == reference


def test_default_scene_count_is_at_most_12_and_at_most_one_per_sentence() -> None:
    for story in ALL_STORIES:
        screenplay = write_screenplay(story)
        assert 1 <= len(screenplay.scenes) <= 12
        assert screenplay.notes == []  # the default never asks for more than the story has
    assert len(write_screenplay(ZH_IDEA).scenes) == 1
    long_story = "。".join(f"第{i}天，李雷继续赶路" for i in range(80)) + "。"
    assert len(write_screenplay(long_story).scenes) == 12


@pytest.mark.parametrize("story", ALL_STORIES, ids=STORY_IDS)
def test_same_input_and_seed_give_identical_screenplays(story: str) -> None:
    first = write_screenplay(story, seed=7, style="ink wash")
    second = write_screenplay(story, seed=7, style="ink wash")

    assert first.model_dump() == second.model_dump()
    assert first.seed == 7 and first.style == "ink wash"
    assert all(s.prompt.startswith("ink wash") for s in first.scenes)


def test_seed_is_recorded_but_never_changes_the_story() -> None:
    texts = {
        tuple(line.text for s in write_screenplay(ZH_CHAPTER, seed=seed).scenes for line in s.lines)
        for seed in range(4)
    }
    assert len(texts) == 1
    assert write_screenplay(ZH_IDEA, seed=5).seed == 5


def test_character_ids_are_a_stable_hash_of_the_name() -> None:
    expected = "char_" + hashlib.sha1("小红".encode()).hexdigest()[:10]
    assert character_id("小红") == expected
    assert expected in {c.id for c in write_screenplay(ZH_CHAPTER).characters}
    other_story = write_screenplay("小红笑着说：“你好。”", scene_count=1)
    assert other_story.characters[0].id == expected


def test_language_is_detected_or_taken_as_given() -> None:
    assert write_screenplay(ZH_IDEA).language == "zh"
    assert write_screenplay(EN_IDEA).language == "en"
    assert write_screenplay("Anna说：“Hello。”").language == "zh"
    assert write_screenplay(EN_IDEA, language="en").language == "en"
