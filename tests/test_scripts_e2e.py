"""Scripts under a drama through the running platform: CRUD, versions, generation, ownership."""

from __future__ import annotations

import time
from typing import Any

import pytest
from e2e_client import Api

from storyreel_core.drama_models import Screenplay

ZH_STORY = (
    "一位独行武者穿越废土城市寻找真相。他在茶馆遇见老板娘苏梅。"
    "苏梅说：“真相在北边的高塔。”夜里，他登上高塔，看见了燃烧的城市。"
)
MARKDOWN = """# 灯塔

![封面](cover.png)

年轻的守灯人阿澜在海边捡到一个漂流瓶。

阿澜说：“有人在等我。”

夜里，她划船去了那座岛。
"""


def new_drama(api: Api, name: str = "Scripts") -> str:
    r = api.post("/dramas", json={"name": f"{name} {time.monotonic_ns()}"})
    assert r.status_code == 201, r.text
    return str(r.json()["data"]["id"])


def new_script(api: Api, drama_id: str, **fields: Any) -> dict[str, Any]:
    body = {"title": "Pilot", "content": "Scene 1: a tea house.", **fields}
    r = api.post(f"/dramas/{drama_id}/scripts", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def wait_done(api: Api, task_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = api.get(f"/tasks/{task_id}").json()["data"]
        if task["status"] in ("completed", "failed", "cancelled"):
            assert task["status"] == "completed", task
            return dict(task)
        time.sleep(0.3)
    raise AssertionError(f"task {task_id} did not finish")


def test_create_get_update_with_versions_and_conflicts(api: Api) -> None:
    drama_id = new_drama(api)
    created = new_script(
        api,
        drama_id,
        content="场景一：茶馆（日）\n旁白：他走进茶馆。 He sits down.",
        scenes=[{"id": "s1", "location": "茶馆"}],
        metadata={"genre": "wuxia"},
    )
    assert created["version"] == 1 and created["status"] == "draft"
    assert created["scene_count"] == 1
    assert created["word_count"] == 13 + 3  # 13 ideographs, three English words
    assert created["metadata"] == {"genre": "wuxia"} and created["created_at"]
    path = f"/dramas/{drama_id}/scripts/{created['id']}"
    assert api.get(path).json()["data"] == created

    r = api.put(path, json={"content": "Second draft text", "version": 1, "message": "tighter"})
    assert r.status_code == 200, r.text
    second = r.json()["data"]
    assert second["version"] == 2 and second["title"] == "Pilot"
    assert second["word_count"] == 3 and second["scenes"] == created["scenes"]
    assert second["updated_at"] >= created["updated_at"]

    stale = api.put(path, json={"content": "lost edit", "version": 1})
    assert stale.status_code == 409 and stale.json()["code"] == 1003
    assert stale.json()["error"]["field"] == "version"
    assert api.get(path).json()["data"]["content"] == "Second draft text"

    third = api.put(path, json={"title": "Renamed", "status": "completed"}).json()["data"]
    assert third["version"] == 3 and third["status"] == "completed"

    versions = api.get(f"{path}/versions").json()
    assert versions["pagination"]["total"] == 3
    assert [v["version"] for v in versions["data"]] == [3, 2, 1]
    assert versions["data"][1]["message"] == "tighter"
    v1 = versions["data"][2]
    assert v1["script_id"] == created["id"] and v1["content"] == created["content"]
    assert {"id", "title", "message", "created_at"} <= set(v1)

    restored = api.post(f"{path}/versions/{v1['id']}/restore")
    assert restored.status_code == 200, restored.text
    data = restored.json()["data"]
    assert data["version"] == 4 and data["content"] == created["content"]
    assert data["title"] == "Pilot"
    after = api.get(f"{path}/versions", params={"per_page": 2}).json()
    assert after["pagination"] == {"page": 1, "per_page": 2, "total": 4, "total_pages": 2}
    assert after["data"][0]["message"] == "restored from version 1"
    stale_restore = api.post(f"{path}/versions/{v1['id']}/restore", json={"version": 3})
    assert stale_restore.status_code == 409 and stale_restore.json()["code"] == 1003


def test_scripts_list_newest_first_over_pages(api: Api) -> None:
    drama_id = new_drama(api)
    ids = [new_script(api, drama_id, title=f"Script {i}")["id"] for i in range(5)]
    page1 = api.get(f"/dramas/{drama_id}/scripts", params={"per_page": 2}).json()
    page3 = api.get(f"/dramas/{drama_id}/scripts", params={"per_page": 2, "page": 3}).json()
    assert page1["pagination"] == {"page": 1, "per_page": 2, "total": 5, "total_pages": 3}
    assert [s["id"] for s in page1["data"]] == [ids[4], ids[3]]
    assert [s["id"] for s in page3["data"]] == [ids[0]]
    empty = api.get(f"/dramas/{new_drama(api)}/scripts").json()
    assert empty["data"] == [] and empty["pagination"]["total"] == 0


def test_bad_script_bodies_are_400(api: Api) -> None:
    drama_id = new_drama(api)
    for body in ({"content": "no title"}, {"title": "t", "content": ""}, {"title": "t"}):
        r = api.post(f"/dramas/{drama_id}/scripts", json=body)
        assert r.status_code == 400 and r.json()["code"] == 1001, body
    r = api.post(f"/dramas/{drama_id}/scripts", json={"title": "t", "content": "c", "scenes": [1]})
    assert r.status_code == 400
    sid = new_script(api, drama_id)["id"]
    r = api.put(f"/dramas/{drama_id}/scripts/{sid}", json={"status": "published"})
    assert r.status_code == 400 and r.json()["code"] == 1001


def test_generate_from_a_prompt(api: Api) -> None:
    drama_id = new_drama(api)
    r = api.post(
        f"/dramas/{drama_id}/scripts/generate",
        json={"prompt": ZH_STORY, "style": "赛博朋克", "length": "short"},
    )
    assert r.status_code == 202, r.text
    accepted = r.json()["data"]
    assert accepted["status"] == "pending" and accepted["estimated_time"] > 0
    task = wait_done(api, accepted["task_id"])
    result = task["result"]
    assert result["status"] == "completed" and result["drama_id"] == drama_id
    assert result["scene_count"] == 3 and len(result["scenes"]) == 3
    assert "场景一：" in result["content"] and "旁白：" in result["content"]
    Screenplay.model_validate(
        {"title": result["title"], "language": "zh", "scenes": result["scenes"]}
    )
    meta = result["metadata"]
    assert meta["language"] == "zh" and meta["style"] == "赛博朋克"
    assert meta["input_type"] == "prompt" and meta["characters"]
    fetched = api.get(f"/dramas/{drama_id}/scripts/{result['id']}").json()["data"]
    assert fetched["content"] == result["content"] and fetched["version"] == 1
    versions = api.get(f"/dramas/{drama_id}/scripts/{result['id']}/versions").json()
    assert versions["data"][0]["message"] == "generated from prompt"


def test_generate_from_novel_text_in_english(api: Api) -> None:
    drama_id = new_drama(api)
    novel = (
        "Mara kept the lighthouse on the northern cliff. One morning she found a bottle "
        'on the beach. "Someone is waiting for me," Mara said. At night she rowed to the '
        "island and met an old fisherman named Tobias. Tobias told her about the storm."
    )
    r = api.post(
        f"/dramas/{drama_id}/scripts/generate",
        json={"input_type": "novel", "input_content": novel, "length": "medium", "language": "en"},
    )
    assert r.status_code == 202, r.text
    result = wait_done(api, r.json()["data"]["task_id"])["result"]
    # Five sentences make five scenes, however many "medium" asks for: nothing is invented,
    # and the script says why it has fewer.
    assert result["scene_count"] == 5 and result["content"].count("Scene ") == 5
    assert "Scene 1: " in result["content"]
    assert result["metadata"]["input_type"] == "novel" and result["metadata"]["language"] == "en"
    assert "6 scenes" in result["metadata"]["notes"][0]
    assert api.get(f"/dramas/{drama_id}/scripts/{result['id']}").status_code == 200


def test_generate_from_an_uploaded_markdown_file(api: Api) -> None:
    drama_id = new_drama(api)
    r = api.post(
        f"/dramas/{drama_id}/scripts/generate",
        data={"length": "short", "style": "水墨", "title": "灯塔"},
        files={"file": ("lighthouse.md", MARKDOWN.encode(), "text/markdown")},
    )
    assert r.status_code == 202, r.text
    result = wait_done(api, r.json()["data"]["task_id"])["result"]
    assert result["title"] == "灯塔" and result["scene_count"] == 3
    meta = result["metadata"]
    assert meta["input_type"] == "markdown" and meta["source_name"] == "lighthouse.md"
    assert "cover.png" not in result["content"] and "场景一：" in result["content"]
    listed = api.get(f"/dramas/{drama_id}/scripts").json()["data"]
    assert [s["id"] for s in listed] == [result["id"]]


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        (("story.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"), 415, 3002),
        (("story.txt", "一个故事".encode("gbk"), "text/plain"), 415, 3002),
        (("story.txt", b"abc\x00def" * 10, "text/plain"), 415, 3002),
        (("story.md", b"a" * (1024 * 1024 + 1), "text/markdown"), 413, 3003),
        (("story.md", b"  \n\n ", "text/markdown"), 400, 1001),
        (("story.md", b"", "text/markdown"), 400, 1001),
    ],
)
def test_bad_uploads_are_refused(
    api: Api, payload: tuple[str, bytes, str], status: int, code: int
) -> None:
    drama_id = new_drama(api)
    r = api.post(f"/dramas/{drama_id}/scripts/generate", files={"file": payload})
    assert r.status_code == status, r.text
    assert r.json()["code"] == code
    assert api.get(f"/dramas/{drama_id}/scripts").json()["pagination"]["total"] == 0


