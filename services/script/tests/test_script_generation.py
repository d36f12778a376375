"""Script rules, the screenplay renderer and the `generate_script` job on a real store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import pytest

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.errors import AppError, Code, ValidationFailed
from storyreel_core.providers.config import load_providers
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.render_models import DEFAULT_SCENE_COUNT
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_script import script_rules as rules
from storyreel_script.drama_store import DramaStore
from storyreel_script.generate_script_job import (
    MAX_SOURCE_BYTES,
    ScriptGenerator,
    plan_generation,
    script_id_for,
)
from storyreel_script.screenwriter import MAX_STORY_CHARS, write_screenplay
from storyreel_script.script_render import render_screenplay, zh_number
from storyreel_script.script_store import ScriptStore

from .story_samples import EN_CHAPTER, ZH_MARKDOWN

OWNER = "user_gen"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", 0),
        ("hello world", 2),
        ("  many   spaces\nand\tlines ", 4),
        ("你好世界", 4),
        ("苏梅说：OK, let's go。", 3 + 3),
        ("— … ！", 0),  # punctuation alone is no word
        ("Scene 1: 茶馆（日）", 2 + 3),
    ],
)
def test_word_count(text: str, words: int) -> None:
    assert rules.word_count(text) == words


def test_lengths_pick_scene_counts() -> None:
    assert [rules.scene_count_for(n) for n in ("short", "medium", "long", "")] == [3, 6, 10, 6]
    assert rules.scene_count_for("short", 12) == 12
    with pytest.raises(ValidationFailed):
        rules.scene_count_for("epic")
    with pytest.raises(ValidationFailed):
        rules.scene_count_for("short", 31)


def test_scenes_and_metadata_are_held_to_their_sizes() -> None:
    """Their shapes are the wire's (JsonObjects); their sizes are the script's rules."""
    assert rules.parse_scenes([]) == [] and rules.parse_metadata({}) == {}
    big = "x" * rules.MAX_SCENES_JSON
    with pytest.raises(ValidationFailed) as caught:
        rules.parse_scenes([{"narration": big}])
    assert caught.value.field == "scenes"
    with pytest.raises(ValidationFailed) as caught:
        rules.parse_metadata({"notes": "x" * rules.MAX_METADATA_JSON})
    assert caught.value.field == "metadata"


def test_chinese_scene_numbers() -> None:
    assert [zh_number(n) for n in (1, 9, 10, 11, 20, 23, 30)] == [
        "一",
        "九",
        "十",
        "十一",
        "二十",
        "二十三",
        "三十",
    ]


def test_rendered_screenplay_reads_like_a_script() -> None:
    zh = render_screenplay(write_screenplay(ZH_MARKDOWN, scene_count=3))
    assert "场景一：" in zh and "场景三：" in zh and "（" in zh
    # Who says what, in the order it is heard: 林月's order comes before 王强's answer.
    assert zh.index("林月：坚持住！") < zh.index("王强：明白！")
    en = render_screenplay(write_screenplay(EN_CHAPTER, scene_count=2))
    assert "Scene 1: " in en and "Scene 2: " in en
    assert "Narrator: " in en or any(line.isupper() for line in en.splitlines())


def test_plan_picks_the_story_from_the_input_type() -> None:
    plan = plan_generation(
        drama_id="d", prompt="A fox and a crow.", input_type="", input_content="", length="short"
    )
    assert plan.story == "A fox and a crow." and plan.input_type == "prompt"
    assert plan.scene_count == 3
    novel = plan_generation(
        drama_id="d", prompt="make it dark", input_type="novel", input_content="\ufeff第一章。"
    )
    assert novel.story == "第一章。" and novel.prompt == "make it dark" and novel.scene_count == 6


@pytest.mark.parametrize(
    ("prompt", "input_type", "content", "field"),
    [
        ("", "prompt", "", "prompt"),
        ("  ", "prompt", "", "prompt"),
        ("", "novel", "", "input_content"),
        (" ", "markdown", " \n ", "input_content"),
    ],
)
def test_plan_refuses_empty_sources(prompt: str, input_type: str, content: str, field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        plan_generation(drama_id="d", prompt=prompt, input_type=input_type, input_content=content)
    assert caught.value.field == field


def test_a_document_type_without_a_document_reads_the_prompt() -> None:
    """A novel or Markdown request whose document is blank is written from its prompt (the
    OpenAPI document cannot say "input_content is required when input_type is novel")."""
    plan = plan_generation(drama_id="d", prompt="一个故事。", input_type="novel", input_content=" ")
    assert plan.story == "一个故事。"


def test_plan_refuses_bad_choices_and_oversized_text() -> None:
    with pytest.raises(ValidationFailed):
        plan_generation(drama_id="d", prompt="x", input_type="poem", input_content="")
    with pytest.raises(ValidationFailed):
        plan_generation(drama_id="d", prompt="x", input_type="", input_content="", language="fr")
    with pytest.raises(AppError) as caught:
        plan_generation(
            drama_id="d", prompt="", input_type="novel", input_content="a" * (MAX_SOURCE_BYTES + 1)
        )
    assert caught.value.code == Code.FILE_TOO_LARGE
    with pytest.raises(ValidationFailed) as bad_seed:
        plan_generation(drama_id="d", prompt="x", input_type="", input_content="", seed=-1)
    assert bad_seed.value.field == "seed"


def test_the_default_scene_count_is_the_renders() -> None:
    """A render without scene_count asks for DEFAULT_SCENE_COUNT, the studio's own default."""
    assert rules.scene_count_for("") == DEFAULT_SCENE_COUNT


