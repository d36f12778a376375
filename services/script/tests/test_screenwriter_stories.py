"""The screenwriter on real stories: chapters with dialogue, Markdown, and one-line ideas."""

from __future__ import annotations

import re

import pytest

from storyreel_core.drama_models import Screenplay
from storyreel_script.screenwriter import write_screenplay

from .story_samples import (
    EN_CHAPTER,
    EN_CHAPTER_QUOTES,
    EN_IDEA,
    EN_MARKDOWN,
    ZH_CHAPTER,
    ZH_CHAPTER_QUOTES,
    ZH_IDEA,
    ZH_MARKDOWN,
)


def _names(screenplay: Screenplay) -> dict[str, str]:
    return {c.id: c.name for c in screenplay.characters}


def _spoken(screenplay: Screenplay) -> list[tuple[str, str]]:
    names = _names(screenplay)
    return [(names[d.character_id], d.text) for s in screenplay.scenes for d in s.dialogue]


def test_chinese_chapter_finds_named_characters_and_genders() -> None:
    screenplay = write_screenplay(ZH_CHAPTER)

    assert screenplay.language == "zh"
    genders = {c.name: c.gender for c in screenplay.characters}
    assert {"李雷", "小红", "老张"} <= set(genders)
    assert genders["小红"] == "female"
    assert genders["李雷"] == "male"
    assert "小红正" not in genders  # jieba's over-long segment is not a second person


def test_chinese_chapter_attributes_each_quote_to_its_speaker_once() -> None:
    spoken = _spoken(write_screenplay(ZH_CHAPTER))

    assert [text for _, text in spoken] == ZH_CHAPTER_QUOTES
    assert ("小红", "我们走吧。") in spoken
    assert ("李雷", "外面有人在等我们。") in spoken  # 他低声说 → the man just mentioned
    assert ("老张", "快上船！") in spoken


def test_chinese_chapter_scenes_carry_place_time_and_whole_narration() -> None:
    screenplay = write_screenplay(ZH_CHAPTER)

    first, last = screenplay.scenes[0], screenplay.scenes[-1]
    assert first.location == "荒城" and first.time == "night"
    assert last.location == "河边" and last.time == "dawn"
    assert screenplay.title == "第一章 荒城"
    narration = "".join(scene.narration for scene in screenplay.scenes)
    assert "夜幕降临，荒城的街道上空无一人。" in narration  # whole sentences, never condensed
    assert "两人沿着小巷向城外跑去。" in narration
    for scene in screenplay.scenes:
        assert "“" not in scene.narration and "”" not in scene.narration
        assert scene.prompt and scene.location


def test_a_bare_speech_tag_is_said_by_the_voice_a_telling_one_is_narrated() -> None:
    bare = write_screenplay("小红说：“我们走吧。”", scene_count=1).scenes[0]
    assert bare.narration == ""  # who speaks is what the voice tells

    screenplay = write_screenplay("小红笑着说：“我们走吧。”", scene_count=1)
    scene = screenplay.scenes[0]
    assert scene.narration == "小红笑着说："  # 笑着 is story: heard, then her line
    assert [d.text for d in scene.dialogue] == ["我们走吧。"]
    assert _names(screenplay)[scene.dialogue[0].character_id] == "小红"


def test_english_chapter_finds_speakers_from_said_patterns() -> None:
    screenplay = write_screenplay(EN_CHAPTER)
    genders = {c.name: c.gender for c in screenplay.characters}
    spoken = _spoken(screenplay)

    assert screenplay.language == "en"
    assert genders == {"Anna": "female", "Marcus": "male"}
    assert [text for _, text in spoken] == EN_CHAPTER_QUOTES
    assert spoken[0] == ("Marcus", "You're late.")  # "…," said Marcus
    assert spoken[3] == ("Anna", "Do you think they will follow us?")  # Anna asked, "…"
    assert spoken[4] == ("Marcus", "They always do.")  # "…," he replied
    for scene in screenplay.scenes:
        assert '"' not in scene.narration


