"""SQLite adapter of `DocumentStore` for embedded mode: one table per collection, JSON documents.

Each table is `(id TEXT PRIMARY KEY, version INTEGER, doc TEXT)`; filters and sorts run through
`json_extract`, unique indexes are expression indexes, and optimistic concurrency is a
`WHERE version = ?` on the write. WAL mode lets readers go on while a writer commits.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import aiosqlite

from storyreel_core.clock import utc_now
from storyreel_core.errors import AlreadyExists, NotFound, ValidationFailed, VersionConflict
from storyreel_core.stores.document_store import (
    OPERATORS,
    Document,
    Filter,
    IndexSpec,
    SortSpec,
)

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # a top-level field `json_set` can address
_RETURNING = sqlite3.sqlite_version_info >= (3, 35, 0)  # UPDATE … RETURNING


def _table(collection: str) -> str:
    if not _NAME.match(collection):
        raise ValidationFailed(f"invalid collection name {collection!r}")
    return f'"c_{collection}"'


def _path(field: str) -> str:
    if field == "_id":
        return "id"
    if field == "version":
        return "version"
    if not _FIELD.match(field):
        raise ValidationFailed(f"invalid field name {field!r}", field=field)
    return f"json_extract(doc, '$.{field}')"


def _param(value: Any) -> Any:
    """SQLite compares json_extract results as SQL values: booleans come back as 0/1."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (dict, list)):
        raise ValidationFailed("filters compare scalar values only")
    return value


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _where(flt: Filter | None) -> tuple[str, list[Any]]:
    if not flt:
        return "", []
    clauses: list[str] = []
    params: list[Any] = []
    for field, cond in flt.items():
        col = _path(field)
        if isinstance(cond, Mapping):
            for op, value in cond.items():
                if op not in OPERATORS:
                    raise ValidationFailed(f"unsupported filter operator {op}", field=field)
                if op == "$in":
                    values = list(value)
                    if not values:
                        clauses.append("0")
                        continue
                    clauses.append(f"{col} IN ({', '.join('?' for _ in values)})")
                    params.extend(_param(v) for v in values)
                elif op == "$ne":
                    if value is None:
                        clauses.append(f"{col} IS NOT NULL")
                    else:
                        clauses.append(f"({col} IS NULL OR {col} != ?)")
                        params.append(_param(value))
                elif op == "$regex":
                    clauses.append(f"{col} LIKE ? ESCAPE '\\'")
                    params.append(f"%{_like_escape(str(value))}%")
                else:
                    sql_op = {"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}[op]
                    clauses.append(f"{col} {sql_op} ?")
                    params.append(_param(value))
        elif cond is None:
            clauses.append(f"{col} IS NULL")
        else:
            clauses.append(f"{col} = ?")
            params.append(_param(cond))
    return " WHERE " + " AND ".join(clauses), params


def _order(sort: SortSpec) -> str:
    terms = [f"{_path(f)} {'ASC' if d == 1 else 'DESC'}" for f, d in sort]
    terms.append("id ASC")
    return " ORDER BY " + ", ".join(terms)


def _dumps(doc: Document) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), default=str)


