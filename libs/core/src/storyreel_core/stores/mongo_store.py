"""MongoDB adapter of `DocumentStore` for distributed mode, on PyMongo's native asyncio client.

It keeps the semantics of `SqliteDocumentStore`, and it uses only what both a real MongoDB and
the nx-27017 stand-in (MongoDB wire protocol on SQLite) run the same way:

* Documents go through the same JSON encoding as the SQLite adapter before they are written, so
  both adapters hand back the same values (datetimes as strings, tuples as lists).
* Optimistic concurrency is a write filtered on `{_id, version}` with `update_one`/`replace_one`;
  `find_one_and_update` is avoided because nx-27017 swallows a duplicate-key error there and
  answers "no document" instead.
* `{"$ne": None}` is sent as `{"$nin": [None]}` (same meaning on MongoDB); nx-27017 would count
  a missing field as "not null" for `$ne`.
* `$regex` is a case-insensitive substring: the text is escaped, never run as a pattern.
* Unique indexes leave out documents that lack an indexed field (a partial index), as SQLite
  does; MongoDB would otherwise count every such document as a duplicate `null`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from storyreel_core.clock import utc_now
from storyreel_core.errors import (
    AlreadyExists,
    NotFound,
    ServiceUnavailable,
    ValidationFailed,
    VersionConflict,
)
from storyreel_core.stores.document_store import (
    OPERATORS,
    Document,
    Filter,
    IndexSpec,
    SortSpec,
)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
_TOP_LEVEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RETRIES = 5


def _check_collection(collection: str) -> str:
    if not _NAME.match(collection):
        raise ValidationFailed(f"invalid collection name {collection!r}")
    return collection


def _check_field(field: str) -> str:
    if field in ("_id", "version"):
        return field
    if not _FIELD.match(field):
        raise ValidationFailed(f"invalid field name {field!r}", field=field)
    return field


def _scalar(value: Any) -> Any:
    if isinstance(value, (dict, list, tuple, set)):
        raise ValidationFailed("filters compare scalar values only")
    return value


def _normalise(doc: Mapping[str, Any]) -> Document:
    """The same JSON round trip the SQLite adapter stores, so both give back equal documents."""
    encoded = json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str)
    result: Document = json.loads(encoded)
    return result


def _translate(flt: Filter | None) -> dict[str, Any]:
    """The port's filter subset as a MongoDB query that nx-27017 answers the same way."""
    if not flt:
        return {}
    query: dict[str, Any] = {}
    for field, cond in flt.items():
        _check_field(field)
        if isinstance(cond, Mapping):
            ops: dict[str, Any] = {}
            for op, value in cond.items():
                if op not in OPERATORS:
                    raise ValidationFailed(f"unsupported filter operator {op}", field=field)
                if op == "$in":
                    ops["$in"] = [_scalar(v) for v in value]
                elif op == "$regex":
                    ops["$regex"] = re.escape(str(value))
                    ops["$options"] = "i"
                elif op == "$ne" and value is None:
                    ops["$nin"] = [None]
                else:
                    ops[op] = _scalar(value)
            query[field] = ops
        else:
            query[field] = _scalar(cond)
    return query


def _sort(sort: SortSpec) -> list[tuple[str, int]]:
    spec: list[tuple[str, int]] = [(_check_field(f), 1 if d == 1 else -1) for f, d in sort]
    if all(f != "_id" for f, _ in spec):
        spec.append(("_id", 1))
    return spec


