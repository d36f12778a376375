"""Ownership across the whole API: another user's ids are a 404 (code 1002) on every endpoint.

The operations come from the live OpenAPI document, so an endpoint added later is swept
without touching this file: every operation under /api/v1 whose path names an id. User A
creates a drama with a script, a character with an image, an asset and a task; user B calls
each operation with A's ids and must get 404 with code 1002 — never a 2xx (a leak, or a
write to A's data), a 403 (which would confirm the id exists), a 400 or a 5xx.

Bodies are minimal valid ones derived from each operation's schema (required fields, and the
optional ones the schema gives an example for), so what is tested is the ownership check, not
validation; `BODY_OVERRIDES` holds the few bodies a schema cannot describe. Multipart uploads
get a small real PNG. Ids A cannot have yet (an endpoint of a router that creates a new kind
of thing) are fabricated with the right prefix: a foreign drama id must answer 404 before
anything else is looked at.

A second pass uses B's own drama with A's other ids (A's character under B's drama …): those
must not resolve either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from e2e_client import Api, png, wait_task
from owned_content import OwnedContent, create_owned_content

from storyreel_core.ids import new_id

METHODS = ("get", "put", "post", "patch", "delete")
PATH_PARAM = re.compile(r"\{(\w+)\}")

# What a schema cannot say: cross-field rules (a model validator) the minimal body would break.
BODY_OVERRIDES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/dramas/{drama_id}/assets/generate"): {
        "items": [{"kind": "prop", "name": "青锋剑"}]
    },
    ("POST", "/api/v1/dramas/{drama_id}/scripts/generate"): {"prompt": "小明在茶馆遇见老朋友"},
}


@dataclass
class Call:
    label: str
    method: str
    url: str
    kwargs: dict[str, Any] = field(default_factory=dict)


class SchemaExamples:
    """Minimal valid instances of the document's JSON schemas."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.doc
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def minimal(self, schema: dict[str, Any]) -> Any:
        schema = self.resolve(schema)
        if schema.get("examples"):
            return schema["examples"][0]
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [self.resolve(s) for s in schema[key]]
                usable = [s for s in options if s.get("type") != "null"] or options
                return self.minimal(usable[0])
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self.resolve(part))
            return self.minimal(merged)
        kind = schema.get("type", "object")
        if kind == "object":
            required = set(schema.get("required", []))
            return {
                name: self.minimal(prop)
                for name, prop in schema.get("properties", {}).items()
                if name in required or self.resolve(prop).get("examples")
            }
        if kind == "array":
            return [self.minimal(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
        if kind == "string":
            # An id field (`^sb_[0-9a-z_]{1,97}$`): a well-formed id of no one, so the request
            # passes validation and reaches the ownership check.
            shaped = re.match(r"\^([a-z]+_)\[", schema.get("pattern", ""))
            if shaped:
                return shaped.group(1) + "0"
            return "x" * max(schema.get("minLength", 1), 1)
        if kind in ("integer", "number"):
            return schema.get("minimum", 1)
        if kind == "boolean":
            return False
        return None


def request_kwargs(
    examples: SchemaExamples, method: str, path: str, op: dict[str, Any], ids: dict[str, str]
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    query = {
        p["name"]: ids.get(p["name"], "") or examples.minimal(p.get("schema", {}))
        for p in op.get("parameters", [])
        if p.get("in") == "query" and p.get("required")
    }
    if "ids" in query:  # a batch of ids: A's own
        query["ids"] = ",".join(ids.values())
    if query:
        kwargs["params"] = query
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = BODY_OVERRIDES.get((method, path))
        kwargs["json"] = (
            body if body is not None else examples.minimal(content["application/json"]["schema"])
        )
    elif "multipart/form-data" in content:
        schema = examples.resolve(content["multipart/form-data"]["schema"])
        files, data = {}, {}
        for name in schema.get("required", []):
            prop = examples.resolve(schema["properties"][name])
            if prop.get("format") == "binary" or "contentMediaType" in prop:
                files[name] = (f"{name}.png", png((64, 96)), "image/png")
            else:
                data[name] = str(examples.minimal(prop))
        kwargs["files"] = files
        kwargs["data"] = data
    return kwargs


def fabricated(name: str) -> str:
    """An id of a kind the test could not create (e.g. storyboard_id → storyboard_…)."""
    return new_id(name.removesuffix("_id"))


def sweep_calls(doc: dict[str, Any], owned: OwnedContent, own_drama: str) -> Iterator[Call]:
    examples = SchemaExamples(doc)
    foreign = owned.ids()
    for path, item in doc["paths"].items():
        names = PATH_PARAM.findall(path)
        if not path.startswith("/api/v1/") or not names:
            continue
        for method in METHODS:
            if method not in item:
                continue
            op, upper = item[method], method.upper()
            if "api-users" in op.get("tags", []):
                # Admin-only, owned by no user: every non-admin gets 403 whatever the id, so
                # nothing about an id leaks (gateway/tests/test_api_users.py).
                continue
            passes = [("A's ids", foreign)]
            if "drama_id" in names and len(names) > 1:
                passes.append(("B's drama, A's ids", {**foreign, "drama_id": own_drama}))
            for label, ids in passes:
                values = {n: ids.get(n) or fabricated(n) for n in names}
                yield Call(
                    f"{upper} {path} ({label})",
                    upper,
                    path.format(**values),
                    request_kwargs(examples, upper, path, op, foreign),
                )


@pytest.fixture
def owner_content(api: Api) -> OwnedContent:
    return create_owned_content(api, "Mine")


def test_another_users_ids_are_404_on_every_endpoint(
    api: Api, other_api: Api, owner_content: OwnedContent
) -> None:
    doc = other_api.http.get("/openapi.json").json()
    own = other_api.post("/dramas", json={"name": "B's own"})
    assert own.status_code == 201, own.text
    calls = list(sweep_calls(doc, owner_content, own.json()["data"]["id"]))
    # Deletes last: a delete that wrongly succeeded must not turn later checks into 404s.
    calls.sort(key=lambda c: c.method == "DELETE")

    wait_task(api, owner_content.task_id)  # its script lands now, not between the snapshots
    before = snapshot(api, owner_content)
    failures = []
    for call in calls:
        r = other_api.http.request(call.method, call.url, **call.kwargs)
        if r.status_code != 404 or business_code(r) != 1002:
            failures.append(f"{call.label} → {r.status_code} {r.text[:300]}")
    assert not failures, "answered other than 404/1002:\n" + "\n".join(failures)

    swept = {c.label.split(" (")[0] for c in calls}
    assert len(swept) >= 25, sorted(swept)  # the document was read, not an empty sweep
    for must in (
        "GET /api/v1/dramas/{drama_id}",
        "DELETE /api/v1/dramas/{drama_id}",
        "POST /api/v1/dramas/{drama_id}/characters/{character_id}/upload-image",
        "POST /api/v1/dramas/{drama_id}/assets/upload",
        "POST /api/v1/tasks/{task_id}/cancel",
        "PUT /api/v1/personas/{persona_id}",
        "DELETE /api/v1/conversations/{conversation_id}",
        "POST /api/v1/workflow/{workflow_id}/cancel",
    ):
        assert must in swept, must

    assert snapshot(api, owner_content) == before  # nothing of A's was changed
    assert api.get(f"/tasks/{owner_content.task_id}").status_code == 200
    workflow = api.get(f"/workflow/{owner_content.workflow_id}").json()["data"]
    assert workflow["status"] == "paused"  # B's pause/resume/cancel/retry changed nothing
    assert_not_listed(other_api, owner_content)


def business_code(r: httpx.Response) -> int | None:
    try:
        body = r.json()
    except ValueError:  # not JSON: a download, say
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) else None


def snapshot(api: Api, owned: OwnedContent) -> dict[str, Any]:
    """What A can read of their content, without the signed URLs (their expiry moves)."""
    base = f"/dramas/{owned.drama_id}"
    paths = (
        base,
        f"{base}/scripts/{owned.script_id}",
        f"{base}/scripts/{owned.script_id}/versions",
        f"{base}/characters/{owned.character_id}",
        f"{base}/characters",
        f"{base}/assets",
        f"{base}/assets/{owned.asset_id}",
        f"/personas/{owned.persona_id}",
        f"/conversations/{owned.conversation_id}/messages",  # GET of the thread stamps access
    )
    seen: dict[str, Any] = {}
    for path in paths:
        r = api.get(path)
        assert r.status_code == 200, (path, r.text)
        seen[path] = without_urls(r.json())
    return seen


def without_urls(value: Any) -> Any:
    if isinstance(value, list):
        return [without_urls(v) for v in value]
    if isinstance(value, dict):
        return {k: without_urls(v) for k, v in value.items() if not k.endswith("url")}
    return value


def assert_not_listed(other_api: Api, owned: OwnedContent) -> None:
    dramas = other_api.get("/dramas", params={"per_page": 100}).json()["data"]
    assert owned.drama_id not in {d["id"] for d in dramas}
    tasks = other_api.get("/tasks", params={"per_page": 100}).json()["data"]
    assert owned.task_id not in {t["task_id"] for t in tasks}
    workflows = other_api.get("/workflow", params={"page_size": 100}).json()["data"]
    assert owned.workflow_id not in {w["id"] for w in workflows["workflows"]}
