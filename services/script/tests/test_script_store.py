"""Scripts and their versions on a real SQLite document store: saves, conflicts, restore, scope."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from storyreel_core.errors import Code, NotFound, ValidationFailed, VersionConflict
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_script.drama_store import DramaStore
from storyreel_script.script_store import SCRIPTS, ScriptStore, script_view
from storyreel_script.script_versions import VERSIONS

ALICE = "user_alice"
BOB = "user_bob"


@dataclass
class World:
    docs: SqliteDocumentStore
    dramas: DramaStore
    scripts: ScriptStore
    drama_id: str
    bob_drama_id: str


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    docs = await SqliteDocumentStore(tmp_path / "docs.db").connect()
    dramas = DramaStore(docs)
    scripts = ScriptStore(docs, dramas)
    await dramas.ensure_indexes()
    await scripts.ensure_indexes()
    mine = await dramas.create(ALICE, "Alice's drama", "", {})
    bobs = await dramas.create(BOB, "Bob's drama", "", {})
    yield World(docs, dramas, scripts, mine["_id"], bobs["_id"])
    await docs.close()


async def _script(w: World, title: str = "Pilot", content: str = "场景一：茶馆") -> str:
    doc = await w.scripts.create(ALICE, w.drama_id, title=title, content=content)
    return str(doc["_id"])


async def test_create_is_version_one_with_a_snapshot(world: World) -> None:
    doc = await world.scripts.create(
        ALICE,
        world.drama_id,
        title="  Pilot  ",
        content="Scene 1: a tea house. 苏梅笑了",
        scenes=[{"location": "tea house"}, {"location": "tower"}],
        metadata={"genre": "wuxia"},
    )
    view = script_view(doc)
    assert view["title"] == "Pilot" and view["status"] == "draft" and view["version"] == 1
    assert view["scene_count"] == 2
    assert view["word_count"] == 5 + 4  # five English tokens, four ideographs
    assert view["metadata"] == {"genre": "wuxia"}
    versions, total = await world.scripts.list_versions(
        ALICE, world.drama_id, doc["_id"], page=1, per_page=10
    )
    assert total == 1
    assert versions[0]["number"] == 1 and versions[0]["message"] == "created"
    assert versions[0]["content"] == doc["content"]


async def test_every_save_is_a_version_newest_first(world: World) -> None:
    sid = await _script(world)
    await world.scripts.update(ALICE, world.drama_id, sid, {"content": "v2"}, message="tighter")
    third = await world.scripts.update(ALICE, world.drama_id, sid, {"title": "Renamed"})
    assert third["version"] == 3
    assert third["content"] == "v2" and third["title"] == "Renamed"  # absent fields stay
    versions, total = await world.scripts.list_versions(
        ALICE, world.drama_id, sid, page=1, per_page=2
    )
    assert total == 3
    assert [v["number"] for v in versions] == [3, 2]
    assert [v["message"] for v in versions] == ["updated", "tighter"]
    older, _ = await world.scripts.list_versions(ALICE, world.drama_id, sid, page=2, per_page=2)
    assert [v["number"] for v in older] == [1]


async def test_a_stale_version_is_refused_and_nothing_is_saved(world: World) -> None:
    sid = await _script(world)
    await world.scripts.update(ALICE, world.drama_id, sid, {"content": "v2"}, expected_version=1)
    with pytest.raises(VersionConflict) as caught:
        await world.scripts.update(
            ALICE, world.drama_id, sid, {"content": "lost"}, expected_version=1
        )
    assert caught.value.code == Code.EXISTS and caught.value.field == "version"
    current = await world.scripts.get(ALICE, world.drama_id, sid)
    assert current["content"] == "v2" and current["version"] == 2
    assert await world.docs.count(VERSIONS, {"script_id": sid}) == 2


async def test_concurrent_saves_without_a_version_each_get_their_own(world: World) -> None:
    sid = await _script(world)
    await asyncio.gather(
        *(
            world.scripts.update(ALICE, world.drama_id, sid, {"content": f"edit {i}"})
            for i in range(5)
        )
    )
    versions, total = await world.scripts.list_versions(
        ALICE, world.drama_id, sid, page=1, per_page=10
    )
    assert total == 6
    assert sorted(v["number"] for v in versions) == [1, 2, 3, 4, 5, 6]


async def test_restore_makes_a_new_version_and_keeps_history(world: World) -> None:
    sid = await _script(world, content="first draft")
    await world.scripts.update(
        ALICE, world.drama_id, sid, {"content": "second", "status": "completed"}
    )
    versions, _ = await world.scripts.list_versions(ALICE, world.drama_id, sid, page=1, per_page=9)
    first = next(v for v in versions if v["number"] == 1)
    restored = await world.scripts.restore(ALICE, world.drama_id, sid, first["_id"])
    assert restored["version"] == 3 and restored["content"] == "first draft"
    assert restored["status"] == "completed"  # the status is the script's, not the snapshot's
    versions, total = await world.scripts.list_versions(
        ALICE, world.drama_id, sid, page=1, per_page=9
    )
    assert total == 3
    assert versions[0]["message"] == "restored from version 1"
    assert [v["content"] for v in versions] == ["first draft", "second", "first draft"]
    with pytest.raises(VersionConflict):
        await world.scripts.restore(ALICE, world.drama_id, sid, first["_id"], expected_version=2)


async def test_listing_is_newest_first_and_paged(world: World) -> None:
    ids = [await _script(world, title=f"Script {i}") for i in range(5)]
    page1, total = await world.scripts.list_scripts(ALICE, world.drama_id, page=1, per_page=2)
    page3, _ = await world.scripts.list_scripts(ALICE, world.drama_id, page=3, per_page=2)
    assert total == 5
    assert [d["_id"] for d in page1] == [ids[4], ids[3]]
    assert [d["_id"] for d in page3] == [ids[0]]


async def test_another_owner_sees_nothing(world: World) -> None:
    sid = await _script(world)
    versions, _ = await world.scripts.list_versions(ALICE, world.drama_id, sid, page=1, per_page=1)
    vid = versions[0]["_id"]
    calls = [
        world.scripts.get(BOB, world.drama_id, sid),
        world.scripts.list_scripts(BOB, world.drama_id, page=1, per_page=5),
        world.scripts.update(BOB, world.drama_id, sid, {"content": "x"}),
        world.scripts.list_versions(BOB, world.drama_id, sid, page=1, per_page=5),
        world.scripts.restore(BOB, world.drama_id, sid, vid),
        world.scripts.delete(BOB, world.drama_id, sid),
        world.scripts.create(BOB, world.drama_id, title="t", content="c"),
        # Bob's own drama does not reach Alice's script either.
        world.scripts.get(BOB, world.bob_drama_id, sid),
        world.scripts.restore(BOB, world.bob_drama_id, sid, vid),
    ]
    for pending in calls:
        with pytest.raises(NotFound):
            await pending
    assert (await world.scripts.get(ALICE, world.drama_id, sid))["version"] == 1


async def test_ids_must_match_their_drama_and_script(world: World) -> None:
    other = await world.dramas.create(ALICE, "Second", "", {})
    sid = await _script(world)
    sid2 = await _script(world, title="Another")
    versions, _ = await world.scripts.list_versions(ALICE, world.drama_id, sid, page=1, per_page=1)
    with pytest.raises(NotFound):
        await world.scripts.get(ALICE, other["_id"], sid)
    with pytest.raises(NotFound):  # a version of another script
        await world.scripts.restore(ALICE, world.drama_id, sid2, versions[0]["_id"])
    with pytest.raises(NotFound):
        await world.scripts.get(ALICE, world.drama_id, "script_nope")


async def test_bad_fields_are_validation_errors(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await world.scripts.create(ALICE, world.drama_id, title=" ", content="c")
    assert caught.value.field == "title"
    with pytest.raises(ValidationFailed) as caught:
        await world.scripts.create(ALICE, world.drama_id, title="t", content="  ")
    assert caught.value.field == "content"
    sid = await _script(world)
    with pytest.raises(ValidationFailed) as caught:
        await world.scripts.update(ALICE, world.drama_id, sid, {"status": "published"})
    assert caught.value.field == "status"


async def test_create_with_a_job_key_is_idempotent(world: World) -> None:
    for _ in range(2):
        doc = await world.scripts.create(
            ALICE, world.drama_id, title="Gen", content="c", script_id="script_fromtask"
        )
        assert doc["_id"] == "script_fromtask" and doc["version"] == 1
    assert await world.docs.count(SCRIPTS, {"_id": "script_fromtask"}) == 1
    assert await world.docs.count(VERSIONS, {"script_id": "script_fromtask"}) == 1


async def test_delete_script_and_drama_content(world: World) -> None:
    other = await world.dramas.create(ALICE, "Keep", "", {})
    kept = await world.scripts.create(ALICE, other["_id"], title="Kept", content="c")
    gone = await _script(world)
    await _script(world, title="Also gone")
    await world.scripts.update(ALICE, world.drama_id, gone, {"content": "v2"})
    await world.scripts.delete(ALICE, world.drama_id, gone)
    with pytest.raises(NotFound):
        await world.scripts.get(ALICE, world.drama_id, gone)
    assert await world.docs.count(VERSIONS, {"script_id": gone}) == 0
    assert await world.scripts.delete_drama_content(BOB, world.drama_id) == 0  # scoped
    assert await world.scripts.delete_drama_content(ALICE, world.drama_id) == 1
    assert await world.docs.count(SCRIPTS, {"drama_id": world.drama_id}) == 0
    assert await world.docs.count(VERSIONS, {"drama_id": world.drama_id}) == 0
    assert await world.docs.count(VERSIONS, {"script_id": kept["_id"]}) == 1
    assert await world.scripts.delete_drama_content(ALICE, world.drama_id) == 0  # idempotent
