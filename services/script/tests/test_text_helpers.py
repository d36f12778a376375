"""The screenwriter's building blocks: language, sentences, quotes, Markdown, settings."""

from __future__ import annotations

from storyreel_script.dialogue import split_dialogue
from storyreel_script.language import detect_language
from storyreel_script.markdown_text import parse_story
from storyreel_script.scene_splitter import Unit, default_scene_count, group_units
from storyreel_script.sentences import split_sentences
from storyreel_script.setting import find_location, find_time


def test_language_detection_uses_the_cjk_share_of_letters() -> None:
    assert detect_language("一位独行武者穿越废土城市寻找真相") == "zh"
    assert detect_language("他说：OK, let's go。我们出发吧。") == "zh"
    assert detect_language("A lone swordsman crosses a ruined city") == "en"
    assert detect_language("He bowed and said 你好 to the whole long room of guests.") == "en"


def test_chinese_sentences_keep_quotes_with_their_attribution() -> None:
    text = "小红笑着说：“我们走吧。”李雷点点头。“外面有人。”他低声说。夜深了！"
    assert split_sentences(text, "zh") == [
        "小红笑着说：“我们走吧。”",
        "李雷点点头。",
        "“外面有人。”他低声说。",
        "夜深了！",
    ]


def test_english_sentences_respect_quotes_and_abbreviations() -> None:
    text = '"Run!" Anna shouted. Mr. Reed waited. "Why?" He did not answer.'
    assert split_sentences(text, "en") == [
        '"Run!" Anna shouted.',
        "Mr. Reed waited.",
        '"Why?"',
        "He did not answer.",
    ]


def test_dialogue_split_separates_speech_attribution_and_narration() -> None:
    before = split_dialogue("小红笑着说：“我们走吧。”", "zh", ["小红"])
    assert before.narration == "小红笑着说："  # 笑着 is story, heard before her line
    assert [(q.text, q.attribution) for q in before.quotes] == [("我们走吧。", "小红笑着说")]
    assert split_dialogue("小红说：“我们走吧。”", "zh", ["小红"]).narration == ""
    assert split_dialogue("小红说：“我们走吧。”", "zh").narration == "小红说："  # no names known

    after = split_dialogue("“快跑！”老张喊道，转身冲进黑暗。", "zh", ["老张"])
    assert after.narration == "老张喊道，转身冲进黑暗。"  # the tag stays with its sentence
    assert after.quotes[0].attribution == "老张喊道"

    english = split_dialogue('"We should go," said Anna.', "en", ["Anna"])
    assert english.narration == ""
    assert split_dialogue('"We should go," she said.', "en").narration == ""
    told = split_dialogue('"You came back," Mara told Tom.', "en", ["Mara", "Tom"])
    assert told.narration == "Mara told Tom."  # to whom is story too
    smiled = split_dialogue('Tom smiled and said, "I promised."', "en", ["Tom"])
    assert [p.text for p in smiled.pieces] == ["Tom smiled and said:", "I promised."]
    assert [(q.text, q.attribution) for q in english.quotes] == [("We should go.", "said Anna")]

    leading = split_dialogue('Anna said, "Wait here."', "en")
    assert leading.quotes[0].attribution == "Anna said"


def test_markdown_is_reduced_to_sections_of_clean_prose() -> None:
    story = parse_story(
        "# Title\n\nIntro with a [link](http://x.y) and ![img](a.png) **bold**.\n\n"
        "## Part\n\n- item one\n> quoted line\n\n```\ncode()\n```\n"
    )
    assert story.title == "Title"
    assert [s.heading for s in story.sections] == ["Title", "Part"]
    assert story.sections[0].paragraphs == ["Intro with a link and bold."]
    assert story.sections[1].paragraphs == ["item one quoted line"]


def test_a_url_the_author_wrote_is_story_text() -> None:
    story = parse_story(
        "See https://example.com/a_b/c.html and <https://x.org/y>, or [the map](m.png)."
    )
    assert story.paragraphs == [
        "See https://example.com/a_b/c.html and https://x.org/y, or the map."
    ]


def test_plain_chapter_lines_act_as_headings() -> None:
    story = parse_story("第二章 河边\n\n他来到河边。")
    assert story.first_heading == "第二章 河边"
    assert story.paragraphs == ["他来到河边。"]


def test_locations_and_times_come_from_cue_words() -> None:
    assert find_location("一位独行武者穿越废土城市寻找真相", "zh") == "废土城市"
    assert find_location("飞船终于降落在故乡的草原上。", "zh") == "草原"
    assert find_location("大家都笑了。", "zh") is None
    assert find_location("A lone swordsman crosses a ruined city", "en") == "ruined city"
    assert find_location("She walked into the dark forest.", "en") == "dark forest"
    assert find_time("黎明时分，他们到了。", "zh") == "dawn"
    assert find_time("夜幕降临。", "zh") == "night"
    assert find_time("The sunset burned red.", "en") == "dusk"
    assert find_time("He waited.", "en") is None


def test_scene_splitter_prefers_section_breaks_and_spreads_short_stories() -> None:
    units = [Unit("a", 0, 0), Unit("b", 0, 0), Unit("c", 0, 1), Unit("d", 1, 2)]
    assert group_units(units, 2) == [[0, 1, 2], [3]]
    assert group_units(units[:1], 3) == [[0]]  # never padded with empty scenes
    assert default_scene_count(1) == 3
    assert default_scene_count(9) == 5
    assert default_scene_count(500) == 12