class MongoDocumentStore:
    """`DocumentStore` on one MongoDB database shared by the services of a deployment."""

    def __init__(self, url: str, database: str, *, server_selection_timeout_ms: int = 5000) -> None:
        if not _NAME.match(database.replace("-", "_")):
            raise ValidationFailed(f"invalid database name {database!r}")
        self._url = url
        self._database_name = database
        self._timeout_ms = server_selection_timeout_ms
        self._client: AsyncMongoClient[Document] | None = None

    async def connect(self) -> MongoDocumentStore:
        if self._client is None:
            self._client = AsyncMongoClient(
                self._url,
                serverSelectionTimeoutMS=self._timeout_ms,
                appname="storyreel",
            )
        try:
            await self._client.admin.command("ping")
        except PyMongoError as exc:
            raise ServiceUnavailable(f"MongoDB unreachable: {exc}") from exc
        return self

    @property
    def client(self) -> AsyncMongoClient[Document]:
        if self._client is None:
            raise RuntimeError("MongoDocumentStore used before connect()")
        return self._client

    @property
    def database(self) -> AsyncDatabase[Document]:
        return self.client[self._database_name]

    def _col(self, collection: str) -> AsyncCollection[Document]:
        return self.database[_check_collection(collection)]

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    async def ensure_indexes(self, collection: str, indexes: Sequence[IndexSpec]) -> None:
        col = self._col(collection)
        for spec in indexes:
            name = spec.index_name(collection)
            if not _NAME.match(name):
                raise ValidationFailed(f"invalid index name {name!r}")
            keys = [(_check_field(f), 1) for f in spec.fields]
            options: dict[str, Any] = {"name": name}
            if spec.unique:
                options["unique"] = True
                # Like SQLite (NULLs are distinct), documents without the field don't collide.
                options["partialFilterExpression"] = {f: {"$exists": True} for f in spec.fields}
            await col.create_index(keys, **options)

    async def insert(self, collection: str, doc: Document) -> Document:
        col = self._col(collection)
        stored = {**doc, "version": 1}
        if not isinstance(stored.get("_id"), str):
            raise ValidationFailed("documents need a string _id")
        try:
            await col.insert_one(_normalise(stored))
        except DuplicateKeyError as exc:
            raise AlreadyExists(f"{collection} already has such a document") from exc
        return stored

    async def get(self, collection: str, doc_id: str) -> Document | None:
        return await self._col(collection).find_one({"_id": doc_id})

    async def find_one(self, collection: str, flt: Filter) -> Document | None:
        found = await self.find(collection, flt, limit=1)
        return found[0] if found else None

    async def find(
        self,
        collection: str,
        flt: Filter | None = None,
        *,
        sort: SortSpec = (),
        skip: int = 0,
        limit: int = 0,
    ) -> list[Document]:
        cursor = self._col(collection).find(
            _translate(flt),
            sort=_sort(sort),
            skip=max(skip, 0),
            limit=limit if limit > 0 else 0,
        )
        return [doc async for doc in cursor]

    async def count(self, collection: str, flt: Filter | None = None) -> int:
        return int(await self._col(collection).count_documents(_translate(flt)))

    async def _current_version(self, collection: str, doc_id: str) -> int | None:
        found = await self._col(collection).find_one({"_id": doc_id}, projection={"version": 1})
        return None if found is None else int(found.get("version", 0))

    async def replace(
        self, collection: str, doc: Document, *, expected_version: int | None = None
    ) -> Document:
        col = self._col(collection)
        doc_id = doc.get("_id")
        if not isinstance(doc_id, str):
            raise ValidationFailed("documents need a string _id")
        for _attempt in range(_RETRIES):
            version = await self._current_version(collection, doc_id)
            if version is None:
                raise NotFound(f"{collection} {doc_id} not found")
            if expected_version is not None and expected_version != version:
                raise VersionConflict(
                    f"{collection} {doc_id} changed (version {version}, yours {expected_version})",
                    field="version",
                )
            stored = {**doc, "version": version + 1}
            try:
                result = await col.replace_one(
                    {"_id": doc_id, "version": version}, _normalise(stored)
                )
            except DuplicateKeyError as exc:
                raise AlreadyExists(f"{collection} already has such a document") from exc
            if result.matched_count == 1:
                return stored
            if expected_version is not None:
                break
        raise VersionConflict(f"{collection} {doc_id} changed meanwhile", field="version")

    async def update(
        self,
        collection: str,
        doc_id: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None = None,
        stamp: str | None = None,
    ) -> Document:
        """`$set` of the changed fields (and `stamp`, the time just before the write).
        Without `expected_version` it is one atomic update ($set + $inc of the version): last
        writer wins and no writer ever loses a race (the document returned is read just after,
        so it may hold a later writer's fields too); with it, a compare-and-swap on the
        version."""
        col = self._col(collection)
        fields = {k: v for k, v in changes.items() if k not in ("_id", "version")}
        if stamp is not None:
            fields[stamp] = utc_now()
        for key in fields:
            if not _TOP_LEVEL.match(key):
                raise ValidationFailed(f"invalid field name {key!r}", field=key)
        values = _normalise(fields)
        if expected_version is None:
            try:
                result = await col.update_one(
                    {"_id": doc_id}, {"$set": values, "$inc": {"version": 1}}
                )
            except DuplicateKeyError as exc:
                raise AlreadyExists(f"{collection} already has such a document") from exc
            doc = await col.find_one({"_id": doc_id}) if result.matched_count else None
            if doc is None:
                raise NotFound(f"{collection} {doc_id} not found")
            return dict(doc)
        for _attempt in range(_RETRIES):
            current = await col.find_one({"_id": doc_id})
            if current is None:
                raise NotFound(f"{collection} {doc_id} not found")
            version = int(current.get("version", 0))
            if expected_version is not None and expected_version != version:
                raise VersionConflict(
                    f"{collection} {doc_id} changed (version {version}, yours {expected_version})",
                    field="version",
                )
            try:
                result = await col.update_one(
                    {"_id": doc_id, "version": version},
                    {"$set": {**values, "version": version + 1}},
                )
            except DuplicateKeyError as exc:
                raise AlreadyExists(f"{collection} already has such a document") from exc
            if result.matched_count == 1:
                return {**current, **values, "_id": doc_id, "version": version + 1}
            if expected_version is not None:
                break
        raise VersionConflict(f"{collection} {doc_id} kept changing; try again", field="version")

    async def delete(self, collection: str, doc_id: str) -> bool:
        result = await self._col(collection).delete_one({"_id": doc_id})
        return result.deleted_count > 0

    async def delete_many(self, collection: str, flt: Filter) -> int:
        result = await self._col(collection).delete_many(_translate(flt))
        return int(result.deleted_count)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
