"""The LLM screenwriter's contract, with a scripted `TextModel` standing in for the model.

The scripted model returns fixed drafts (as pydantic-ai's deterministic test model does), so
these tests pin down what the screenwriter makes of an answer — good, partial or wrong —
without a model; the real model path is tests/test_providers_e2e.py (llama.cpp + SmolLM2).
"""

from __future__ import annotations

from typing import Any

import pytest

from storyreel_core.persona_text import persona_prompt
from storyreel_core.providers.ports import SchemaT, TextRequest, TextResult, Usage
from storyreel_script.llm_screenwriter import build_system, write_screenplay_llm

STORY = (
    "Mara kept the lighthouse on the edge of the grey sea. One stormy night a small boat "
    'drifted toward the rocks. "Hold on!" Mara shouted into the wind. She lit the great lamp '
    "and the boat turned away from danger. At dawn a young fisherman named Tom climbed the "
    'stairs. "You saved my life," Tom said.'
)
ZH_STORY = (
    "夜色笼罩着荒城。林风走进茶馆，遇见老板娘苏梅。"
    "苏梅低声说：“真相在北边的高塔。”林风说：“我这就去。”"
)


class ScriptedModel:
    """A TextModel that answers each request with the next scripted draft."""

    provider = "scripted"
    model = "drafts"

    def __init__(self, *drafts: dict[str, Any]) -> None:
        self.drafts = list(drafts)
        self.requests: list[TextRequest[Any]] = []

    async def generate(self, request: TextRequest[SchemaT]) -> TextResult[SchemaT]:
        self.requests.append(request)
        value = request.schema.model_validate(self.drafts.pop(0))
        return TextResult(value=value, usage=Usage("scripted", "drafts", "text"))


def _draft(**changes: Any) -> dict[str, Any]:
    draft: dict[str, Any] = {
        "title": "The Lighthouse",
        "characters": [
            {"name": "Mara", "gender": "female", "description": "keeper, grey coat"},
            {"name": "Tom", "gender": "male", "description": "young fisherman"},
        ],
        "scenes": [
            {"start": 1, "location": "lighthouse", "time": "night"},
            {"start": 5, "location": "stairs", "time": "dawn"},
        ],
        "speakers": [{"quote": 1, "speaker": "Mara"}, {"quote": 2, "speaker": "Tom"}],
    }
    draft.update(changes)
    return draft


async def test_the_screenplay_keeps_every_sentence_and_names_each_speaker() -> None:
    model = ScriptedModel(_draft())
    play = await write_screenplay_llm(model, STORY, scene_count=2, style="noir")
    request = model.requests[0]
    schema = request.schema.model_json_schema()
    assert (
        schema["properties"]["scenes"]["minItems"]
        == 2
        == schema["properties"]["scenes"]["maxItems"]
    )
    assert '6. "You saved my life," Tom said.' in request.prompt
    assert "Quotes:\n1. Hold on!\n2. You saved my life." in request.prompt
    assert [c.name for c in play.characters] == ["Mara", "Tom"]
    assert [c.gender for c in play.characters] == ["female", "male"]
    ids = {c.name: c.id for c in play.characters}
    lines = [(d.character_id, d.text) for s in play.scenes for d in s.dialogue]
    assert lines == [(ids["Mara"], "Hold on!"), (ids["Tom"], "You saved my life.")]
    assert [(s.location, s.time) for s in play.scenes] == [
        ("lighthouse", "night"),
        ("stairs", "dawn"),
    ]
    narration = " ".join(s.narration for s in play.scenes)
    for sentence in ("Mara kept the lighthouse", "She lit the great lamp", "At dawn a young"):
        assert sentence in narration
    assert play.scenes[1].narration.endswith("climbed the stairs.")  # nothing added after
    assert "noir" in play.scenes[0].prompt and "Mara (woman)" in play.scenes[0].prompt


