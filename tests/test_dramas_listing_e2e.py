"""Listings through the running platform: pages, ordering and keyword search over several pages.

Every list answers `pagination: {page, per_page, total, total_pages}`; `per_page` is 1-100 and
anything else a 400 (code 1001). Walking the pages of any filter and order gives every match
exactly once, in that order. Dramas order by created_at (default, newest first), updated_at or
name, either way; characters list oldest first, assets newest first. Keywords are
case-insensitive substrings of the name, never patterns.

PUT replaces a drama (absent fields go back to their defaults); PATCH merges (absent fields stay).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from e2e_client import Api, png

# Created in this order; the names sort differently, so each order is visible.
KITES = ["Kite 4", "Kite 1", "Kite 6", "Kite 2", "Kite 7", "Kite 3", "Kite 5"]
ROOKS = ["Rook b", "Rook a"]


def walk(api: Api, path: str, per_page: int, **params: Any) -> tuple[list[dict[str, Any]], int]:
    """Every page of a listing, checking each page's pagination block; (items, total)."""
    first = api.get(path, params={**params, "per_page": per_page})
    assert first.status_code == 200, first.text
    total = first.json()["pagination"]["total"]
    pages = max(-(-total // per_page), 1)
    items: list[dict[str, Any]] = []
    for page in range(1, pages + 2):  # one page past the end too: it is empty
        r = api.get(path, params={**params, "per_page": per_page, "page": page})
        assert r.status_code == 200, r.text
        body = r.json()
        expected_pages = -(-total // per_page)
        assert body["pagination"] == {
            "page": page,
            "per_page": per_page,
            "total": total,
            "total_pages": expected_pages,
        }
        expected_len = min(per_page, max(total - (page - 1) * per_page, 0))
        assert len(body["data"]) == expected_len, (page, body["data"])
        items += body["data"]
    ids = [i["id"] for i in items]
    assert len(ids) == len(set(ids)) == total, "a page repeated or skipped an item"
    return items, total


def names(items: list[dict[str, Any]]) -> list[str]:
    return [i["name"] for i in items]


def create_dramas(api: Api, wanted: list[str]) -> dict[str, dict[str, Any]]:
    made = {}
    for name in wanted:
        r = api.post("/dramas", json={"name": name})
        assert r.status_code == 201, r.text
        made[name] = r.json()["data"]
        time.sleep(0.003)  # timestamps are to the millisecond: keep the creation order strict
    return made


def test_dramas_order_by_each_field_both_ways_over_pages(api: Api) -> None:
    made = create_dramas(api, KITES)

    by_name, total = walk(api, "/dramas", 3, order_by="name", order="asc")
    assert total == 7 and names(by_name) == sorted(KITES)
    by_name_desc, _ = walk(api, "/dramas", 3, order_by="name", order="desc")
    assert names(by_name_desc) == sorted(KITES, reverse=True)

    oldest_first, _ = walk(api, "/dramas", 2, order_by="created_at", order="asc")
    assert names(oldest_first) == KITES
    newest_first, _ = walk(api, "/dramas", 2, order_by="created_at", order="desc")
    assert names(newest_first) == KITES[::-1]
    default, _ = walk(api, "/dramas", 4)
    assert names(default) == KITES[::-1]  # created_at, newest first

    # Touch the drama created third: it becomes the most recently updated.
    touched = made["Kite 6"]
    r = api.patch(f"/dramas/{touched['id']}", json={"description": "touched"})
    assert r.status_code == 200, r.text
    recent, _ = walk(api, "/dramas", 3, order_by="updated_at", order="desc")
    assert names(recent)[0] == "Kite 6"
    assert names(recent)[1:] == [n for n in KITES[::-1] if n != "Kite 6"]
    stale_first, _ = walk(api, "/dramas", 3, order_by="updated_at", order="asc")
    assert names(stale_first)[-1] == "Kite 6"


def test_drama_keyword_search_over_pages(api: Api) -> None:
    create_dramas(api, KITES + ROOKS + ["100% Kite_ish"])
    found, total = walk(api, "/dramas", 2, keyword="kite", order_by="name", order="asc")
    assert total == 8 and names(found) == sorted([*KITES, "100% Kite_ish"])
    found, total = walk(api, "/dramas", 3, keyword="ITE ", order_by="created_at", order="desc")
    assert total == 7 and names(found) == KITES[::-1]
    found, total = walk(api, "/dramas", 1, keyword="Rook")
    assert total == 2 and names(found) == ["Rook a", "Rook b"]
    # Keywords are text, not patterns: % and _ match only themselves.
    assert names(walk(api, "/dramas", 5, keyword="%")[0]) == ["100% Kite_ish"]
    assert names(walk(api, "/dramas", 5, keyword="e_i")[0]) == ["100% Kite_ish"]
    assert walk(api, "/dramas", 5, keyword="no such drama")[1] == 0


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"per_page": 101}, "per_page"),
        ({"per_page": 0}, "per_page"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"order_by": "status"}, "order_by"),
        ({"order": "sideways"}, "order"),
        ({"keyword": "k" * 101}, "keyword"),
    ],
)
def test_bad_drama_list_parameters_are_400(api: Api, params: dict[str, Any], field: str) -> None:
    r = api.get("/dramas", params=params)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == 1001 and r.json()["error"]["field"] == field


