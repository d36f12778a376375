"""The planner's helpers: narration splitting, balanced distribution, reading time."""

from __future__ import annotations

import pytest

from storyreel_core.drama_models import DialogueLine
from storyreel_storyboard.beat_distribution import distribute, scene_beats, split_narration
from storyreel_storyboard.reading_time import shot_duration, speech_seconds


def test_narration_splits_into_sentences_that_rejoin_exactly() -> None:
    zh = "夜幕降临，荒城空无一人。李雷走进客栈！他坐下了"
    assert split_narration(zh, "zh") == ["夜幕降临，荒城空无一人。", "李雷走进客栈！", "他坐下了"]
    en = "Anna waited. It was 3.5 miles away! She left"
    assert split_narration(en, "en") == ["Anna waited.", "It was 3.5 miles away!", "She left"]
    assert split_narration("   ", "en") == []


def test_scene_beats_open_with_narration_then_alternate() -> None:
    lines = [DialogueLine(character_id="a", text="x"), DialogueLine(character_id="b", text="y")]
    beats = scene_beats("One. Two. Three.", lines, "en")
    assert [b.text for b in beats] == ["One.", "x", "Two.", "y", "Three."]


def test_distribution_balances_reading_time_and_keeps_order() -> None:
    beats = scene_beats("短。" + "很长很长很长很长很长很长很长很长。" + "短。" + "短。", [], "zh")
    runs = distribute(beats, 2)
    assert [b.text for run in runs for b in run] == [b.text for b in beats]
    assert all(runs)
    assert [len(run) for run in runs] == [2, 2]


def test_reading_time_counts_cjk_chars_and_english_words() -> None:
    assert speech_seconds("") == 0.0
    assert speech_seconds("一二三四五六七八九") == pytest.approx(9 / 4.5 + 0.6)
    assert speech_seconds("one two three") == pytest.approx(3 / 2.6 + 0.6)
    assert shot_duration(["一二三"], 4.0) == 4.0
    assert shot_duration(["一" * 90], 4.0) == pytest.approx(20.6)
