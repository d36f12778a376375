"""The `DocumentStore` port: JSON documents in named collections, owner scoping left to callers.

Filters are a small, explicit subset of MongoDB's query language, so the same query runs on the
SQLite adapter and the MongoDB adapter: equality on a (dotted) field, `$in`, `$ne`, the range
operators `$gt/$gte/$lt/$lte`, and `$regex` (case-insensitive substring, used for keyword search).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

Document = dict[str, Any]
Filter = Mapping[str, Any]
SortSpec = Sequence[tuple[str, Literal[1, -1]]]

OPERATORS = frozenset({"$in", "$ne", "$gt", "$gte", "$lt", "$lte", "$regex"})


@dataclass(frozen=True)
class IndexSpec:
    """An index on dotted fields; `unique` makes the store refuse duplicates (AlreadyExists)."""

    fields: tuple[str, ...]
    unique: bool = False
    name: str = ""

    def index_name(self, collection: str) -> str:
        return self.name or f"ix_{collection}_{'_'.join(f.replace('.', '_') for f in self.fields)}"


@dataclass
class Page:
    items: list[Document] = field(default_factory=list)
    total: int = 0


class DocumentStore(Protocol):
    """Every document has a string `_id` and an integer `version` managed by the store."""

    async def ensure_indexes(self, collection: str, indexes: Sequence[IndexSpec]) -> None: ...

    async def insert(self, collection: str, doc: Document) -> Document:
        """Store a new document with version 1; AlreadyExists on a duplicate id or unique key."""
        ...

    async def get(self, collection: str, doc_id: str) -> Document | None: ...

    async def find_one(self, collection: str, flt: Filter) -> Document | None: ...

    async def find(
        self,
        collection: str,
        flt: Filter | None = None,
        *,
        sort: SortSpec = (),
        skip: int = 0,
        limit: int = 0,
    ) -> list[Document]: ...

    async def count(self, collection: str, flt: Filter | None = None) -> int: ...

    async def replace(
        self, collection: str, doc: Document, *, expected_version: int | None = None
    ) -> Document:
        """Write the whole document; with `expected_version`, VersionConflict if it moved on."""
        ...

    async def update(
        self,
        collection: str,
        doc_id: str,
        changes: Mapping[str, Any],
        *,
        expected_version: int | None = None,
        stamp: str | None = None,
    ) -> Document:
        """Set top-level fields; NotFound when absent, VersionConflict when stale. `stamp`
        names a field the store sets to the current time (`clock.utc_now()`) as it writes,
        after any wait for its own write lock, so the stamp is when the change was stored."""
        ...

    async def delete(self, collection: str, doc_id: str) -> bool: ...

    async def delete_many(self, collection: str, flt: Filter) -> int: ...

    async def close(self) -> None: ...