def test_bad_generate_requests_are_refused(api: Api) -> None:
    drama_id = new_drama(api)
    path = f"/dramas/{drama_id}/scripts/generate"
    cases: list[tuple[dict[str, Any], int, int]] = [
        ({}, 400, 1001),
        ({"prompt": "   "}, 400, 1001),
        ({"prompt": "x", "length": "epic"}, 400, 1001),
        ({"prompt": "x", "language": "fr"}, 400, 1001),
        ({"input_type": "novel", "input_content": ""}, 400, 1001),
        ({"input_type": "novel", "input_content": "a" * (1024 * 1024 + 1)}, 413, 3003),
    ]
    for body, status, code in cases:
        r = api.post(path, json=body)
        assert (r.status_code, r.json()["code"]) == (status, code), (body, r.text)
    r = api.post(path, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == 1001
    assert (
        api.post("/dramas/drama_missing/scripts/generate", json={"prompt": "x"}).status_code == 404
    )


def test_another_users_scripts_are_404_everywhere(api: Api, other_api: Api) -> None:
    drama_id = new_drama(api)
    script = new_script(api, drama_id)
    sid = script["id"]
    vid = api.get(f"/dramas/{drama_id}/scripts/{sid}/versions").json()["data"][0]["id"]
    base = f"/dramas/{drama_id}/scripts"
    attempts = [
        other_api.post(base, json={"title": "t", "content": "c"}),
        other_api.get(base),
        other_api.post(f"{base}/generate", json={"prompt": "a story"}),
        other_api.post(
            f"{base}/generate", files={"file": ("s.md", b"# A story\n\nText.", "text/markdown")}
        ),
        other_api.get(f"{base}/{sid}"),
        other_api.put(f"{base}/{sid}", json={"content": "stolen"}),
        other_api.delete(f"{base}/{sid}"),
        other_api.get(f"{base}/{sid}/versions"),
        other_api.post(f"{base}/{sid}/versions/{vid}/restore"),
    ]
    # The other user's own drama does not reach this script either.
    theirs = new_drama(other_api)
    attempts += [
        other_api.get(f"/dramas/{theirs}/scripts/{sid}"),
        other_api.put(f"/dramas/{theirs}/scripts/{sid}", json={"content": "stolen"}),
        other_api.get(f"/dramas/{theirs}/scripts/{sid}/versions"),
        other_api.post(f"/dramas/{theirs}/scripts/{sid}/versions/{vid}/restore"),
    ]
    for r in attempts:
        assert r.status_code == 404, (r.request.method, r.request.url, r.text)
        assert r.json()["code"] == 1002
    assert api.get(f"{base}/{sid}").json()["data"]["version"] == 1
    # Unknown ids of the owner are 404 too.
    assert api.get(f"{base}/script_unknown").status_code == 404
    assert api.get(f"{base}/script_unknown/versions").status_code == 404
    assert api.post(f"{base}/{sid}/versions/scriptver_unknown/restore").status_code == 404
    assert api.get("/dramas/drama_unknown/scripts").status_code == 404


def test_deleting_a_drama_deletes_its_scripts(api: Api) -> None:
    drama_id = new_drama(api)
    sid = new_script(api, drama_id)["id"]
    kept_drama = new_drama(api)
    kept = new_script(api, kept_drama)["id"]
    assert api.delete(f"/dramas/{drama_id}").status_code == 200
    assert api.get(f"/dramas/{drama_id}/scripts/{sid}").status_code == 404
    assert api.get(f"/dramas/{kept_drama}/scripts/{kept}").status_code == 200
    sid2 = new_script(api, kept_drama, title="Gone")["id"]
    assert api.delete(f"/dramas/{kept_drama}/scripts/{sid2}").status_code == 200
    assert api.get(f"/dramas/{kept_drama}/scripts/{sid2}").status_code == 404
    assert api.get(f"/dramas/{kept_drama}/scripts").json()["pagination"]["total"] == 1


def test_scripts_appear_in_openapi(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    paths = spec["paths"]
    base = "/api/v1/dramas/{drama_id}/scripts"
    assert {"get", "post"} <= set(paths[base])
    assert {"get", "put", "delete"} <= set(paths[base + "/{script_id}"])
    generate = paths[base + "/generate"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(generate)
    assert "post" in paths[base + "/{script_id}/versions/{version_id}/restore"]
    assert "ScriptOut" in spec["components"]["schemas"]


def test_generate_keeps_a_long_sentence_whole(api: Api) -> None:
    """Issue 13: the 68-character sentence comes back whole, through the whole API path."""
    sentence = (
        "林小雨在钟楼下等了三个小时，终于看见哥哥林大山从人群里走出来，手里还攥着那封写给母亲"
        "却始终没有寄出的信，她一下子就明白了他这些年的秘密。"
    )
    assert len(sentence) == 68
    drama_id = new_drama(api)
    r = api.post(
        f"/dramas/{drama_id}/scripts/generate",
        json={"prompt": sentence, "length": "medium"},
    )
    assert r.status_code == 202, r.text
    result = wait_done(api, r.json()["data"]["task_id"])["result"]

    (scene,) = result["scenes"]  # one sentence is one scene: nothing invented to fill six
    assert scene["narration"] == sentence
    assert scene["lines"] == [{"speaker": "narrator", "text": sentence}]
    assert f"旁白：{sentence}" in result["content"]
    names = sorted(c["name"] for c in result["metadata"]["characters"])
    assert names == ["林大山", "林小雨"]
    assert "6 scenes" in result["metadata"]["notes"][0]
