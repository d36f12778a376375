"""Bad input and ownership through the running platform: 4xx envelopes, never a 500."""

from __future__ import annotations

import pytest
from e2e_client import Api, assert_error, wait_task


@pytest.mark.parametrize("story", ["", "   \n\t  "])
def test_empty_story_is_refused(api: Api, story: str) -> None:
    r = api.post("/pipeline/render", json={"story": story})
    assert r.status_code == 400
    assert r.json()["code"] == 1001


def test_too_many_scenes_is_refused(api: Api) -> None:
    r = api.post("/pipeline/render", json={"story": "A tale.", "options": {"scene_count": 31}})
    assert r.status_code == 400 and r.json()["code"] == 1001
    assert "scene_count" in r.json()["error"]["field"]


def test_bad_resolution_is_refused(api: Api) -> None:
    r = api.post(
        "/pipeline/render", json={"story": "A tale.", "options": {"video": {"resolution": "big"}}}
    )
    assert r.status_code == 400 and r.json()["code"] == 1001


def test_unknown_task_is_404(api: Api) -> None:
    r = api.get("/tasks/task_doesnotexist")
    assert r.status_code == 404 and r.json()["code"] == 1002


def test_no_token_is_401(api: Api) -> None:
    r = api.http.get("/api/v1/tasks/task_x", headers={"Authorization": ""})
    assert r.status_code == 401 and r.json()["code"] == 1006


def test_tampered_token_is_401(api: Api) -> None:
    head, body, sig = api.token.split(".")
    tampered = f"{head}.{body}.{sig[:-2]}{'A' if sig[-2] != 'A' else 'B'}{sig[-1]}"
    r = api.http.get("/api/v1/users/me", headers={"Authorization": f"Bearer {tampered}"})
    assert r.status_code == 401 and r.json()["code"] == 1006


def test_another_users_task_and_drama_are_404(api: Api, other_api: Api) -> None:
    r = api.post(
        "/pipeline/render",
        json={
            "story": "A fox meets a crow.",
            "options": {"scene_count": 1, "video": {"resolution": "180x320"}},
        },
    )
    task_id = r.json()["data"]["task_id"]
    drama = api.post("/dramas", json={"name": "Mine"}).json()["data"]
    assert other_api.get(f"/tasks/{task_id}").status_code == 404
    assert other_api.post(f"/tasks/{task_id}/cancel").status_code == 404
    assert_error(other_api.post(f"/tasks/{task_id}/retry"), 404, 1002)
    for call in (other_api.get, other_api.delete):
        r = call(f"/dramas/{drama['id']}")
        assert r.status_code == 404 and r.json()["code"] == 1002
    r = other_api.put(f"/dramas/{drama['id']}", json={"name": "Stolen"})
    assert r.status_code == 404
    assert api.get(f"/dramas/{drama['id']}").json()["data"]["name"] == "Mine"


def test_a_cancelled_render_is_retried_to_completion(api: Api) -> None:
    """POST /tasks/{id}/retry: 409 while the task is unfinished or completed; a cancelled (or
    failed) render runs again and completes."""
    r = api.post(
        "/pipeline/render",
        json={
            "story": "A fox meets a crow.",
            "options": {"scene_count": 1, "video": {"resolution": "180x320"}},
        },
    )
    task_id = r.json()["data"]["task_id"]
    assert_error(api.post(f"/tasks/{task_id}/retry"), 409, 1003)
    assert api.post(f"/tasks/{task_id}/cancel").json()["data"]["status"] == "cancelled"
    r = api.post(f"/tasks/{task_id}/retry")
    assert r.status_code == 200, r.text
    assert r.json()["data"]["status"] == "pending" and r.json()["data"]["error"] is None
    done = wait_task(api, task_id, timeout=120)
    assert done["status"] == "completed", (done["error"], done.get("current_step"))
    assert done["result"]["video_url"]
    assert_error(api.post(f"/tasks/{task_id}/retry"), 409, 1003)
    assert_error(api.post("/tasks/task_doesnotexist/retry"), 404, 1002)


def test_drama_crud_pagination_and_conflicts(api: Api) -> None:
    for i in range(7):
        assert (
            api.post("/dramas", json={"name": f"Drama {i}", "settings": {"fps": 24}}).status_code
            == 201
        )
    assert api.post("/dramas", json={"name": "Drama 3"}).status_code == 409
    page1 = api.get("/dramas", params={"per_page": 3, "order_by": "name", "order": "asc"}).json()
    page3 = api.get(
        "/dramas", params={"per_page": 3, "page": 3, "order_by": "name", "order": "asc"}
    ).json()
    assert page1["pagination"] == {"page": 1, "per_page": 3, "total": 7, "total_pages": 3}
    assert [d["name"] for d in page1["data"]] == ["Drama 0", "Drama 1", "Drama 2"]
    assert [d["name"] for d in page3["data"]] == ["Drama 6"]
    found = api.get("/dramas", params={"keyword": "ama 5"}).json()
    assert [d["name"] for d in found["data"]] == ["Drama 5"]
    assert api.get("/dramas", params={"per_page": 101}).status_code == 400

    drama = page1["data"][0]
    patched = api.patch(f"/dramas/{drama['id']}", json={"description": "new"}).json()["data"]
    assert patched["name"] == "Drama 0" and patched["description"] == "new"
    assert patched["version"] == drama["version"] + 1
    replaced = api.put(f"/dramas/{drama['id']}", json={"name": "Drama 0b"}).json()["data"]
    assert replaced["description"] == "" and replaced["settings"] == {}
    stale = api.patch(f"/dramas/{drama['id']}", json={"name": "x", "version": drama["version"]})
    assert stale.status_code == 409
    assert api.delete(f"/dramas/{drama['id']}").status_code == 200
    assert api.get(f"/dramas/{drama['id']}").status_code == 404


def test_broken_json_and_wrong_types_are_400(api: Api) -> None:
    r = api.http.post(
        "/api/v1/dramas", content=b"{oops", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["code"] == 1001
    r = api.post("/dramas", json={"name": 42})
    assert r.status_code == 400 and r.json()["error"]["field"] == "name"
