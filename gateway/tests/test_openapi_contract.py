"""Every endpoint is in the OpenAPI document with its request and response models.

Walks the app's routes and the document it generates (the one served at /openapi.json), so a
router added later is held to the same rules without touching this file:

* each operation under /api/v1 answers a documented 2xx body: the success envelope
  `{code, message, data}` as a named model, or a binary download (a ZIP, an MP4);
* each POST, PUT and PATCH documents its request body (JSON model or multipart form), except
  the bodiless actions listed in `BODILESS_ACTIONS`;
* each documents its failures as the error envelope.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from storyreel_core.settings import Settings
from storyreel_gateway.app import API_PREFIX, create_app

# Actions on the resource their path names, with nothing more to say: no body to document.
BODILESS_ACTIONS = {
    ("POST", "/api/v1/tasks/{task_id}/cancel"),
    ("POST", "/api/v1/tasks/{task_id}/retry"),
    ("POST", "/api/v1/auth/api-users/{api_user_id}/regenerate-key"),
    ("POST", "/api/v1/auth/api-users/{api_user_id}/disable"),
    ("POST", "/api/v1/auth/api-users/{api_user_id}/enable"),
    ("POST", "/api/v1/workflow/{workflow_id}/pause"),
    ("POST", "/api/v1/workflow/{workflow_id}/resume"),
    ("POST", "/api/v1/workflow/{workflow_id}/cancel"),
    ("POST", "/api/v1/workflow/{workflow_id}/retry"),
}
WRITES = ("post", "put", "patch")
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    return create_app(Settings(data_dir=tmp_path_factory.mktemp("openapi")))


@pytest.fixture(scope="module")
def doc(app: FastAPI) -> dict[str, Any]:
    return app.openapi()


def operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        if path.startswith(API_PREFIX + "/")
        for method, op in item.items()
        if method in METHODS
    ]


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        node: Any = doc
        for part in schema["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        schema = node
    return schema


def is_download(content: dict[str, Any]) -> bool:
    """A file download (binary schema) or an event stream (OpenAPI 3.2's `itemSchema`)."""
    return any(
        (media_type != "application/json" and body.get("schema", {}).get("format") == "binary")
        or (media_type == "text/event-stream" and "itemSchema" in body)
        for media_type, body in content.items()
    )


def is_text(content: dict[str, Any]) -> bool:
    """A plain-text body (Prometheus metrics), not JSON."""
    return set(content) == {"text/plain"} and content["text/plain"]["schema"]["type"] == "string"


def test_the_document_lists_the_api(doc: dict[str, Any]) -> None:
    ops = operations(doc)
    assert len(ops) >= 40
    labels = {f"{method} {path}" for method, path, _ in ops}
    for expected in (
        "POST /api/v1/auth/register",
        "GET /api/v1/dramas",
        "PATCH /api/v1/dramas/{drama_id}",
        "POST /api/v1/dramas/{drama_id}/assets/upload",
        "GET /api/v1/tasks/{task_id}",
        "POST /api/v1/pipeline/render",
    ):
        assert expected in labels


def test_every_route_declares_its_response_model(app: FastAPI) -> None:
    missing = [
        f"{sorted(route.methods or ())} {route.path}"
        for route in app.routes
        if isinstance(route, APIRoute)
        and route.path.startswith(API_PREFIX + "/")
        and route.include_in_schema
        and route.response_model is None
    ]
    assert not missing, f"routes without response_model: {missing}"


def test_every_operation_documents_a_success_body(doc: dict[str, Any]) -> None:
    problems = []
    for method, path, op in operations(doc):
        label = f"{method} {path}"
        bodies = {
            status: response["content"]
            for status, response in op["responses"].items()
            if status.startswith("2") and response.get("content")
        }
        if not bodies:
            problems.append(f"{label}: no documented success body")
        for status, content in bodies.items():
            if is_download(content) or is_text(content):
                continue
            schema = content.get("application/json", {}).get("schema", {})
            if "$ref" not in schema:
                problems.append(f"{label}: the {status} body is not a named model")
            elif not {"code", "message", "data"} <= set(resolve(doc, schema).get("properties", {})):
                problems.append(f"{label}: the {status} body is not the envelope")
    assert not problems, "\n".join(problems)


def test_every_write_documents_its_request_body(doc: dict[str, Any]) -> None:
    problems = []
    for method, path, op in operations(doc):
        if method.lower() not in WRITES:
            continue
        body = op.get("requestBody")
        if (method, path) in BODILESS_ACTIONS:
            assert body is None, f"{method} {path} has a body now: take it off BODILESS_ACTIONS"
            continue
        if body is None:
            problems.append(f"{method} {path}: no requestBody (or add it to BODILESS_ACTIONS)")
            continue
        for media_type, entry in body.get("content", {}).items():
            schema = entry.get("schema", {})
            options = schema.get("anyOf", [schema])
            if not any("$ref" in s or resolve(doc, s).get("properties") for s in options):
                problems.append(f"{method} {path}: the {media_type} body has no model")
        if not body.get("content"):
            problems.append(f"{method} {path}: the requestBody has no content")
    assert not problems, "\n".join(problems)


def test_every_operation_documents_the_error_envelope(doc: dict[str, Any]) -> None:
    problems = []
    for method, path, op in operations(doc):
        for status in ("400", "404"):
            schema = op["responses"].get(status, {}).get("content", {})
            schema = schema.get("application/json", {}).get("schema", {})
            if schema.get("$ref") != "#/components/schemas/ErrorEnvelope":
                problems.append(f"{method} {path}: {status} is not the error envelope")
    assert not problems, "\n".join(problems)


def test_bodiless_actions_exist(doc: dict[str, Any]) -> None:
    labels = {(method, path) for method, path, _ in operations(doc)}
    assert labels >= BODILESS_ACTIONS, BODILESS_ACTIONS - labels


def test_the_health_check_is_documented(doc: dict[str, Any]) -> None:
    schema = doc["paths"]["/health"]["get"]["responses"]["200"]["content"]["application/json"]
    assert "$ref" in schema["schema"]


def test_the_media_download_documents_range_and_refusals(doc: dict[str, Any]) -> None:
    responses = doc["paths"]["/media/{key}"]["get"]["responses"]
    assert is_download(responses["200"]["content"])
    assert {"206", "400", "403", "404", "416"} <= set(responses)