def test_a_personas_prompt_is_in_the_storys_language() -> None:
    """No language asked for: a Chinese story gets the persona's prompt in Chinese."""
    persona = {"id": "p1", "name": "老周", "style": "悬疑", "tone": "冷静"}
    zh = plan_generation(
        drama_id="d", prompt="", input_type="novel", input_content="他走进茶馆。", persona=persona
    )
    assert "语调：冷静" in zh.persona_prompt and "Tone" not in zh.persona_prompt
    en = plan_generation(
        drama_id="d", prompt="", input_type="novel", input_content="He came in.", persona=persona
    )
    assert "Tone: 冷静" in en.persona_prompt
    asked = plan_generation(
        drama_id="d", prompt="", input_type="novel", input_content="He came in.",
        language="zh", persona=persona,
    )  # fmt: skip
    assert "语调：冷静" in asked.persona_prompt


def test_plan_keeps_the_seed_for_the_screenplay() -> None:
    """A workflow's (a render's) seed reaches the screenwriter; the studio's default is 0."""
    assert plan_generation(drama_id="d", prompt="x", input_type="", input_content="").seed == 0
    plan = plan_generation(drama_id="d", prompt="x", input_type="", input_content="", seed=7)
    assert plan.seed == 7


def test_plan_keeps_what_the_screenwriter_reads() -> None:
    paragraph = "他走进茶馆。" * 50 + "\n"
    novel = paragraph * (MAX_STORY_CHARS // len(paragraph) + 10)
    plan = plan_generation(drama_id="d", prompt="", input_type="novel", input_content=novel)
    assert plan.truncated and len(plan.story) <= MAX_STORY_CHARS
    assert plan.story.endswith("。") and plan.source_chars == len(novel)


class FakeContext:
    def __init__(self) -> None:
        self.steps: list[str] = []

    async def progress(self, completed: int, total: int, step: str, **_: Any) -> None:
        self.steps.append(step)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[DramaStore, ScriptStore]]:
    docs = await SqliteDocumentStore(tmp_path / "docs.db").connect()
    dramas = DramaStore(docs)
    scripts = ScriptStore(docs, dramas)
    await dramas.ensure_indexes()
    await scripts.ensure_indexes()
    yield dramas, scripts
    await docs.close()


