"""Characters and the asset library through the running platform: CRUD, images, uploads, limits.

Uploads are checked by content and size; a refused upload leaves nothing behind (no asset, no
media object, no staging object). Another user's drama, character or asset is always a 404.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import httpx
import pytest
from e2e_client import Api, assert_error, download, new_drama, png, wait_task
from PIL import Image

from storyreel_cli.platform_process import PlatformProcess

MAX_UPLOAD = 50 * 1024 * 1024


def media_files(platform: PlatformProcess, prefix: str) -> list[Path]:
    root = platform.data_dir / "media" / prefix
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_character_crud_and_duplicates(api: Api) -> None:
    drama = new_drama(api)
    base = f"/dramas/{drama}/characters"
    r = api.post(
        base,
        json={
            "name": "小明",
            "description": "17岁高中生，性格内向但善良",
            "gender": "male",
            "age_range": "15-20",
            "image_prompt": "短发，戴眼镜，穿着校服",
        },
    )
    assert r.status_code == 201, r.text
    ming = r.json()["data"]
    assert ming["id"].startswith("char_") and ming["gender"] == "male"
    assert ming["image_url"] is None and ming["images"] == []
    assert_error(api.post(base, json={"name": "小明"}), 409, 1003)
    assert_error(api.post(base, json={"name": ""}), 400, 1001)
    assert_error(api.post(base, json={"name": "x", "gender": "robot"}), 400, 1001)

    for i in range(4):
        assert api.post(base, json={"name": f"路人{i}"}).status_code == 201
    page = api.get(base, params={"per_page": 2, "page": 3}).json()
    assert page["pagination"] == {"page": 3, "per_page": 2, "total": 5, "total_pages": 3}
    assert len(page["data"]) == 1
    assert [c["name"] for c in api.get(base, params={"keyword": "小"}).json()["data"]] == ["小明"]

    got = api.get(f"{base}/{ming['id']}").json()["data"]
    assert got["name"] == "小明" and got["age_range"] == "15-20"
    patched = api.patch(f"{base}/{ming['id']}", json={"description": "changed"}).json()["data"]
    assert patched["description"] == "changed" and patched["gender"] == "male"
    assert patched["version"] == ming["version"] + 1
    assert_error(api.patch(f"{base}/{ming['id']}", json={"name": "路人1"}), 409, 1003)
    stale = api.patch(f"{base}/{ming['id']}", json={"age_range": "1", "version": 1})
    assert_error(stale, 409, 1003)
    replaced = api.put(f"{base}/{ming['id']}", json={"name": "明"}).json()["data"]
    assert replaced["description"] == "" and replaced["gender"] == "unknown"

    assert api.delete(f"{base}/{ming['id']}").status_code == 200
    assert_error(api.get(f"{base}/{ming['id']}"), 404, 1002)
    assert_error(api.get("/dramas/drama_nope/characters"), 404, 1002)


def test_generate_and_upload_images_and_batches(api: Api, platform: PlatformProcess) -> None:
    drama = new_drama(api)
    base = f"/dramas/{drama}/characters"
    mei = api.post(base, json={"name": "苏梅", "gender": "female"}).json()["data"]
    r = api.post(f"{base}/{mei['id']}/generate-image", json={"style": "赛博朋克", "count": 2})
    assert r.status_code == 202, r.text
    task = wait_task(api, r.json()["data"]["task_id"])
    assert task["status"] == "completed", task
    images = task["result"]["images"]
    assert len(images) == 2
    for image in images:
        sheet = Image.open(io.BytesIO(download(api, image["url"])))
        assert sheet.size == (768, 512) and sheet.format == "PNG"  # front, side, back
        thumb = Image.open(io.BytesIO(download(api, image["thumbnail_url"])))
        assert thumb.format == "JPEG" and thumb.width == 128
    mei = api.get(f"{base}/{mei['id']}").json()["data"]
    assert mei["default_image_id"] == images[0]["id"]
    assert mei["image_url"] and mei["thumbnail_url"] and len(mei["images"]) == 2
    assert_error(api.post(f"{base}/{mei['id']}/generate-image", json={"count": 5}), 400, 1001)

    upload = png((300, 400))
    r = api.post(
        f"{base}/{mei['id']}/upload-image",
        files={"image": ("me.png", upload, "image/png")},
        data={"make_default": "true"},
    )
    assert r.status_code == 201, r.text
    mei = r.json()["data"]
    assert len(mei["images"]) == 3
    uploaded = mei["images"][-1]
    assert mei["default_image_id"] == uploaded["id"] and uploaded["source"] == "uploaded"
    assert download(api, mei["image_url"]) == upload
    assert Image.open(io.BytesIO(download(api, mei["thumbnail_url"]))).size == (128, 171)
    r = api.post(f"{base}/{mei['id']}/upload-image", files={"image": ("b.png", png(), "image/png")})
    assert r.json()["data"]["default_image_id"] == uploaded["id"]  # make_default defaults off
    # A text file named .png is not an image.
    r = api.post(
        f"{base}/{mei['id']}/upload-image",
        files={"image": ("fake.png", b"hello, I am text", "image/png")},
    )
    assert_error(r, 415, 3002)
    assert len(api.get(f"{base}/{mei['id']}").json()["data"]["images"]) == 4

    other = api.post(base, json={"name": "老板"}).json()["data"]
    ids = f"{mei['id']},{other['id']},char_missing"
    batch = api.get(f"{base}/batch", params={"ids": ids}).json()["data"]
    assert sorted(c["name"] for c in batch) == ["老板", "苏梅"]
    assert_error(api.get(f"{base}/batch", params={"ids": " , "}), 400, 1001)
    media = f"dramas/{drama}/characters/{mei['id']}"
    assert len(media_files(platform, media)) >= 8
    r = api.delete(f"{base}/batch", params={"ids": ids})
    assert sorted(r.json()["data"]["deleted"]) == sorted([mei["id"], other["id"]])
    assert api.get(base).json()["pagination"]["total"] == 0
    assert media_files(platform, media) == []
    assert media_files(platform, "staging") == []


def upload(api: Api, drama: str, name: str, data: bytes, **form: str) -> httpx.Response:
    return api.post(f"/dramas/{drama}/assets/upload", files={"file": (name, data)}, data=form)


def test_asset_upload_filters_pagination_and_delete(api: Api, platform: PlatformProcess) -> None:
    drama = new_drama(api)
    base = f"/dramas/{drama}/assets"
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 200
    created = []
    for i in range(5):
        r = upload(api, drama, f"frame {i}.png", png(colour=(i * 40, 10, 10)), tags="ref,day")
        assert r.status_code == 201, r.text
        created.append(r.json()["data"])
    song = upload(api, drama, "theme.wav", wav, tags="music").json()["data"]
    notes = upload(api, drama, "notes.md", "# 笔记\n".encode(), type="document").json()["data"]
    prop = upload(api, drama, "sword.png", png(), type="prop", tags="weapon").json()["data"]
    assert created[0]["type"] == "image" and created[0]["tags"] == ["ref", "day"]
    assert created[0]["width"] == 96 and created[0]["thumbnail_url"]
    assert song["type"] == "audio" and song["content_type"] == "audio/wav"
    assert song["thumbnail_url"] is None
    assert notes["content_type"] == "text/markdown"
    assert prop["kind"] == "prop" and prop["type"] == "image"
    assert download(api, song["url"]) == wav

    first = api.get(base, params={"per_page": 3}).json()
    assert first["pagination"] == {"page": 1, "per_page": 3, "total": 8, "total_pages": 3}
    pages = [api.get(base, params={"per_page": 3, "page": p}).json()["data"] for p in (1, 2, 3)]
    assert len({a["id"] for page in pages for a in page}) == 8

    def names(**params: str) -> list[str]:
        return sorted(a["name"] for a in api.get(base, params=params).json()["data"])

    assert len(names(type="image")) == 6
    assert names(type="audio") == ["theme.wav"]
    assert names(type="document") == ["notes.md"]
    assert names(type="prop") == ["sword.png"]
    assert names(tags="music,weapon") == ["sword.png", "theme.wav"]
    assert names(keyword="frame 3") == ["frame 3.png"]
    assert names(type="audio", tags="ref") == []
    assert_error(api.get(base, params={"type": "spreadsheet"}), 400, 1001)

    one = api.get(f"{base}/{song['id']}").json()["data"]
    assert one["name"] == "theme.wav"
    assert api.delete(f"{base}/{song['id']}").status_code == 200
    assert_error(api.get(f"{base}/{song['id']}"), 404, 1002)
    assert media_files(platform, f"dramas/{drama}/assets/{song['id']}") == []
    assert api.get(base).json()["pagination"]["total"] == 7


def test_refused_uploads_store_nothing(api: Api, platform: PlatformProcess) -> None:
    drama = new_drama(api)
    base = f"/dramas/{drama}/assets"
    assert upload(api, drama, "ok.png", png()).status_code == 201
    before = api.get(base).json()["pagination"]["total"]
    files_before = media_files(platform, f"dramas/{drama}")

    # One byte over the limit: 413 / 3003.
    r = upload(api, drama, "big.bin", b"\x00" * (MAX_UPLOAD + 1))
    assert_error(r, 413, 3003)
    # Wrong types: 415 / 3002.
    assert_error(upload(api, drama, "run.exe", b"MZ\x90\x00\x03\x00\x00\x00\xff\xff"), 415, 3002)
    assert_error(upload(api, drama, "photo.png", b"plain text, not a picture"), 415, 3002)
    wav = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 100
    assert_error(upload(api, drama, "a.wav", wav, type="image"), 415, 3002)
    # A decompression bomb: a PNG header claiming 50000×50000.
    bomb = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452"  # signature, IHDR length + type
        "0000c3500000c3500802000000"  # 50000 × 50000, 8-bit RGB
    )
    bomb = bomb + zlib.crc32(bomb[12:]).to_bytes(4, "big")
    r = upload(api, drama, "bomb.png", bomb)
    assert r.status_code in (413, 415), r.text
    assert "megapixels" in r.json()["error"]["reason"]
    assert_error(api.post(f"{base}/upload", data={"type": "image"}), 400, 1001)  # no file at all
    assert_error(api.post(f"{base}/upload", json={"file": "x"}), 400, 1001)

    assert api.get(base).json()["pagination"]["total"] == before
    assert media_files(platform, f"dramas/{drama}") == files_before
    assert media_files(platform, "staging") == []


def test_generate_designs(api: Api) -> None:
    drama = new_drama(api)
    base = f"/dramas/{drama}/assets"
    items = [
        {"kind": "prop", "name": "青锋剑", "description": "a jade sword"},
        {"kind": "scene", "name": "茶馆", "description": "night tea house"},
        {"kind": "character", "name": "苏梅"},
    ]
    r = api.post(f"{base}/generate", json={"items": items, "style": "水墨", "tags": ["v1"]})
    assert r.status_code == 202, r.text
    task = wait_task(api, r.json()["data"]["task_id"])
    assert task["status"] == "completed", task
    designed = task["result"]["assets"]
    assert [a["kind"] for a in designed] == ["prop", "scene", "character"]
    for design in designed:
        assert Image.open(io.BytesIO(download(api, design["url"]))).format == "PNG"
    assert [a["name"] for a in api.get(base, params={"type": "scene"}).json()["data"]] == ["茶馆"]
    assert api.get(base, params={"tags": "v1"}).json()["pagination"]["total"] == 3
    assert_error(api.post(f"{base}/generate", json={"items": []}), 400, 1001)
    assert_error(api.post(f"{base}/generate", json={"script_id": "script_x"}), 400, 1001)
    bad = {"items": [{"kind": "planet", "name": "x"}]}
    assert_error(api.post(f"{base}/generate", json=bad), 400, 1001)
    # A design needs a name to show: blank is refused, as seed 001's assets stage does.
    blank = {"items": [{"kind": "prop", "name": " \t "}]}
    assert_error(api.post(f"{base}/generate", json=blank), 400, 1001)


def test_another_users_drama_characters_and_assets_are_404(api: Api, other_api: Api) -> None:
    drama = new_drama(api)
    chars, assets = f"/dramas/{drama}/characters", f"/dramas/{drama}/assets"
    mei = api.post(chars, json={"name": "苏梅"}).json()["data"]
    item = upload(api, drama, "a.png", png()).json()["data"]
    image = {"image": ("a.png", png(), "image/png")}
    attempts = [
        other_api.get(chars),
        other_api.post(chars, json={"name": "intruder"}),
        other_api.get(f"{chars}/{mei['id']}"),
        other_api.patch(f"{chars}/{mei['id']}", json={"name": "stolen"}),
        other_api.put(f"{chars}/{mei['id']}", json={"name": "stolen"}),
        other_api.delete(f"{chars}/{mei['id']}"),
        other_api.post(f"{chars}/{mei['id']}/generate-image", json={}),
        other_api.post(f"{chars}/{mei['id']}/upload-image", files=image),
        other_api.post(
            f"{chars}/{mei['id']}/upload-image", files={"image": ("t.png", b"text", "image/png")}
        ),
        other_api.get(f"{chars}/batch", params={"ids": mei["id"]}),
        other_api.delete(f"{chars}/batch", params={"ids": mei["id"]}),
        other_api.get(assets),
        other_api.get(f"{assets}/{item['id']}"),
        other_api.delete(f"{assets}/{item['id']}"),
        other_api.post(f"{assets}/upload", files={"file": ("a.png", png())}),
        other_api.post(f"{assets}/generate", json={"items": [{"kind": "prop", "name": "x"}]}),
    ]
    for r in attempts:
        assert_error(r, 404, 1002)
    # The other user's own drama does not reach into mine either.
    theirs = new_drama(other_api)
    assert_error(other_api.get(f"/dramas/{theirs}/characters/{mei['id']}"), 404, 1002)
    assert_error(other_api.get(f"/dramas/{theirs}/assets/{item['id']}"), 404, 1002)
    r = other_api.delete(f"/dramas/{theirs}/characters/batch", params={"ids": mei["id"]})
    assert r.json()["data"]["deleted"] == []
    # Nothing changed.
    assert api.get(f"{chars}/{mei['id']}").json()["data"]["name"] == "苏梅"
    assert api.get(assets).json()["pagination"]["total"] == 1
    assert api.get(chars).json()["pagination"]["total"] == 1


def test_openapi_lists_the_new_endpoints(api: Api) -> None:
    paths = api.http.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/dramas/{drama_id}/characters",
        "/api/v1/dramas/{drama_id}/characters/batch",
        "/api/v1/dramas/{drama_id}/characters/{character_id}",
        "/api/v1/dramas/{drama_id}/characters/{character_id}/generate-image",
        "/api/v1/dramas/{drama_id}/characters/{character_id}/upload-image",
        "/api/v1/dramas/{drama_id}/assets",
        "/api/v1/dramas/{drama_id}/assets/upload",
        "/api/v1/dramas/{drama_id}/assets/generate",
        "/api/v1/dramas/{drama_id}/assets/{asset_id}",
    ):
        assert path in paths, path
    upload_body = paths["/api/v1/dramas/{drama_id}/assets/upload"]["post"]["requestBody"]
    assert "multipart/form-data" in upload_body["content"]


@pytest.mark.parametrize("field", ["file"])
def test_upload_without_multipart_is_400(api: Api, field: str) -> None:
    drama = new_drama(api)
    r = api.post(
        f"/dramas/{drama}/assets/upload", content=b"raw", headers={"Content-Type": "image/png"}
    )
    assert_error(r, 400, 1001)
    assert r.json()["error"]["field"] == field