def test_a_hundred_per_page_is_allowed(api: Api) -> None:
    r = api.get("/dramas", params={"per_page": 100})
    assert r.status_code == 200 and r.json()["pagination"]["per_page"] == 100


def test_put_replaces_and_patch_merges(api: Api) -> None:
    settings = {"aspect_ratio": "9:16", "fps": 24}
    r = api.post(
        "/dramas", json={"name": "Tea", "description": "a tea house", "settings": settings}
    )
    assert r.status_code == 201, r.text
    drama = r.json()["data"]
    path = f"/dramas/{drama['id']}"

    patched = api.patch(path, json={"description": "the tea house"}).json()["data"]
    assert patched["name"] == "Tea" and patched["settings"] == settings
    assert patched["description"] == "the tea house" and patched["version"] == 2
    assert patched["created_at"] == drama["created_at"]
    assert patched["updated_at"] >= drama["updated_at"]

    patched = api.patch(path, json={"settings": {"fps": 30}, "description": None}).json()["data"]
    assert patched["settings"] == {"fps": 30}  # a field given is replaced whole
    assert patched["description"] == "the tea house"  # null is "leave it"
    nothing = api.patch(path, json={}).json()["data"]
    assert nothing["name"] == "Tea" and nothing["settings"] == {"fps": 30}

    replaced = api.put(path, json={"name": "Tea 2"}).json()["data"]
    assert replaced["name"] == "Tea 2"
    assert replaced["description"] == "" and replaced["settings"] == {}
    assert replaced["version"] == nothing["version"] + 1

    r = api.put(path, json={"description": "no name"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "name"
    api.post("/dramas", json={"name": "Taken"})
    for write in (api.put, api.patch):
        r = write(path, json={"name": "Taken"})
        assert r.status_code == 409 and r.json()["code"] == 1003
        r = write(path, json={"name": "Tea 3", "version": 1})
        assert r.status_code == 409 and r.json()["code"] == 1003
        assert r.json()["error"]["field"] == "version"
    assert api.get(path).json()["data"]["name"] == "Tea 2"


def new_drama(api: Api) -> str:
    r = api.post("/dramas", json={"name": f"Listing {time.monotonic_ns()}"})
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


def test_character_keyword_search_over_pages(api: Api) -> None:
    base = f"/dramas/{new_drama(api)}/characters"
    for name in ["Kite 4", "Rook b", "Kite 1", "Kite 6", "Rook a", "Kite 2", "Kite 7"]:
        assert api.post(base, json={"name": name}).status_code == 201
        time.sleep(0.003)
    everyone, total = walk(api, base, 3)
    assert total == 7  # oldest first
    assert names(everyone) == ["Kite 4", "Rook b", "Kite 1", "Kite 6", "Rook a", "Kite 2", "Kite 7"]
    kites, total = walk(api, base, 2, keyword="KITE")
    assert total == 5 and names(kites) == ["Kite 4", "Kite 1", "Kite 6", "Kite 2", "Kite 7"]
    assert names(walk(api, base, 1, keyword="rook")[0]) == ["Rook b", "Rook a"]
    assert walk(api, base, 2, keyword="%")[1] == 0
    r = api.get(base, params={"per_page": 101})
    assert r.status_code == 400 and r.json()["error"]["field"] == "per_page"


def test_asset_keyword_and_type_search_over_pages(api: Api) -> None:
    drama = new_drama(api)
    base = f"/dramas/{drama}/assets"
    uploaded = []
    for i, name in enumerate(["kite 1.png", "rook.png", "kite 2.png", "kite 3.png", "kite 4.png"]):
        r = api.post(
            f"{base}/upload",
            files={"file": (name, png((16 + i, 16)), "image/png")},
            data={"type": "prop" if name == "kite 4.png" else "image"},
        )
        assert r.status_code == 201, r.text
        uploaded.append(name)
        time.sleep(0.003)
    everything, total = walk(api, base, 2)
    assert total == 5 and names(everything) == uploaded[::-1]  # newest first
    kites, total = walk(api, base, 2, keyword="Kite")
    assert total == 4 and names(kites) == ["kite 4.png", "kite 3.png", "kite 2.png", "kite 1.png"]
    props, total = walk(api, base, 1, keyword="kite", type="prop")
    assert total == 1 and names(props) == ["kite 4.png"]
    r = api.get(base, params={"per_page": 101})
    assert r.status_code == 400 and r.json()["error"]["field"] == "per_page"
