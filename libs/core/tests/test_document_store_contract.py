"""One `DocumentStore` contract, run against SQLite, nx-27017 and (when configured) MongoDB.

Where nx-27017 differs from a real MongoDB, the adapter keeps to what both do alike:
* nx-27017's `find_one_and_update` answers "no document" instead of raising a duplicate-key
  error, so the adapter writes with `update_one`/`replace_one` filtered on `{_id, version}`.
* nx-27017's `{"$ne": None}` also matches documents that lack the field (MongoDB does not), so
  the adapter sends `{"$nin": [None]}`, which both answer as MongoDB's `$ne: null`.
* nx-27017 ignores index names and `partialFilterExpression`; its unique indexes let any number
  of documents lack the field, as SQLite does. On MongoDB the adapter gets the same effect with
  a partial index on `$exists: true`. (An explicit `None` in a unique field still collides on
  MongoDB but not on SQLite / nx-27017; the contract leaves that case out.)
* Both SQLite stores compare booleans as 0/1 (`{"flag": False}` also matches `0`) and `$regex`
  also matches numbers; MongoDB keeps types apart. The contract only compares like with like.
* SQLite's LIKE folds case for ASCII letters only; MongoDB folds other scripts too. Keyword
  search is tested with ASCII case and with Chinese text (which has no case).
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, NotFound, ValidationFailed, VersionConflict
from storyreel_core.stores.document_store import IndexSpec
from storyreel_core.stores.sqlite_store import SqliteDocumentStore

C = "items"


async def _seed(store: Any) -> None:
    docs = [
        {"_id": "a", "n": 1, "name": "Alpha", "tags": "x", "flag": True, "meta": {"k": "p"}},
        {"_id": "b", "n": 2, "name": "beta", "tags": "y", "flag": False, "meta": {"k": "q"}},
        {"_id": "c", "n": 3, "name": "Gamma", "tags": "x", "flag": True, "meta": {"k": "p"}},
        {"_id": "d", "n": 4, "name": "delta", "tags": "z", "flag": False, "opt": None},
        {"_id": "e", "n": 5, "name": "Epsilon", "tags": "y", "flag": True, "opt": "set"},
    ]
    for doc in docs:
        await store.insert(C, doc)


async def _ids(store: Any, flt: Any = None, **kw: Any) -> list[str]:
    return [d["_id"] for d in await store.find(C, flt, **kw)]


async def test_insert_and_get(document_store: Any) -> None:
    doc = {"_id": "u1", "title": "故事", "meta": {"a": [1, 2], "b": {"c": None}}, "score": 1.5}
    stored = await document_store.insert(C, doc)
    assert stored["version"] == 1
    got = await document_store.get(C, "u1")
    assert got == {**doc, "version": 1}
    assert await document_store.get(C, "missing") is None
    assert await document_store.get("never_written", "u1") is None


async def test_insert_requires_string_id(document_store: Any) -> None:
    with pytest.raises(ValidationFailed):
        await document_store.insert(C, {"title": "no id"})


async def test_duplicate_id(document_store: Any) -> None:
    await document_store.insert(C, {"_id": "dup", "v": 1})
    with pytest.raises(AlreadyExists):
        await document_store.insert(C, {"_id": "dup", "v": 2})
    assert (await document_store.get(C, "dup"))["v"] == 1


async def test_unique_index(document_store: Any) -> None:
    specs = [IndexSpec(("owner", "email"), unique=True), IndexSpec(("created",))]
    await document_store.ensure_indexes(C, specs)
    await document_store.ensure_indexes(C, specs)  # idempotent
    await document_store.insert(C, {"_id": "1", "owner": "o", "email": "a@x"})
    await document_store.insert(C, {"_id": "2", "owner": "o", "email": "b@x"})
    await document_store.insert(C, {"_id": "3", "owner": "p", "email": "a@x"})
    with pytest.raises(AlreadyExists):
        await document_store.insert(C, {"_id": "4", "owner": "o", "email": "a@x"})
    # Documents lacking the unique fields don't collide with each other.
    await document_store.insert(C, {"_id": "5", "other": 1})
    await document_store.insert(C, {"_id": "6", "other": 2})
    with pytest.raises(AlreadyExists):
        await document_store.replace(C, {"_id": "2", "owner": "o", "email": "a@x"})
    with pytest.raises(AlreadyExists):
        await document_store.update(C, "2", {"email": "a@x"})
    assert (await document_store.get(C, "2")) == {
        "_id": "2",
        "owner": "o",
        "email": "b@x",
        "version": 1,
    }
    assert await document_store.count(C) == 5


async def test_unique_index_on_nested_field(document_store: Any) -> None:
    await document_store.ensure_indexes(C, [IndexSpec(("meta.slug",), unique=True, name="slug")])
    await document_store.insert(C, {"_id": "1", "meta": {"slug": "s"}})
    with pytest.raises(AlreadyExists):
        await document_store.insert(C, {"_id": "2", "meta": {"slug": "s"}})


async def test_equality(document_store: Any) -> None:
    await _seed(document_store)
    assert await _ids(document_store, {"tags": "x"}) == ["a", "c"]
    assert await _ids(document_store, {"meta.k": "p"}) == ["a", "c"]
    assert await _ids(document_store, {"meta.k": "p", "n": 3}) == ["c"]
    assert await _ids(document_store, {"_id": "b"}) == ["b"]
    assert await _ids(document_store, {"flag": True}) == ["a", "c", "e"]
    assert await _ids(document_store, {"flag": False}) == ["b", "d"]
    assert await _ids(document_store, {"name": "alpha"}) == []  # equality is case-sensitive
    assert await _ids(document_store, {"version": 1}) == ["a", "b", "c", "d", "e"]


async def test_none_matches_null_and_missing(document_store: Any) -> None:
    await _seed(document_store)
    assert await _ids(document_store, {"opt": None}) == ["a", "b", "c", "d"]
    assert await _ids(document_store, {"opt": {"$ne": None}}) == ["e"]
    assert await _ids(document_store, {"meta.k": None}) == ["d", "e"]
    assert await _ids(document_store, {"meta.k": {"$ne": None}}) == ["a", "b", "c"]


async def test_in_and_ne(document_store: Any) -> None:
    await _seed(document_store)
    assert await _ids(document_store, {"tags": {"$in": ["x", "z"]}}) == ["a", "c", "d"]
    assert await _ids(document_store, {"tags": {"$in": []}}) == []
    assert await _ids(document_store, {"_id": {"$in": ["e", "a", "nope"]}}) == ["a", "e"]
    assert await _ids(document_store, {"flag": {"$in": [False]}}) == ["b", "d"]
    assert await _ids(document_store, {"tags": {"$ne": "x"}}) == ["b", "d", "e"]
    # `$ne` on a value also matches documents that lack the field.
    assert await _ids(document_store, {"opt": {"$ne": "set"}}) == ["a", "b", "c", "d"]
    assert await document_store.count(C, {"tags": {"$in": []}}) == 0


async def test_ranges(document_store: Any) -> None:
    await _seed(document_store)
    assert await _ids(document_store, {"n": {"$gt": 3}}) == ["d", "e"]
    assert await _ids(document_store, {"n": {"$gte": 3}}) == ["c", "d", "e"]
    assert await _ids(document_store, {"n": {"$lt": 2}}) == ["a"]
    assert await _ids(document_store, {"n": {"$gte": 2, "$lte": 4}}) == ["b", "c", "d"]
    assert await _ids(document_store, {"n": {"$gt": 1, "$ne": 3}}) == ["b", "d", "e"]
    assert await _ids(document_store, {"name": {"$gte": "a", "$lt": "c"}}) == ["b"]
    assert await _ids(document_store, {"opt": {"$gt": "a"}}) == ["e"]  # missing never in range


async def test_regex_is_case_insensitive_literal_substring(document_store: Any) -> None:
    docs = [
        ("1", "Hello World"),
        ("2", "say HELLO"),
        ("3", "a.b and more"),
        ("4", "axb"),
        ("5", "50% off_now (limited) [x] a+b? c\\d $5 ^up"),
        ("6", "我们的故事：第一章"),
        ("7", "另一个故事"),
    ]
    for doc_id, title in docs:
        await document_store.insert(C, {"_id": doc_id, "title": title, "sub": {"t": title}})

    async def search(text: str, field: str = "title") -> list[str]:
        return await _ids(document_store, {field: {"$regex": text}})

    assert await search("hello") == ["1", "2"]
    assert await search("WORLD") == ["1"]
    assert await search("a.b") == ["3"]
    assert await search("a.b", "sub.t") == ["3"]
    assert await search(".") == ["3"]
    assert await search("%") == ["5"]
    assert await search("f_n") == ["5"]
    assert await search("_") == ["5"]
    assert await search("(limited)") == ["5"]
    assert await search("[x]") == ["5"]
    assert await search("a+b?") == ["5"]
    assert await search("c\\d") == ["5"]
    assert await search("$5 ^up") == ["5"]
    assert await search("^Hello") == []
    assert await search("故事") == ["6", "7"]
    assert await search("第一章") == ["6"]
    assert await search("") == ["1", "2", "3", "4", "5", "6", "7"]
    assert await document_store.count(C, {"title": {"$regex": "hELLo"}}) == 2


async def test_sort(document_store: Any) -> None:
    await _seed(document_store)
    assert await _ids(document_store, sort=[("n", 1)]) == ["a", "b", "c", "d", "e"]
    assert await _ids(document_store, sort=[("n", -1)]) == ["e", "d", "c", "b", "a"]
    assert await _ids(document_store, sort=[("tags", 1), ("n", -1)]) == ["c", "a", "e", "b", "d"]
    assert await _ids(document_store, sort=[("flag", -1), ("n", 1)]) == ["a", "c", "e", "b", "d"]
    assert await _ids(document_store, sort=[("meta.k", -1), ("n", 1)]) == [
        "b",
        "a",
        "c",
        "d",  # documents without the field go last descending…
        "e",
    ]
    ascending = await _ids(document_store, sort=[("meta.k", 1), ("n", 1)])
    assert ascending == ["d", "e", "a", "c", "b"]  # …and first ascending
    # Ties break on _id, so pages are stable.
    assert await _ids(document_store, sort=[("tags", -1)]) == ["d", "b", "e", "a", "c"]
    assert await _ids(document_store, {"flag": True}, sort=[("_id", -1)]) == ["e", "c", "a"]


async def test_skip_limit_and_count(document_store: Any) -> None:
    for i in range(12):
        await document_store.insert(C, {"_id": f"id{i:02d}", "i": i, "even": i % 2 == 0})
    pages = [await _ids(document_store, sort=[("i", 1)], skip=s, limit=5) for s in (0, 5, 10)]
    assert pages == [
        [f"id{i:02d}" for i in range(5)],
        [f"id{i:02d}" for i in range(5, 10)],
        ["id10", "id11"],
    ]
    assert await _ids(document_store, sort=[("i", -1)], limit=2) == ["id11", "id10"]
    assert await _ids(document_store, sort=[("i", 1)], skip=10) == ["id10", "id11"]
    assert await _ids(document_store, sort=[("i", 1)], skip=20, limit=5) == []
    assert await _ids(document_store, {"even": True}, sort=[("i", -1)], skip=1, limit=2) == [
        "id08",
        "id06",
    ]
    assert await document_store.count(C) == 12
    assert await document_store.count(C, {"even": True}) == 6
    assert await document_store.count(C, {"i": {"$gte": 10}}) == 2
    assert await document_store.count("empty_collection") == 0
    found = await document_store.find_one(C, {"even": False, "i": {"$gt": 6}})
    assert found is not None and found["i"] in (7, 9, 11)
    assert await document_store.find_one(C, {"i": 99}) is None


async def test_replace_and_update_bump_version(document_store: Any) -> None:
    await document_store.insert(C, {"_id": "r", "a": 1, "b": {"c": 2}})
    replaced = await document_store.replace(C, {"_id": "r", "a": 10})
    assert replaced == {"_id": "r", "a": 10, "version": 2}
    assert await document_store.get(C, "r") == {"_id": "r", "a": 10, "version": 2}

    updated = await document_store.update(C, "r", {"b": {"c": [3]}, "s": "故事"})
    assert updated == {"_id": "r", "a": 10, "b": {"c": [3]}, "s": "故事", "version": 3}
    assert await document_store.get(C, "r") == updated

    # `_id` and `version` in the changes are the store's to manage.
    updated = await document_store.update(C, "r", {"a": None, "version": 99, "_id": "other"})
    assert updated["version"] == 4 and updated["_id"] == "r" and updated["a"] is None
    assert await document_store.get(C, "r") == updated
    assert await document_store.get(C, "other") is None

    replaced = await document_store.replace(C, {"_id": "r", "z": 1}, expected_version=4)
    assert replaced["version"] == 5
    updated = await document_store.update(C, "r", {"z": 2}, expected_version=5)
    assert updated == {"_id": "r", "z": 2, "version": 6}
    assert await document_store.count(C, {"version": 6}) == 1


async def test_stale_version_conflicts(document_store: Any) -> None:
    await document_store.insert(C, {"_id": "v", "a": 1})
    await document_store.update(C, "v", {"a": 2})
    with pytest.raises(VersionConflict):
        await document_store.update(C, "v", {"a": 3}, expected_version=1)
    with pytest.raises(VersionConflict):
        await document_store.replace(C, {"_id": "v", "a": 3}, expected_version=1)
    with pytest.raises(VersionConflict):
        await document_store.replace(C, {"_id": "v", "a": 3}, expected_version=3)
    assert await document_store.get(C, "v") == {"_id": "v", "a": 2, "version": 2}


async def test_concurrent_writers(document_store: Any) -> None:
    await document_store.insert(C, {"_id": "w", "hits": 0})
    # Without expected_version every update lands (last writer wins, field by field), however
    # many write at once: a busy task record has dozens of writers (progress, heartbeats,
    # children), and a writer that gave up failed its render.
    await asyncio.gather(*(document_store.update(C, "w", {f"f{i}": i}) for i in range(40)))
    doc = await document_store.get(C, "w")
    assert doc["version"] == 41
    assert all(doc[f"f{i}"] == i for i in range(40))
    # With it, exactly one of two writers holding the same version wins.
    results = await asyncio.gather(
        document_store.update(C, "w", {"hits": 1}, expected_version=41),
        document_store.replace(C, {"_id": "w", "hits": 2}, expected_version=41),
        return_exceptions=True,
    )
    assert sum(isinstance(r, VersionConflict) for r in results) == 1
    assert sum(isinstance(r, dict) for r in results) == 1
    assert (await document_store.get(C, "w"))["version"] == 42


async def test_update_stamps_the_time_of_the_write(document_store: Any) -> None:
    """`stamp` is set by the store as it writes: ISO-8601 UTC with milliseconds, at least the
    time the update was asked. SQLite writes one at a time under its lock, so its stamps also
    follow the order the writes were stored (versions) when many write at once; MongoDB
    applies concurrent writes in the server's order, after each client took its stamp."""
    await document_store.insert(C, {"_id": "t", "n": 0, "at": "stale"})
    asked = utc_now()
    done = await asyncio.gather(
        *(document_store.update(C, "t", {"n": i, "at": "x"}, stamp="at") for i in range(20))
    )
    by_version = sorted(done, key=lambda doc: doc["version"])
    stamps = [doc["at"] for doc in by_version]
    assert min(stamps) >= asked
    if isinstance(document_store, SqliteDocumentStore):
        assert stamps == sorted(stamps)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", at) for at in stamps)
    assert await document_store.get(C, "t") == by_version[-1]
    checked = await document_store.update(C, "t", {"n": -1}, expected_version=21, stamp="at")
    assert checked["version"] == 22 and checked["at"] >= max(stamps)


