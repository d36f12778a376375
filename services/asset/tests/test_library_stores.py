"""Characters, assets, staged uploads and the two jobs on a real SQLite store and media folder."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from storyreel_asset.asset_store import AssetStore
from storyreel_asset.character_images_job import CharacterImagesJob
from storyreel_asset.character_store import CharacterStore
from storyreel_asset.design_job import DesignJob
from storyreel_asset.drama_content import DramaContent
from storyreel_asset.staged_upload import take_staged
from storyreel_core.bus.job_runner import Job
from storyreel_core.errors import (
    AlreadyExists,
    AppError,
    Code,
    NotFound,
    ValidationFailed,
    VersionConflict,
)
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_core.stores.sqlite_store import SqliteDocumentStore

OWNER, OTHER, DRAMA = "user_a", "user_b", "drama_1"


class Stores:
    def __init__(self, docs: SqliteDocumentStore, objects: FolderObjectStore) -> None:
        self.docs = docs
        self.objects = objects
        self.characters = CharacterStore(docs, objects)
        self.assets = AssetStore(docs, objects)


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[Stores]:
    docs = await SqliteDocumentStore(tmp_path / "db.sqlite").connect()
    s = Stores(docs, FolderObjectStore(tmp_path / "media"))
    await s.characters.ensure_indexes()
    await s.assets.ensure_indexes()
    yield s
    await docs.close()


class FakeContext:
    def __init__(self) -> None:
        self.steps: list[tuple[int, int]] = []

    async def progress(self, completed: int, total: int, step: str, **_: Any) -> None:
        self.steps.append((completed, total))


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (10, 200, 30, 255)).save(out, format="PNG")
    return out.getvalue()


async def test_character_crud_is_unique_per_drama_and_owner_scoped(stores: Stores) -> None:
    chars = stores.characters
    mei = await chars.create(OWNER, DRAMA, {"name": " 苏梅 ", "gender": "female"})
    assert mei["name"] == "苏梅" and mei["images"] == [] and mei["default_image_id"] == ""
    with pytest.raises(AlreadyExists):
        await chars.create(OWNER, DRAMA, {"name": "苏梅"})
    await chars.create(OWNER, "drama_2", {"name": "苏梅"})  # another drama: fine
    with pytest.raises(NotFound):
        await chars.get(OTHER, DRAMA, mei["_id"])
    with pytest.raises(NotFound):
        await chars.get(OWNER, "drama_2", mei["_id"])
    with pytest.raises(ValidationFailed):
        await chars.create(OWNER, DRAMA, {"name": "x", "gender": "robot"})

    for i in range(4):
        await chars.create(OWNER, DRAMA, {"name": f"Extra {i}"})
    page, total = await chars.list_page(OWNER, DRAMA, page=2, per_page=2)
    assert total == 5 and [c["name"] for c in page] == ["Extra 1", "Extra 2"]
    assert (await chars.list_page(OTHER, DRAMA, page=1, per_page=10))[1] == 0

    patched = await chars.update(
        OWNER, DRAMA, mei["_id"], {"age_range": "30-40"}, replace=False, expected_version=None
    )
    assert patched["gender"] == "female" and patched["version"] == 2
    with pytest.raises(AlreadyExists):
        await chars.update(
            OWNER, DRAMA, mei["_id"], {"name": "Extra 0"}, replace=False, expected_version=None
        )
    with pytest.raises(VersionConflict):  # stale version
        await chars.update(
            OWNER, DRAMA, mei["_id"], {"age_range": "1"}, replace=False, expected_version=1
        )
    replaced = await chars.update(
        OWNER, DRAMA, mei["_id"], {"name": "梅"}, replace=True, expected_version=None
    )
    assert replaced["age_range"] == "" and replaced["gender"] == "unknown"


async def test_generated_images_become_the_default_and_delete_removes_media(
    stores: Stores,
) -> None:
    chars = stores.characters
    mei = await chars.create(OWNER, DRAMA, {"name": "Mei", "gender": "female"})
    job = CharacterImagesJob(chars)
    payload = {"drama_id": DRAMA, "character_id": mei["_id"], "count": 2, "style": "noir"}
    result = await job(Job("task_abc", "character_images", OWNER, payload, 1), FakeContext())  # type: ignore[arg-type]
    assert [i["id"] for i in result["images"]] == ["img_abc_0", "img_abc_1"]
    for image in result["images"]:
        data = await stores.objects.get_bytes(image["key"])
        assert Image.open(io.BytesIO(data)).size == (768, 512)  # front, side, back
        thumb = Image.open(io.BytesIO(await stores.objects.get_bytes(image["thumbnail_key"])))
        assert thumb.format == "JPEG" and thumb.width == 128
    # A redelivered job rewrites the same images, it does not add more.
    await job(Job("task_abc", "character_images", OWNER, payload, 2), FakeContext())  # type: ignore[arg-type]
    stored = await chars.get(OWNER, DRAMA, mei["_id"])
    assert len(stored["images"]) == 2 and stored["default_image_id"] == "img_abc_0"

    uploaded = {"id": "img_up", "key": f"dramas/{DRAMA}/characters/{mei['_id']}/img_up.png"}
    stored = await chars.add_image(OWNER, DRAMA, mei["_id"], uploaded, make_default=True)
    assert stored["default_image_id"] == "img_up"

    keys = await stores.objects.list_keys(f"dramas/{DRAMA}/characters/{mei['_id']}/")
    assert len(keys) == 4
    assert await chars.delete_many(OWNER, DRAMA, [mei["_id"], "char_unknown"]) == [mei["_id"]]
    assert await stores.objects.list_keys(f"dramas/{DRAMA}/characters/") == []


async def asset(stores: Stores, name: str, media_type: str, tags: list[str], kind: str = "") -> str:
    doc = await stores.assets.put(
        OWNER,
        DRAMA,
        {
            "_id": f"asset_{name}",
            "name": name,
            "media_type": media_type,
            "kind": kind,
            "tags": tags,
            "key": f"dramas/{DRAMA}/assets/asset_{name}/original.bin",
            "content_type": "application/octet-stream",
            "size": 1,
            "source": "uploaded",
        },
    )
    return str(doc["_id"])


async def test_asset_filters_tags_keyword_and_pagination(stores: Stores) -> None:
    await asset(stores, "forest", "image", ["outdoor", "day"])
    await asset(stores, "theme song", "audio", ["music"])
    await asset(stores, "sword", "image", ["weapon"], kind="prop")
    await asset(stores, "rooftop", "image", ["outdoor", "night"], kind="scene")
    await asset(stores, "notes", "document", [])

    async def names(**kw: Any) -> list[str]:
        items, total = await stores.assets.list_page(OWNER, DRAMA, page=1, per_page=50, **kw)
        assert total == len(items)
        return sorted(i["name"] for i in items)

    assert await names(type="image") == ["forest", "rooftop", "sword"]
    assert await names(type="prop") == ["sword"]
    assert await names(type="scene") == ["rooftop"]
    assert await names(tags=["night", "music"]) == ["rooftop", "theme song"]
    assert await names(tags=["outdoor"], type="scene") == ["rooftop"]
    assert await names(keyword="OO") == ["rooftop"]
    assert await names(tags=["nothing"]) == []
    with pytest.raises(ValidationFailed):
        await names(type="spreadsheet")
    page, total = await stores.assets.list_page(OWNER, DRAMA, page=3, per_page=2)
    assert total == 5 and len(page) == 1
    assert (await stores.assets.list_page(OTHER, DRAMA, page=1, per_page=10))[1] == 0
    with pytest.raises(NotFound):
        await stores.assets.get(OTHER, DRAMA, "asset_forest")

    # Re-tagging replaces the tag rows.
    await asset(stores, "forest", "image", ["night"])
    assert await names(tags=["day"]) == []
    assert await names(tags=["night"]) == ["forest", "rooftop"]


async def test_design_job_and_drama_content_deletion(stores: Stores) -> None:
    job = DesignJob(stores.assets)
    payload = {
        "drama_id": DRAMA,
        "items": [
            {"kind": "prop", "name": "青锋剑", "description": "a jade sword"},
            {"kind": "scene", "name": "茶馆", "description": "night"},
            {"kind": "character", "name": "苏梅"},
        ],
        "tags": ["design"],
    }
    result = await job(Job("task_d1", "designs", OWNER, payload, 1), FakeContext())  # type: ignore[arg-type]
    assert [a["kind"] for a in result["assets"]] == ["prop", "scene", "character"]
    sizes = [
        Image.open(io.BytesIO(await stores.objects.get_bytes(a["key"]))).size
        for a in result["assets"]
    ]
    assert sizes == [(512, 512), (768, 512), (768, 512)]
    await job(Job("task_d1", "designs", OWNER, payload, 2), FakeContext())  # type: ignore[arg-type]
    _, total = await stores.assets.list_page(OWNER, DRAMA, page=1, per_page=10, tags=["design"])
    assert total == 3

    await stores.characters.create(OWNER, DRAMA, {"name": "Mei"})
    await stores.characters.create(OWNER, "drama_keep", {"name": "Mei"})
    content = DramaContent(stores.characters, stores.assets)
    counts = await content.delete_drama_content(OWNER, DRAMA)
    assert counts["characters"] == 1 and counts["assets"] == 3
    assert await stores.objects.list_keys(f"dramas/{DRAMA}/") == []
    assert (await stores.characters.list_page(OWNER, "drama_keep", page=1, per_page=5))[1] == 1


async def test_take_staged_keeps_a_good_file_and_always_removes_the_staging_object(
    stores: Stores,
) -> None:
    key = f"staging/{OWNER}/upload_1"
    await stores.objects.put_bytes(key, png(), "application/octet-stream")
    async with take_staged(
        stores.objects,
        key,
        OWNER,
        filename="a.png",
        max_bytes=1 << 20,
        allowed=frozenset({"image"}),
    ) as staged:
        assert staged.checked.content_type == "image/png" and staged.path.is_file()
    assert await stores.objects.stat(key) is None

    await stores.objects.put_bytes(key, b"not an image at all", "application/octet-stream")
    with pytest.raises(AppError) as caught:
        async with take_staged(
            stores.objects,
            key,
            OWNER,
            filename="a.png",
            max_bytes=1 << 20,
            allowed=frozenset({"image"}),
        ):
            pytest.fail("a text file passed as an image")
    assert caught.value.code == Code.UNSUPPORTED_FILE
    assert await stores.objects.stat(key) is None

    async def not_yours() -> None:
        raise NotFound("drama not found")

    await stores.objects.put_bytes(key, png(), "application/octet-stream")
    with pytest.raises(NotFound):
        async with take_staged(
            stores.objects,
            key,
            OWNER,
            filename="a.png",
            max_bytes=1 << 20,
            allowed=frozenset({"image"}),
            before=not_yours,
        ):
            pytest.fail("ownership was not checked first")
    assert await stores.objects.list_keys("staging/") == []

    # Another user's staging key is refused and left alone.
    other_key = f"staging/{OTHER}/upload_2"
    await stores.objects.put_bytes(other_key, png(), "application/octet-stream")
    with pytest.raises(ValidationFailed):
        async with take_staged(
            stores.objects,
            other_key,
            OWNER,
            filename="a.png",
            max_bytes=1 << 20,
            allowed=frozenset({"image"}),
        ):
            pass
    assert await stores.objects.stat(other_key) is not None
