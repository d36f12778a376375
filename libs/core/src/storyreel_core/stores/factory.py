"""Choose the store adapters by configuration only: a URL set selects the distributed adapter."""

from __future__ import annotations

from storyreel_core.settings import Settings
from storyreel_core.stores.document_store import DocumentStore
from storyreel_core.stores.object_store import ObjectStore


async def open_document_store(settings: Settings) -> DocumentStore:
    if settings.mongodb_url is not None:
        from storyreel_core.stores.mongo_store import MongoDocumentStore

        return await MongoDocumentStore(
            settings.mongodb_url.get_secret_value(), settings.mongodb_database
        ).connect()
    from storyreel_core.stores.sqlite_store import SqliteDocumentStore

    return await SqliteDocumentStore(settings.data_dir / "storyreel.db").connect()


async def open_object_store(settings: Settings) -> ObjectStore:
    if settings.s3_endpoint:
        from storyreel_core.stores.s3_store import S3ObjectStore

        return await S3ObjectStore.from_settings(settings).connect()
    from storyreel_core.stores.folder_store import FolderObjectStore

    return FolderObjectStore(settings.data_dir / "media")
