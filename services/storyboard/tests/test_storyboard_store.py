"""The storyboard repository on a real SQLite store and media folder: play order, reorder rules,
optimistic versions, owner scoping, deletion closing gaps, regeneration and drama cleanup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from storyreel_core.clock import utc_now
from storyreel_core.errors import AppError, Code, NotFound, ValidationFailed, VersionConflict
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_storyboard.storyboard_fields import storyboard_to_proto
from storyreel_storyboard.storyboard_store import ORDERS, StoryboardStore, arrange, media_prefix

OWNER, OTHER, DRAMA = "user_a", "user_b", "drama_1"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[StoryboardStore]:
    docs = await SqliteDocumentStore(tmp_path / "db.sqlite").connect()
    s = StoryboardStore(docs, FolderObjectStore(tmp_path / "media"))
    await s.ensure_indexes()
    yield s
    await docs.close()


def board(sid: str, *, owner: str = OWNER, drama: str = DRAMA, script: str = "script_1") -> Any:
    now = utc_now()
    return {
        "_id": sid,
        "owner_id": owner,
        "drama_id": drama,
        "script_id": script,
        "scene_id": "scene_001",
        "scene_number": 1,
        "shot_type": "medium",
        "camera_movement": "static",
        "description": f"shot {sid}",
        "prompt": "",
        "composition": {},
        "character_ids": [],
        "cast": [],
        "narration": "",
        "dialogue": [],
        "duration": 4.0,
        "image_key": "",
        "created_at": now,
        "updated_at": now,
    }


async def seeded(store: StoryboardStore, *ids: str, **kw: Any) -> list[str]:
    await store.insert_many([board(i, **kw) for i in ids])
    return list(ids)


async def ids_in_order(store: StoryboardStore, owner: str = OWNER) -> list[str]:
    return [d["_id"] for d in await store.ordered(owner, DRAMA)]


async def test_new_storyboards_follow_the_order_by_age_and_positions_are_one_to_n(
    store: StoryboardStore,
) -> None:
    await seeded(store, "sb_a", "sb_b", "sb_c")
    docs = await store.ordered(OWNER, DRAMA)
    assert [(d["_id"], d["position"]) for d in docs] == [("sb_a", 1), ("sb_b", 2), ("sb_c", 3)]
    await store.place(OWNER, DRAMA, ["sb_c", "sb_a"], replacing=[])
    # Placed ids come first in their order; the unplaced one follows.
    assert await ids_in_order(store) == ["sb_c", "sb_a", "sb_b"]
    page, total = await store.list_page(OWNER, DRAMA, page=2, per_page=2)
    assert total == 3 and [(d["_id"], d["position"]) for d in page] == [("sb_b", 3)]
    one = await store.get(OWNER, DRAMA, "sb_a")
    assert one["position"] == 2 and storyboard_to_proto(one).position == 2
    assert [d["_id"] for d in await store.many(OWNER, DRAMA, ["sb_b", "sb_c"])] == ["sb_b", "sb_c"]
    with pytest.raises(NotFound) as missing:
        await store.many(OWNER, DRAMA, ["sb_b", "sb_zz", "sb_yy"])
    assert "sb_zz" in missing.value.message


def test_arrange_skips_ids_without_documents() -> None:
    docs = [
        {"_id": "b", "created_at": "2"},
        {"_id": "a", "created_at": "1"},
        {"_id": "c", "created_at": "0"},
    ]
    arranged = arrange(["gone", "b", "a"], docs)
    assert [(d["_id"], d["position"]) for d in arranged] == [("b", 1), ("a", 2), ("c", 3)]


async def test_script_filter_keeps_drama_wide_positions(store: StoryboardStore) -> None:
    await seeded(store, "sb_1", "sb_3")
    await seeded(store, "sb_2", script="script_2")
    await store.place(OWNER, DRAMA, ["sb_1", "sb_2", "sb_3"], replacing=[])
    mine, total = await store.list_page(OWNER, DRAMA, page=1, per_page=10, script_id="script_1")
    assert total == 2 and [(d["_id"], d["position"]) for d in mine] == [("sb_1", 1), ("sb_3", 3)]


async def test_reorder_needs_the_full_set_once_and_sorts_by_position(
    store: StoryboardStore,
) -> None:
    await seeded(store, "sb_a", "sb_b", "sb_c")
    await seeded(store, "sb_x", drama="drama_2")
    await seeded(store, "sb_theirs", owner=OTHER)
    full = [("sb_c", 1), ("sb_a", 2), ("sb_b", 3)]
    with pytest.raises(ValidationFailed) as err:
        await store.reorder(OWNER, DRAMA, [])
    assert err.value.code == Code.VALIDATION and err.value.field == "order"
    for order in (full[:2], [("sb_c", 1), ("sb_a", 2), ("sb_a", 3)]):  # one missing; twice
        with pytest.raises(AppError) as conflict:  # not the drama's set once each
            await store.reorder(OWNER, DRAMA, order)
        assert conflict.value.code == Code.EXISTS and conflict.value.field == "order"
    for stranger in ("sb_nope", "sb_x", "sb_theirs"):
        with pytest.raises(NotFound):
            await store.reorder(OWNER, DRAMA, [*full[:2], (stranger, 3)])
    assert await ids_in_order(store) == ["sb_a", "sb_b", "sb_c"]  # untouched

    docs = await store.reorder(OWNER, DRAMA, [("sb_b", 3), ("sb_c", 1), ("sb_a", 2)])
    assert [(d["_id"], d["position"]) for d in docs] == [("sb_c", 1), ("sb_a", 2), ("sb_b", 3)]
    assert await ids_in_order(store) == ["sb_c", "sb_a", "sb_b"]
    # Positions only sort: holes, zero and ties (kept in the order sent) number 1..n.
    docs = await store.reorder(OWNER, DRAMA, [("sb_a", 9), ("sb_b", 0), ("sb_c", 9)])
    assert [(d["_id"], d["position"]) for d in docs] == [("sb_b", 1), ("sb_a", 2), ("sb_c", 3)]
    # Another owner's drama of the same id cannot be reordered with these ids.
    with pytest.raises(NotFound):
        await store.reorder(OTHER, DRAMA, full)


async def test_concurrent_reorders_leave_one_consistent_order(store: StoryboardStore) -> None:
    ids = await seeded(store, *(f"sb_{i}" for i in range(6)))
    orders = [list(reversed(ids)), ids[3:] + ids[:3], ids[1:] + ids[:1]]
    await asyncio.gather(
        *(store.reorder(OWNER, DRAMA, [(i, p) for p, i in enumerate(o, 1)]) for o in orders)
    )
    final = await store.ordered(OWNER, DRAMA)
    assert [d["_id"] for d in final] in orders
    assert [d["position"] for d in final] == [1, 2, 3, 4, 5, 6]


async def test_updates_check_fields_and_versions(store: StoryboardStore) -> None:
    await seeded(store, "sb_a", "sb_b")
    first = await store.get(OWNER, DRAMA, "sb_a")
    changes = {"description": "new", "shot_type": "close_up", "duration": 2.5}
    updated = await store.update(OWNER, DRAMA, "sb_a", changes, expected_version=first["version"])
    assert updated["version"] == first["version"] + 1 and updated["position"] == 1
    assert (updated["shot_type"], updated["duration"]) == ("close_up", 2.5)
    with pytest.raises(VersionConflict) as stale:
        await store.update(
            OWNER, DRAMA, "sb_a", {"description": "x"}, expected_version=first["version"]
        )
    assert stale.value.code == Code.EXISTS and stale.value.field == "version"
    unversioned = await store.update(OWNER, DRAMA, "sb_a", {"narration": "later"})
    assert unversioned["version"] == first["version"] + 2
    for bad in (
        {"shot_type": "dutch"},
        {"camera_movement": "spin"},
        {"duration": 0.4},
        {"duration": 60.5},
        {"duration": float("nan")},
        {"composition": [1, 2]},
        {"composition": "{not json"},
        {"character_ids": ["c"] * 3 + [f"c{i}" for i in range(30)]},
        {"dialogue": [{"character_id": "c", "text": ""}]},
        {"description": "x" * 5001},
        {"image_key": "dramas/other/secret.png"},
    ):
        with pytest.raises(ValidationFailed):
            await store.update(OWNER, DRAMA, "sb_b", bad)
    fresh = await store.update(OWNER, DRAMA, "sb_b", {"composition": '{"subject": "left"}'})
    assert fresh["composition"] == {"subject": "left"}
    with pytest.raises(NotFound):
        await store.update(OTHER, DRAMA, "sb_a", {"description": "stolen"})
    with pytest.raises(NotFound):
        await store.get(OTHER, DRAMA, "sb_a")
    with pytest.raises(NotFound):
        await store.get(OWNER, "drama_2", "sb_a")


async def test_delete_closes_the_gap_and_removes_media(store: StoryboardStore) -> None:
    await seeded(store, "sb_a", "sb_b", "sb_c", "sb_d")
    await store.reorder(OWNER, DRAMA, [("sb_d", 1), ("sb_c", 2), ("sb_b", 3), ("sb_a", 4)])
    key = media_prefix(DRAMA, "sb_c") + "frame.png"
    await store.objects.put_bytes(key, b"png", "image/png")
    with pytest.raises(NotFound):
        await store.delete(OTHER, DRAMA, "sb_c")
    await store.delete(OWNER, DRAMA, "sb_c")
    docs = await store.ordered(OWNER, DRAMA)
    assert [(d["_id"], d["position"]) for d in docs] == [("sb_d", 1), ("sb_b", 2), ("sb_a", 3)]
    assert await store.objects.stat(key) is None
    order = await store.docs.get(ORDERS, DRAMA)
    assert order is not None and order["ids"] == ["sb_d", "sb_b", "sb_a"]
    with pytest.raises(NotFound):
        await store.delete(OWNER, DRAMA, "sb_c")


async def test_regenerating_a_script_takes_the_place_of_its_earlier_storyboards(
    store: StoryboardStore,
) -> None:
    await seeded(store, "sb_intro", script="script_0")
    await seeded(store, "sb_old1", "sb_old2")
    await seeded(store, "sb_outro", script="script_2")
    await store.place(OWNER, DRAMA, ["sb_intro", "sb_old1", "sb_old2", "sb_outro"], replacing=[])
    await store.objects.put_bytes(media_prefix(DRAMA, "sb_old1") + "f.png", b"x", "image/png")
    await seeded(store, "sb_new1", "sb_new2", "sb_new3")
    replaced = await store.replace_generated(
        OWNER, DRAMA, "script_1", ["sb_new1", "sb_new2", "sb_new3"]
    )
    assert replaced == ["sb_old1", "sb_old2"]
    assert await ids_in_order(store) == ["sb_intro", "sb_new1", "sb_new2", "sb_new3", "sb_outro"]
    assert await store.objects.list_keys(media_prefix(DRAMA, "sb_old1")) == []
    # Running it again (a redelivered job) changes nothing.
    assert (
        await store.replace_generated(OWNER, DRAMA, "script_1", ["sb_new1", "sb_new2", "sb_new3"])
        == []
    )
    assert await ids_in_order(store) == ["sb_intro", "sb_new1", "sb_new2", "sb_new3", "sb_outro"]
    # A script with no earlier storyboards appends.
    await seeded(store, "sb_more", script="script_9")
    await store.replace_generated(OWNER, DRAMA, "script_9", ["sb_more"])
    assert (await ids_in_order(store))[-1] == "sb_more"


async def test_inserting_again_keeps_the_stored_documents(store: StoryboardStore) -> None:
    await seeded(store, "sb_a")
    await store.update(OWNER, DRAMA, "sb_a", {"description": "edited"})
    again = await store.insert_many([board("sb_a")])
    assert again[0]["description"] == "edited"
    assert await store.count(OWNER, DRAMA) == 1


async def test_drama_content_deletion_is_total_scoped_and_idempotent(
    store: StoryboardStore,
) -> None:
    await seeded(store, "sb_a", "sb_b")
    await seeded(store, "sb_keep", drama="drama_2")
    await store.place(OWNER, DRAMA, ["sb_b", "sb_a"], replacing=[])
    await store.objects.put_bytes(media_prefix(DRAMA, "sb_a") + "f.png", b"x", "image/png")
    await store.objects.put_bytes(media_prefix("drama_2", "sb_keep") + "f.png", b"x", "image/png")
    counts = await store.delete_drama_content(OWNER, DRAMA)
    assert counts["storyboards"] == 2 and counts["objects"] >= 1
    assert await store.ordered(OWNER, DRAMA) == []
    assert await store.docs.get(ORDERS, DRAMA) is None
    assert await store.objects.list_keys(f"dramas/{DRAMA}/") == []
    assert [d["_id"] for d in await store.ordered(OWNER, "drama_2")] == ["sb_keep"]
    assert await store.objects.list_keys("dramas/drama_2/") != []
    assert (await store.delete_drama_content(OWNER, DRAMA))["storyboards"] == 0