async def test_invented_names_and_wrong_speakers_fall_back_to_the_story() -> None:
    draft = _draft(
        characters=[
            {"name": "Lighthouse", "gender": "unknown", "description": "a tower"},
            {"name": "Mara", "gender": "female", "description": "keeper"},
            {"name": "Captain Nemo", "gender": "male", "description": "invented"},
        ],
        speakers=[{"quote": 1, "speaker": "Captain Nemo"}],
    )
    play = await write_screenplay_llm(ScriptedModel(draft), STORY, scene_count=2)
    assert [c.name for c in play.characters] == ["Mara"]  # "Lighthouse" is not in the text
    assert all(d.character_id == play.characters[0].id for s in play.scenes for d in s.dialogue)


async def test_missing_scene_breaks_are_completed_without_losing_sentences() -> None:
    draft = _draft(scenes=[{"start": 1, "location": "sea", "time": "night"}] * 3)
    play = await write_screenplay_llm(ScriptedModel(draft), STORY, scene_count=3)
    assert len(play.scenes) == 3
    assert [s.number for s in play.scenes] == [1, 2, 3]
    assert sum(len(s.dialogue) for s in play.scenes) == 2


async def test_a_chinese_story_uses_the_chinese_prompt() -> None:
    draft = {
        "title": "荒城",
        "characters": [
            {"name": "林风", "gender": "male", "description": "独行武者"},
            {"name": "苏梅", "gender": "female", "description": "茶馆老板娘"},
        ],
        "scenes": [{"start": 1, "location": "茶馆", "time": "night"}],
        "speakers": [{"quote": 1, "speaker": "苏梅"}, {"quote": 2, "speaker": "林风"}],
    }
    model = ScriptedModel(draft)
    play = await write_screenplay_llm(model, ZH_STORY, scene_count=1)
    assert "改编成短剧剧本" in model.requests[0].system
    assert play.language == "zh"
    names = {c.id: c.name for c in play.characters}
    assert [(names[d.character_id], d.text) for d in play.scenes[0].dialogue] == [
        ("苏梅", "真相在北边的高塔。"),
        ("林风", "我这就去。"),
    ]


async def test_an_answer_outside_the_schema_is_refused_by_validation() -> None:
    with pytest.raises(ValueError):
        await write_screenplay_llm(ScriptedModel(_draft(scenes=[])), STORY, scene_count=2)


async def test_lines_keep_the_texts_order_of_narration_and_quotes() -> None:
    """A question answered by a nod is heard before the nod, whoever wrote the screenplay."""
    story = "小禾拉住爷爷的袖子：“你要去救人吗？”周海沉默了很久，终于点了点头。"
    draft = {
        "title": "救人",
        "characters": [
            {"name": "小禾", "gender": "female", "description": "girl"},
            {"name": "周海", "gender": "male", "description": "grandfather"},
        ],
        "scenes": [{"start": 1, "location": "村口", "time": "day"}],
        "speakers": [{"quote": 1, "speaker": "小禾"}],
    }
    play = await write_screenplay_llm(ScriptedModel(draft), story, scene_count=1)
    names = {c.id: c.name for c in play.characters}
    heard = [(names.get(line.speaker, line.speaker), line.text) for line in play.scenes[0].lines]
    question = heard.index(("小禾", "你要去救人吗？"))
    nod = next(i for i, (who, text) in enumerate(heard) if "点了点头" in text)
    assert heard[nod][0] == "narrator" and question < nod, heard


async def test_a_persona_reaches_the_system_and_user_prompts() -> None:
    """A persona's style, tone and custom prompt are sent to the model in the system turn,
    after the screenwriter's contract; without one the system turn is the contract alone."""
    persona = {
        "name": "Night narrator",
        "style": "film noir",
        "tone": "wry and hushed",
        "custom_prompt": "Keep every title under four words.",
    }
    model = ScriptedModel(_draft(), _draft())
    text = persona_prompt(persona, "en")
    await write_screenplay_llm(model, STORY, scene_count=2, persona_prompt=text)
    await write_screenplay_llm(model, STORY, scene_count=2)
    with_persona, without = model.requests
    assert "Style: film noir" in with_persona.system
    assert "Tone: wry and hushed" in with_persona.system
    assert with_persona.system.endswith("Keep every title under four words.")
    assert with_persona.system.startswith(build_system("en"))
    assert without.system == build_system("en") and "wry" not in without.system
    assert with_persona.prompt == without.prompt  # the story turn is the same