class SqliteDocumentStore:
    """`DocumentStore` on one SQLite file shared by every service of the embedded process."""

    def __init__(self, path: Path | str) -> None:
        self._path = str(path)
        self._db: aiosqlite.Connection | None = None
        self._known: set[str] = set()
        self._write_lock = asyncio.Lock()

    async def connect(self) -> SqliteDocumentStore:
        if self._path != ":memory:":
            Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self._db = await aiosqlite.connect(self._path)
        await self._db.execute("PRAGMA journal_mode=WAL")
        await self._db.execute("PRAGMA synchronous=NORMAL")
        await self._db.execute("PRAGMA busy_timeout=5000")
        return self

    @property
    def db(self) -> aiosqlite.Connection:
        if self._db is None:
            raise RuntimeError("SqliteDocumentStore used before connect()")
        return self._db

    async def ping(self) -> bool:
        async with self.db.execute("SELECT 1") as cur:
            return (await cur.fetchone()) is not None

    async def _ensure_table(self, collection: str) -> str:
        table = _table(collection)
        if collection not in self._known:
            await self.db.execute(
                f"CREATE TABLE IF NOT EXISTS {table} "
                "(id TEXT PRIMARY KEY, version INTEGER NOT NULL, doc TEXT NOT NULL)"
            )
            await self.db.commit()
            self._known.add(collection)
        return table

    async def ensure_indexes(self, collection: str, indexes: Sequence[IndexSpec]) -> None:
        table = await self._ensure_table(collection)
        for spec in indexes:
            cols = ", ".join(_path(f) for f in spec.fields)
            unique = "UNIQUE " if spec.unique else ""
            name = spec.index_name(collection)
            if not _NAME.match(name):
                raise ValidationFailed(f"invalid index name {name!r}")
            await self.db.execute(
                f'CREATE {unique}INDEX IF NOT EXISTS "{name}" ON {table} ({cols})'
            )
        await self.db.commit()

    async def insert(self, collection: str, doc: Document) -> Document:
        table = await self._ensure_table(collection)
        stored = {**doc, "version": 1}
        if not isinstance(stored.get("_id"), str):
            raise ValidationFailed("documents need a string _id")
        async with self._write_lock:
            try:
                await self.db.execute(
                    f"INSERT INTO {table} (id, version, doc) VALUES (?, 1, ?)",
                    (stored["_id"], _dumps(stored)),
                )
                await self.db.commit()
            except sqlite3.IntegrityError as exc:
                await self.db.rollback()
                raise AlreadyExists(f"{collection} already has such a document") from exc
        return stored

    async def get(self, collection: str, doc_id: str) -> Document | None:
        return await self.find_one(collection, {"_id": doc_id})

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
        table = await self._ensure_table(collection)
        where, params = _where(flt)
        sql = f"SELECT doc FROM {table}{where}{_order(sort)}"
        if limit or skip:
            sql += " LIMIT ? OFFSET ?"
            params += [limit if limit > 0 else -1, max(skip, 0)]
        async with self.db.execute(sql, params) as cur:
            rows = await cur.fetchall()
        return [json.loads(row[0]) for row in rows]

    async def count(self, collection: str, flt: Filter | None = None) -> int:
        table = await self._ensure_table(collection)
        where, params = _where(flt)
        async with self.db.execute(f"SELECT COUNT(*) FROM {table}{where}", params) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def replace(
        self, collection: str, doc: Document, *, expected_version: int | None = None
    ) -> Document:
        table = await self._ensure_table(collection)
        async with self._write_lock:
            return await self._replace_locked(table, collection, doc, expected_version)

    async def _replace_locked(
        self, table: str, collection: str, doc: Document, expected_version: int | None
    ) -> Document:
        """`replace` for a caller holding `_write_lock`."""
        current = await self.get(collection, doc["_id"])
        if current is None:
            raise NotFound(f"{collection} {doc['_id']} not found")
        version = int(current["version"])
        if expected_version is not None and expected_version != version:
            raise VersionConflict(
                f"{collection} {doc['_id']} changed (version {version}, yours {expected_version})",
                field="version",
            )
        stored = {**doc, "version": version + 1}
        try:
            cur = await self.db.execute(
                f"UPDATE {table} SET version = ?, doc = ? WHERE id = ? AND version = ?",
                (version + 1, _dumps(stored), doc["_id"], version),
            )
            await self.db.commit()
        except sqlite3.IntegrityError as exc:
            await self.db.rollback()
            raise AlreadyExists(f"{collection} already has such a document") from exc
        if cur.rowcount != 1:
            raise VersionConflict(f"{collection} {doc['_id']} changed meanwhile")
        return stored

    async def update(
        self,
        collection: str,
        doc_id: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None = None,
        stamp: str | None = None,
    ) -> Document:
        """Without `expected_version` this is last-writer-wins: one `UPDATE … RETURNING` that
        sets the fields inside the stored JSON, under the store's write lock, so the writers
        of this process never race each other and a write is two hops to the database thread
        (the statement, the commit) however busy the event loop is. With it, or for a field
        name `json_set` cannot address, the document is read, merged and written back with
        the version checked (another process writing the same file is caught and retried).
        `stamp` is set to the current time after the lock is taken."""
        table = await self._ensure_table(collection)
        fields = {k: v for k, v in changes.items() if k not in ("_id", "version")}
        if expected_version is None and _RETURNING and all(_KEY.match(k) for k in fields):
            async with self._write_lock:
                if stamp is not None:
                    fields[stamp] = utc_now()
                return await self._set_fields_locked(table, collection, doc_id, fields)
        for _attempt in range(5):
            async with self._write_lock:
                current = await self.get(collection, doc_id)
                if current is None:
                    raise NotFound(f"{collection} {doc_id} not found")
                version = int(current["version"]) if expected_version is None else expected_version
                merged = {**current, **changes, "_id": doc_id}
                if stamp is not None:
                    merged[stamp] = utc_now()
                try:
                    return await self._replace_locked(table, collection, merged, version)
                except VersionConflict:
                    if expected_version is not None:
                        raise
            await asyncio.sleep(0.01)
        raise VersionConflict(f"{collection} {doc_id} kept changing; try again")

    async def _set_fields_locked(
        self, table: str, collection: str, doc_id: str, fields: Mapping[str, Any]
    ) -> Document:
        """Set top-level `fields` of one document and bump its version, in one statement."""
        paths = "".join(f", '$.\"{key}\"', json(?)" for key in fields)
        sql = (
            f"UPDATE {table} SET version = version + 1, "
            f"doc = json_set(doc{paths}, '$.version', version + 1) WHERE id = ? RETURNING doc"
        )
        params = [_dumps(value) for value in fields.values()]
        try:
            rows = await self.db.execute_fetchall(sql, [*params, doc_id])
            await self.db.commit()
        except sqlite3.IntegrityError as exc:
            await self.db.rollback()
            raise AlreadyExists(f"{collection} already has such a document") from exc
        found = list(rows)
        if not found:
            raise NotFound(f"{collection} {doc_id} not found")
        stored: Document = json.loads(found[0][0])
        return stored

    async def delete(self, collection: str, doc_id: str) -> bool:
        return await self.delete_many(collection, {"_id": doc_id}) > 0

    async def delete_many(self, collection: str, flt: Filter) -> int:
        table = await self._ensure_table(collection)
        where, params = _where(flt)
        async with self._write_lock:
            cur = await self.db.execute(f"DELETE FROM {table}{where}", params)
            await self.db.commit()
        return int(cur.rowcount)

    async def close(self) -> None:
        if self._db is not None:
            await self._db.close()
            self._db = None