async def test_missing_document_not_found(document_store: Any) -> None:
    with pytest.raises(NotFound):
        await document_store.update(C, "ghost", {"a": 1})
    with pytest.raises(NotFound):
        await document_store.update(C, "ghost", {"a": 1}, expected_version=1)
    with pytest.raises(NotFound):
        await document_store.replace(C, {"_id": "ghost", "a": 1})
    with pytest.raises(NotFound):
        await document_store.replace(C, {"_id": "ghost", "a": 1}, expected_version=1)
    assert await document_store.get(C, "ghost") is None


async def test_delete_and_delete_many(document_store: Any) -> None:
    await _seed(document_store)
    assert await document_store.delete(C, "a") is True
    assert await document_store.delete(C, "a") is False
    assert await document_store.get(C, "a") is None
    assert await document_store.delete_many(C, {"tags": "y"}) == 2
    assert await _ids(document_store) == ["c", "d"]
    assert await document_store.delete_many(C, {"tags": {"$in": []}}) == 0
    assert await document_store.delete_many(C, {"n": {"$gte": 0}}) == 2
    assert await document_store.count(C) == 0
    # A deleted id can be used again, starting over at version 1.
    assert (await document_store.insert(C, {"_id": "a"}))["version"] == 1


async def test_bad_filters_refused(document_store: Any) -> None:
    await _seed(document_store)
    with pytest.raises(ValidationFailed):
        await document_store.find(C, {"n": {"$where": "1"}})
    with pytest.raises(ValidationFailed):
        await document_store.find(C, {"n": {"$in": [{"$gt": 1}]}})
    with pytest.raises(ValidationFailed):
        await document_store.find(C, {"bad field": 1})
    with pytest.raises(ValidationFailed):
        await document_store.find(C, {"$or": [{"n": 1}]})
    with pytest.raises(ValidationFailed):
        await document_store.find("bad-name", {})


async def test_collections_are_separate(document_store: Any) -> None:
    await document_store.insert("first", {"_id": "same", "x": 1})
    await document_store.insert("second", {"_id": "same", "x": 2})
    assert (await document_store.get("first", "same"))["x"] == 1
    assert (await document_store.get("second", "same"))["x"] == 2
    assert await document_store.ping() is True