def test_english_chapter_scene_settings_follow_the_text() -> None:
    screenplay = write_screenplay(EN_CHAPTER)

    assert screenplay.scenes[0].location == "old harbor"
    assert screenplay.scenes[-1].time == "dawn"
    assert any(scene.time == "night" for scene in screenplay.scenes)


def test_markdown_headings_become_scene_boundaries_and_markup_is_stripped() -> None:
    screenplay = write_screenplay(ZH_MARKDOWN, scene_count=3)

    assert screenplay.title == "星河尽头"
    start, storm, home = screenplay.scenes
    assert "林月" in start.narration and "太空站" in start.narration
    assert [d.text for d in storm.dialogue] == ["坚持住！", "明白！"]
    assert home.time == "dawn" and home.location == "草原"
    for scene in screenplay.scenes:
        for text in (scene.narration, scene.summary):
            assert not re.search(r"[#*]|!\[|\]\(|https?://", text)


def test_markdown_addressee_is_not_taken_for_the_speaker() -> None:
    spoken = _spoken(write_screenplay(ZH_MARKDOWN))

    assert ("林月", "坚持住！") in spoken  # 对副驾驶王强说: 王强 is spoken to
    assert ("王强", "明白！") in spoken


def test_english_markdown_keeps_link_text_and_drops_images() -> None:
    screenplay = write_screenplay(EN_MARKDOWN)
    text = " ".join(s.narration for s in screenplay.scenes)

    assert screenplay.title == "The Last Lighthouse"
    assert "lighthouse" in text and "storm.jpg" not in text and "example.com" not in text
    names = {c.name: c.gender for c in screenplay.characters}
    assert names.get("Tom Reed") == "male"
    assert ("Lucy", "Is anyone there?") in _spoken(screenplay)


@pytest.mark.parametrize(
    ("idea", "hero", "language", "end"),
    [(ZH_IDEA, "武者", "zh", "。"), (EN_IDEA, "The Swordsman", "en", ".")],
)
def test_one_line_idea_is_one_scene_with_nothing_invented(
    idea: str, hero: str, language: str, end: str
) -> None:
    screenplay = write_screenplay(idea)

    assert screenplay.language == language
    assert [c.name for c in screenplay.characters] == [hero]
    (scene,) = screenplay.scenes
    assert [(line.speaker, line.text) for line in scene.lines] == [("narrator", idea + end)]
    assert scene.narration == idea + end and scene.dialogue == []
    assert screenplay.characters[0].id in scene.character_ids


def test_one_line_idea_with_more_scenes_asked_keeps_its_place_and_says_so() -> None:
    zh = write_screenplay(ZH_IDEA, scene_count=5)
    en = write_screenplay(EN_IDEA, scene_count=5)

    assert [s.location for s in zh.scenes] == ["废土城市"]
    assert "wasteland city" in zh.scenes[0].prompt
    assert [s.location for s in en.scenes] == ["ruined city"]
    for screenplay in (zh, en):
        assert len(screenplay.notes) == 1 and "5" in screenplay.notes[0]


def test_nameless_story_without_roles_gets_a_generic_hero() -> None:
    zh = write_screenplay("雨一直下。", scene_count=2)
    en = write_screenplay("It rained all day.", scene_count=2)

    assert [c.name for c in zh.characters] == ["主角"]
    assert [c.name for c in en.characters] == ["The Hero"]


def test_titles_come_from_the_first_phrase_without_markdown() -> None:
    assert write_screenplay(ZH_IDEA).title == ZH_IDEA
    assert write_screenplay("The storm came. Nobody slept.").title == "The storm came"


def test_honorifics_do_not_cut_names_or_attributions() -> None:
    screenplay = write_screenplay('Mr. Smith met Anna at the station. "Hello," said Mr. Smith.')

    assert screenplay.title == "Mr. Smith met Anna at the station"
    assert ("Mr. Smith", "Hello.") in _spoken(screenplay)
    assert {c.name: c.gender for c in screenplay.characters}["Mr. Smith"] == "male"
    assert all("Smith smith" not in scene.narration for scene in screenplay.scenes)
