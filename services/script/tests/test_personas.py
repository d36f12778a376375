"""Personas on a real SQLite store (paging across presets and own personas, partial updates,
validation) and the persona as words for a screenwriter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed
from storyreel_core.persona_text import persona_brief, persona_prompt, persona_style
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_script.generate_script_job import plan_generation
from storyreel_script.persona_store import PRESETS, PersonaStore, persona_view


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[PersonaStore]:
    docs = await SqliteDocumentStore(tmp_path / "docs.db").connect()
    personas = PersonaStore(docs)
    await personas.ensure_indexes()
    yield personas
    await docs.close()


async def test_pages_run_through_presets_then_own_personas(store: PersonaStore) -> None:
    made = [await store.create("alice", {"name": f"p{i}"}) for i in range(3)]
    await store.create("bob", {"name": "bob's"})
    n = len(PRESETS)
    items, total = await store.list("alice", page=1, per_page=n + 1)
    assert total == n + 3
    assert [d["_id"] for d in items] == [p["_id"] for p in PRESETS] + [made[0]["_id"]]
    items, _ = await store.list("alice", page=2, per_page=n + 1)
    assert [d["_id"] for d in items] == [made[1]["_id"], made[2]["_id"]]
    presets, total = await store.list("alice", page=1, per_page=100, presets_only=True)
    assert total == n and all(p["is_preset"] for p in presets)


async def test_updates_merge_and_stay_valid(store: PersonaStore) -> None:
    doc = await store.create("alice", {"name": "Noir", "style": "film noir", "keywords": ["a"]})
    updated = await store.update("alice", doc["_id"], {"tone": "dark"})
    view = persona_view(updated)
    assert view["style"] == "film noir" and view["tone"] == "dark" and view["keywords"] == ["a"]
    with pytest.raises(ValidationFailed) as bad:
        await store.update("alice", doc["_id"], {"name": ""})
    assert bad.value.field == "name"
    with pytest.raises(NotFound):
        await store.update("bob", doc["_id"], {"tone": "x"})
    with pytest.raises(AppError) as preset:
        await store.delete("alice", PRESETS[0]["_id"])
    assert preset.value.code == Code.FORBIDDEN
    await store.delete("alice", doc["_id"])
    with pytest.raises(NotFound):
        await store.get("alice", doc["_id"])


def test_prompt_text_and_the_style_knob() -> None:
    persona = {"name": "Noir", "style": "film noir", "tone": "dark", "keywords": ["rain", "city"],
               "custom_prompt": "Never name the killer.", "target_audience": ""}  # fmt: skip
    text = persona_prompt(persona)
    assert "Style: film noir" in text and "Tone: dark" in text and "Keywords: rain, city" in text
    assert text.endswith("Never name the killer.") and "Audience" not in text
    assert "风格：film noir" in persona_prompt(persona, "zh")
    assert persona_style(persona) == "film noir, dark"
    assert persona_style(persona, "赛博朋克") == "赛博朋克"  # an explicit style wins
    spec = plan_generation(
        drama_id="d", prompt="A story.", input_type="prompt", input_content="",
        persona={"_id": "persona_1", **persona},
    )  # fmt: skip
    assert spec.style == "film noir, dark" and spec.persona == persona_brief(
        {"_id": "persona_1", **persona}
    )
    assert "Tone: dark" in spec.persona_prompt