async def test_the_job_stores_a_completed_script_once(
    stores: tuple[DramaStore, ScriptStore],
) -> None:
    dramas, scripts = stores
    drama = await dramas.create(OWNER, "Gen", "", {})
    plan = plan_generation(
        drama_id=drama["_id"],
        prompt="",
        input_type="markdown",
        input_content=ZH_MARKDOWN,
        style="水墨",
        length="short",
        source_name="chapter.md",
    )
    job = Job(
        task_id="task_abc123",
        kind="generate_script",
        owner_id=OWNER,
        payload=plan.model_dump(mode="json"),
        attempt=1,
    )
    ctx = FakeContext()
    generator = ScriptGenerator(scripts, ProviderRegistry(load_providers(None)))
    result = await generator.run(job, cast(JobContext, ctx))
    assert ctx.steps == ["writing screenplay", "saving script"]
    assert result["id"] == script_id_for("task_abc123") == "script_abc123"
    assert result["status"] == "completed" and result["drama_id"] == drama["_id"]
    assert result["scene_count"] == 3 and len(result["scenes"]) == 3
    assert result["content"].startswith("《") and "场景一：" in result["content"]
    meta = result["metadata"]
    assert meta["language"] == "zh" and meta["style"] == "水墨"
    assert meta["input_type"] == "markdown" and meta["source_name"] == "chapter.md"
    assert meta["characters"] and {"id", "name"} <= set(meta["characters"][0])
    assert meta["generator"] == {"provider": "offline", "model": "rule-based"}
    assert result["usage"]["calls"] == 0 and result["cost"] == 0
    # A redelivered job finds its script instead of writing a second one.
    again = await generator.run(job, cast(JobContext, FakeContext()))
    assert again["id"] == result["id"] and again["version"] == 1
    _, total = await scripts.list_scripts(OWNER, drama["_id"], page=1, per_page=10)
    assert total == 1


async def test_the_job_keeps_long_sentences_whole_and_notes_fewer_scenes(
    stores: tuple[DramaStore, ScriptStore],
) -> None:
    """Issue 13 through the generate job: long sentences (~70 Chinese, ~160 English
    characters) keep their tails, and `length: medium` (6 scenes) does not pad 2 sentences."""
    dramas, scripts = stores
    drama = await dramas.create(OWNER, "Long", "", {})
    zh = (
        "林小雨在钟楼下等了三个小时，终于看见哥哥林大山从人群里走出来，手里还攥着那封写给母亲"
        "却始终没有寄出的信，她一下子就明白了他这些年的秘密。"
    )
    en = (
        "When the last ferry finally pulled away from the flooded pier, Eleanor realised that "
        "the letter she had carried for eleven years, folded inside her grandmother's prayer "
        "book, had never been meant for her at all."
    )
    for number, (story, other) in enumerate([(zh, "她笑了。"), (en, "She smiled.")]):
        plan = plan_generation(
            drama_id=drama["_id"], prompt=f"{story} {other}", input_type="", input_content=""
        )
        assert plan.scene_count == 6
        job = Job(
            task_id=f"task_long{number}",
            kind="generate_script",
            owner_id=OWNER,
            payload=plan.model_dump(mode="json"),
            attempt=1,
        )
        generator = ScriptGenerator(scripts, ProviderRegistry(load_providers(None)))
        result = await generator.run(job, cast(JobContext, FakeContext()))
        heard = [line["text"] for scene in result["scenes"] for line in scene["lines"]]
        assert heard == [story, other]
        assert story in result["content"]
        assert result["scene_count"] == 2
        assert "6 scenes" in result["metadata"]["notes"][0]


async def test_without_a_drama_the_screenplay_is_the_result_and_nothing_is_stored(
    stores: tuple[DramaStore, ScriptStore],
) -> None:
    """A seed 004 draft's screenplay: GenerateScript with no drama stores no script."""
    _, scripts = stores
    plan = plan_generation(
        drama_id="", prompt="林风走进茶馆。苏梅为他倒茶。", input_type="prompt", input_content=""
    )
    assert plan.drama_id == "" and plan.scene_count == DEFAULT_SCENE_COUNT
    job = Job(
        task_id="task_draft1",
        kind="generate_script",
        owner_id=OWNER,
        payload=plan.model_dump(mode="json"),
        attempt=1,
    )
    ctx = FakeContext()
    generator = ScriptGenerator(scripts, ProviderRegistry(load_providers(None)))
    result = await generator.run(job, cast(JobContext, ctx))
    assert ctx.steps == ["writing screenplay"]
    screenplay = result["screenplay"]
    assert screenplay["language"] == "zh" and len(screenplay["scenes"]) == 2
    assert "苏梅" in {c["name"] for c in screenplay["characters"]}
    assert result["generator"] == {"provider": "offline", "model": "rule-based"}
    assert "id" not in result and result["cost"] == 0
    assert await scripts.docs.find("scripts", {"owner_id": OWNER}) == []
