"""Issue 8 against the running platform: what the gateway refuses is never stored, and what it
accepts can be read back and listed; renders and tasks in flight are bounded.

Each poisoned request once answered 500 after writing a document that broke every later
`GET /dramas` of its user; here each is a 4xx and the user's listings stay whole.
"""

from __future__ import annotations

from typing import Any

import pytest
from e2e_client import Api, assert_error
from owned_content import OwnedContent, create_owned_content

from storyreel_cli.platform_process import PlatformProcess

JSON = {"content-type": "application/json"}
LEAKS = ("grpc", "StatusCode", "sqlite", "Traceback", "_pb2", "metadata size")


def refused(r: Any, status: int, code: int) -> None:
    assert_error(r, status, code)
    for leak in LEAKS:
        assert leak not in r.text, r.text


def deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.fixture(scope="module")
def owner(platform: PlatformProcess) -> Api:
    return Api(platform.url)


@pytest.fixture(scope="module")
def owned(owner: Api) -> OwnedContent:
    return create_owned_content(owner, "Guards")


POISONED_DRAMAS = [
    b'{"name":"nan","settings":{"a":NaN}}',
    b'{"name":"inf","settings":{"a":-Infinity}}',
    b'{"name":"big","settings":{"a":1e400}}',
    b'{"name":"sur","settings":{"\\ud800":1}}',
    b'{"name":"deep","settings":' + deep(300) + b"}",
    b'{"name":"deeper","settings":' + deep(20) + b"}",
]


def test_poisoned_dramas_are_refused_and_nothing_is_stored(owner: Api) -> None:
    before = owner.get("/dramas", params={"per_page": 100})
    assert before.status_code == 200, before.text
    for body in POISONED_DRAMAS:
        refused(owner.post("/dramas", content=body, headers=JSON), 400, 1001)
    after = owner.get("/dramas", params={"per_page": 100})
    assert after.status_code == 200, after.text
    assert after.json()["pagination"]["total"] == before.json()["pagination"]["total"]


def test_poisoned_updates_and_scripts_leave_everything_readable(
    owner: Api, owned: OwnedContent
) -> None:
    drama = f"/dramas/{owned.drama_id}"
    script = f"{drama}/scripts/{owned.script_id}"
    for body in (b'{"settings":' + deep(300) + b"}", b'{"settings":{"a":NaN}}'):
        refused(owner.patch(drama, content=body, headers=JSON), 400, 1001)
    for body in (
        b'{"title":"t","content":"c","metadata":' + deep(300) + b"}",
        b'{"title":"t","content":"c","metadata":{"a":Infinity}}',
        b'{"title":"t","content":"c","scenes":[{"narration":"\\ud800"}]}',
    ):
        refused(owner.post(f"{drama}/scripts", content=body, headers=JSON), 400, 1001)
    refused(owner.put(script, content=b'{"scenes":[' + deep(300) + b"]}", headers=JSON), 400, 1001)
    for path in (drama, "/dramas", f"{drama}/scripts", script, f"{script}/versions"):
        r = owner.get(path)
        assert r.status_code == 200, (path, r.text)

    # The largest free-form object the gateway accepts is stored, read back and listed as sent.
    settings = {"deep": nested(16), "n": 2**63 - 1, "x": 1.5e308, "文": ["字", None, True]}
    r = owner.patch(drama, json={"settings": settings})
    assert r.status_code == 200, r.text
    assert owner.get(drama).json()["data"]["settings"] == settings
    listed = owner.get("/dramas", params={"per_page": 100}).json()["data"]
    assert next(d for d in listed if d["id"] == owned.drama_id)["settings"] == settings


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_lone_surrogates_in_render_and_generate_requests_are_400s(
    owner: Api, owned: OwnedContent
) -> None:
    refused(owner.post("/pipeline/render", content=b'{"story":"s","options":{"voice":"\\ud800"}}',
                       headers=JSON), 400, 1001)  # fmt: skip
    refused(owner.post(f"/dramas/{owned.drama_id}/scripts/generate",
                       content=b'{"prompt":"\\ud800"}', headers=JSON), 400, 1001)  # fmt: skip


def test_a_20_mb_body_is_a_413_without_grpc_text(owner: Api, owned: OwnedContent) -> None:
    big = b'{"title":"t","content":"' + b"x" * (20 * 1024 * 1024) + b'"}'
    r = owner.post(f"/dramas/{owned.drama_id}/scripts", content=big, headers=JSON)
    refused(r, 413, 3003)
    assert "8388608 bytes" in r.json()["message"]


def test_a_10000_character_id_is_a_404(owner: Api) -> None:
    for path in ("/dramas/" + "d" * 10_000, "/tasks/task_" + "0" * 9_995):
        refused(owner.get(path), 404, 1002)


def test_render_cost_is_bounded_on_every_route(owner: Api, owned: OwnedContent) -> None:
    drama = f"/dramas/{owned.drama_id}"
    huge = {"scene_count": 30, "shots_per_scene": 4,
            "video": {"fps": 60, "resolution": "4096x4096"}}  # fmt: skip
    r = owner.post("/pipeline/render", json={"story": "一个故事。", "options": huge})
    refused(r, 400, 1001)
    assert "STORYREEL_MAX_RENDER_PIXEL_FRAMES" in r.json()["message"]

    settings = {"resolution": "4096x4096", "frame_rate": 60, "duration": 120}
    clips = {"storyboard_ids": [owned.storyboard_id], "settings": settings}
    r = owner.post(f"{drama}/videos/generate", json=clips)
    refused(r, 400, 1001)
    assert "STORYREEL_MAX_RENDER_PIXEL_FRAMES" in r.json()["message"]

    r = owner.put(f"{drama}/storyboards/{owned.storyboard_id}", json={"duration": 60})
    assert r.status_code == 200, r.text
    r = owner.post(f"{drama}/videos/render", json={"resolution": "4096x4096", "frame_rate": 60})
    refused(r, 400, 1001)
    assert "STORYREEL_MAX_RENDER_PIXEL_FRAMES" in r.json()["message"]

    joined = {"video_ids": [owned.video_id] * 200,
              "output_settings": {"resolution": "4096x4096", "frame_rate": 60}}  # fmt: skip
    r = owner.post(f"{drama}/videos/concatenate", json=joined)
    refused(r, 400, 1001)
    assert "STORYREEL_MAX_RENDER_PIXEL_FRAMES" in r.json()["message"]


def test_tasks_in_flight_per_user_are_bounded(platform: PlatformProcess) -> None:
    """Renders are started until one is refused (the default limit is 10 pending or running);
    all are cancelled at the end, so the platform is quiet for the tests after this one."""
    user = Api(platform.url)
    small = {"scene_count": 1, "music": False, "video": {"fps": 6, "resolution": "64x112"}}
    started: list[str] = []
    refusal = None
    try:
        for _ in range(25):
            r = user.post("/pipeline/render", json={"story": "小明走进茶馆。", "options": small})
            if r.status_code == 429:
                refusal = r
                break
            assert r.status_code == 202, r.text
            started.append(r.json()["data"]["task_id"])
    finally:
        for task_id in started:
            user.post(f"/tasks/{task_id}/cancel")
    assert refusal is not None, "25 renders at once were all accepted"
    refused(refusal, 429, 1005)
    assert int(refusal.headers["retry-after"]) > 0
    assert "at most 10" in refusal.json()["message"]
    assert len(started) >= 10
