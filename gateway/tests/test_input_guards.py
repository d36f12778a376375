"""Issue 8's poisoned inputs: each is refused by the gateway itself, before any service is called.

The gateway runs alone with every service address on a closed port (as in
test_fuzz_regressions.py): an input that got past the gateway would answer 503 instead of the
4xx asserted here, so each case proves nothing reached a service or a store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from storyreel_core.bus.nats_server import free_port
from storyreel_core.settings import Settings
from storyreel_gateway.app import build_state, create_app
from storyreel_gateway.json_body import DEFAULT_BODY_LIMIT

# Ids no one owns, in the platform's format, fixed: they appear in parametrized test ids,
# which must be the same in every collection (pytest-xdist's workers compare them).
DRAMA = "drama_0000000000000000000000000d01"
SCRIPT = "script_0000000000000000000000000501"
BOARD = "sb_0000000000000000000000000b01001"
JSON = {"content-type": "application/json"}
# One gateway for the module (Argon2 registration and app start-up are the slow part).
pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def client(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    dead = f"127.0.0.1:{free_port()}"
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("guards"),
        grpc_deadline_s=2.0,
        **{f"{name}_addr": dead for name in ("script", "asset", "storyboard", "tts", "video")},
        workflow_addr=dead,
    )
    state = await build_state(settings)
    app = create_app(settings, state)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            r = await c.post(
                "/api/v1/auth/register",
                json={"username": "guarded", "email": "g@example.com", "password": "pass-word-1"},
            )
            assert r.status_code == 201, r.text
            c.headers["Authorization"] = f"Bearer {r.json()['data']['access_token']}"
            yield c
    await state.docs.close()


def refused(r: httpx.Response, status: int, code: int, field: str | None = None) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    if field is not None:
        assert body["error"]["field"] == field, body
    for leak in ("grpc", "StatusCode", "sqlite", "Traceback", "_pb2"):
        assert leak not in r.text, r.text


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


# --- non-finite numbers ---------------------------------------------------------------------

NON_FINITE = [b"NaN", b"-Infinity", b"Infinity", b"1e400", b"-1e400"]
FREE_FORM: list[tuple[str, str, bytes]] = [
    # method, path, body with X where the poisoned value goes
    ("POST", "/api/v1/dramas", b'{"name":"x","settings":{"a":X}}'),
    ("PATCH", f"/api/v1/dramas/{DRAMA}", b'{"settings":{"a":[1,X]}}'),
    ("PUT", f"/api/v1/dramas/{DRAMA}", b'{"name":"x","settings":{"a":{"b":X}}}'),
    ("POST", f"/api/v1/dramas/{DRAMA}/scripts", b'{"title":"t","content":"c","metadata":{"a":X}}'),
    ("POST", f"/api/v1/dramas/{DRAMA}/scripts", b'{"title":"t","content":"c","scenes":[{"n":X}]}'),
    ("PUT", f"/api/v1/dramas/{DRAMA}/scripts/{SCRIPT}", b'{"metadata":{"a":X}}'),
    ("PUT", f"/api/v1/dramas/{DRAMA}/storyboards/{BOARD}", b'{"composition":{"a":X}}'),
    ("POST", "/api/v1/pipeline/render", b'{"story":"s","options":{"speed":X}}'),
]


@pytest.mark.parametrize("number", NON_FINITE)
@pytest.mark.parametrize(("method", "path", "body"), FREE_FORM)
async def test_a_non_finite_number_anywhere_is_a_400(
    client: httpx.AsyncClient, method: str, path: str, body: bytes, number: bytes
) -> None:
    r = await client.request(method, path, content=body.replace(b"X", number), headers=JSON)
    refused(r, 400, 1001)
    assert "finite" in r.json()["message"]


async def test_the_error_names_the_place(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/api/v1/dramas", content=b'{"name":"x","settings":{"a":[0,NaN]}}', headers=JSON
    )
    refused(r, 400, 1001, "settings.a.1")


# --- lone surrogates ------------------------------------------------------------------------

SURROGATES: list[tuple[str, str, bytes, str]] = [
    ("POST", "/api/v1/dramas", b'{"name":"x","settings":{"\\ud800":1}}', "settings"),
    ("POST", "/api/v1/dramas", b'{"name":"x","settings":{"a":"\\udfff"}}', "settings.a"),
    ("POST", "/api/v1/dramas", b'{"name":"\\ud800"}', "name"),
    (
        "POST",
        f"/api/v1/dramas/{DRAMA}/scripts",
        b'{"title":"t","content":"c","scenes":[{"narration":"\\ud800"}]}',
        "scenes.0.narration",
    ),
    (
        "POST",
        "/api/v1/pipeline/render",
        b'{"story":"s","options":{"voice":"\\ud800"}}',
        "options.voice",
    ),
    ("POST", f"/api/v1/dramas/{DRAMA}/scripts/generate", b'{"prompt":"\\ud800"}', "prompt"),
    (
        "POST",
        f"/api/v1/dramas/{DRAMA}/storyboards/{BOARD}/audio",
        b'{"voice":"\\ud800"}',
        "voice",
    ),
    ("POST", "/api/v1/auth/login", b'{"username":"\\ud800x","password":"p"}', "username"),
]


@pytest.mark.parametrize(("method", "path", "body", "field"), SURROGATES)
async def test_a_lone_surrogate_in_a_key_or_a_value_is_a_400(
    client: httpx.AsyncClient, method: str, path: str, body: bytes, field: str
) -> None:
    r = await client.request(method, path, content=body, headers=JSON)
    refused(r, 400, 1001, field)


# --- nesting and size of free-form objects --------------------------------------------------


@pytest.mark.parametrize("depth", [17, 64, 300, 100_000])
@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", "/api/v1/dramas", b'{"name":"x","settings":X}'),
        ("PATCH", f"/api/v1/dramas/{DRAMA}", b'{"settings":X}'),
        ("POST", f"/api/v1/dramas/{DRAMA}/scripts", b'{"title":"t","content":"c","metadata":X}'),
        ("PUT", f"/api/v1/dramas/{DRAMA}/scripts/{SCRIPT}", b'{"scenes":[X]}'),
    ],
)
async def test_deep_free_form_objects_are_a_400(
    client: httpx.AsyncClient, method: str, path: str, template: bytes, depth: int
) -> None:
    r = await client.request(method, path, content=template.replace(b"X", nested(depth)),
                             headers=JSON)  # fmt: skip
    refused(r, 400, 1001)
    assert "levels deep" in r.json()["message"]


@pytest.mark.parametrize(
    "settings",
    [
        {"$where": 1},
        {"a\x00b": 1},
        {"": 1},
        {"k" * 201: 1},
        {"big": 2**63},
        {"many": list(range(10_001))},
    ],
)
async def test_what_a_store_cannot_keep_is_a_400(
    client: httpx.AsyncClient, settings: dict[str, Any]
) -> None:
    r = await client.post("/api/v1/dramas", json={"name": "x", "settings": settings})
    refused(r, 400, 1001, "settings")


async def test_free_form_objects_within_the_bounds_pass(client: httpx.AsyncClient) -> None:
    settings = {"deep": json_nested(15), "n": 2**63 - 1, "f": 1.5e308, "中文": "文字"}
    r = await client.post("/api/v1/dramas", json={"name": "x", "settings": settings})
    refused(r, 503, 5003)  # validated, then the (closed) script service was called


def json_nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


# --- body caps ------------------------------------------------------------------------------


async def test_a_body_over_the_route_limit_is_a_413_before_it_is_read(
    client: httpx.AsyncClient,
) -> None:
    big = b'{"name":"' + b"x" * (20 * 1024 * 1024) + b'"}'
    r = await client.post("/api/v1/dramas", content=big, headers=JSON)
    refused(r, 413, 3003, "body")
    assert "1048576 bytes" in r.json()["message"]
    r = await client.post(f"/api/v1/dramas/{DRAMA}/characters", content=big, headers=JSON)
    refused(r, 413, 3003, "body")
    assert f"{DEFAULT_BODY_LIMIT} bytes" in r.json()["message"]


async def test_a_chunked_body_over_the_limit_is_a_413(client: httpx.AsyncClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b" " * (64 * 1024)

    r = await client.post(f"/api/v1/dramas/{DRAMA}/characters", content=chunks(), headers=JSON)
    refused(r, 413, 3003, "body")


async def test_each_route_documents_its_limit(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("post", "put", "patch"):
                assert "x-body-limit" in op, f"{method} {path}"
    upload = doc["paths"]["/api/v1/dramas/{drama_id}/assets/upload"]["post"]
    assert upload["x-body-limit"] == "STORYREEL_MAX_UPLOAD_BYTES"
    assert doc["paths"]["/api/v1/dramas"]["post"]["x-body-limit"] == 1024 * 1024


# --- ids ------------------------------------------------------------------------------------

MALFORMED_IDS = ["d" * 10_000, "drama_" + "0" * 95, "DRAMA_1", "drama_ABC", "drama_a-b", "x"]


@pytest.mark.parametrize("bad", MALFORMED_IDS)
async def test_a_malformed_id_is_a_404_at_the_edge(client: httpx.AsyncClient, bad: str) -> None:
    for path in (
        f"/api/v1/dramas/{bad}",
        f"/api/v1/dramas/{bad}/scripts",
        f"/api/v1/dramas/{DRAMA}/scripts/{bad}",
        f"/api/v1/dramas/{DRAMA}/storyboards/{bad}",
        f"/api/v1/dramas/{DRAMA}/videos/{bad}",
        f"/api/v1/tasks/{bad}",
    ):
        r = await client.get(path)
        refused(r, 404, 1002)


async def test_a_well_formed_unknown_id_reaches_the_service(client: httpx.AsyncClient) -> None:
    r = await client.get(f"/api/v1/dramas/{DRAMA}")
    refused(r, 503, 5003)  # the (closed) service was asked: the format let it through
    assert "127.0.0.1" not in r.text and "connect" not in r.text  # gRPC's details stay in the log


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"scene_count": 31}, "options.scene_count"),
        ({"scene_count": 0}, "options.scene_count"),
        ({"shots_per_scene": 5}, "options.shots_per_scene"),
        ({"speed": 2.5}, "options.speed"),
        ({"video": {"fps": 61}}, "options.video.fps"),
        ({"image": {"seed": 2**31}}, "options.image.seed"),
    ],
)
async def test_a_render_option_out_of_bounds_is_refused_at_the_edge(
    client: httpx.AsyncClient, options: dict[str, Any], field: str
) -> None:
    """The bounds are storyreel_core.render_models' (written once; the workflow checks the
    typed RenderOptions against them again): the gateway refuses before any service."""
    r = await client.post("/api/v1/pipeline/render", json={"story": "A lamp.", "options": options})
    refused(r, 400, 1001, field)


async def test_render_options_in_bounds_go_on_to_the_workflow(client: httpx.AsyncClient) -> None:
    options = {"scene_count": 30, "shots_per_scene": 4, "speed": 2.0, "video": {"fps": 60}}
    r = await client.post("/api/v1/pipeline/render", json={"story": "A lamp.", "options": options})
    refused(r, 503, 5003)  # typed onto the wire, then the (closed) workflow service was called
