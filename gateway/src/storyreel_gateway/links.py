"""OpenAPI links: from each operation that creates something to those that read, change or
delete it, so a client (and schemathesis' stateful phase) can follow an id from one answer
into the next request.

A link names its target by `operationRef` (a JSON pointer into `paths`) and says where each
of its path parameters comes from: the created id in the answer's `data`, or the parent ids
of the request that created it.
"""

from __future__ import annotations

from typing import Any

API = "/api/v1"
DRAMA = f"{API}/dramas/{{drama_id}}"
SCRIPT = f"{DRAMA}/scripts/{{script_id}}"
CHARACTER = f"{DRAMA}/characters/{{character_id}}"
ASSET = f"{DRAMA}/assets/{{asset_id}}"
TASK = f"{API}/tasks/{{task_id}}"

IN_PATH = {"drama_id": "$request.path.drama_id"}


def _ref(path: str, method: str) -> str:
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def link(path: str, method: str, description: str, **parameters: str) -> dict[str, Any]:
    return {
        "operationRef": _ref(path, method),
        "parameters": parameters,
        "description": description,
    }


def links(status: int, **named: dict[str, Any]) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the links its `status` answer offers."""
    return {status: {"description": "created", "links": named}}


def _crud(path: str, what: str, ids: dict[str, str], methods: tuple[str, ...]) -> dict[str, Any]:
    verbs = {"get": "Get", "put": "Replace", "patch": "Update", "delete": "Delete"}
    return {
        f"{verbs[m]}{what}": link(path, m, f"{verbs[m].lower()} the {what.lower()}", **ids)
        for m in methods
    }


DRAMA_LINKS = links(
    201,
    **_crud(
        DRAMA, "Drama", {"drama_id": "$response.body#/data/id"}, ("get", "put", "patch", "delete")
    ),
    CreateScript=link(
        f"{DRAMA}/scripts", "post", "write a script for it", drama_id="$response.body#/data/id"
    ),
    CreateCharacter=link(
        f"{DRAMA}/characters", "post", "add a character", drama_id="$response.body#/data/id"
    ),
    GenerateAssets=link(
        f"{DRAMA}/assets/generate", "post", "design assets", drama_id="$response.body#/data/id"
    ),
)
SCRIPT_LINKS = links(
    201,
    **_crud(
        SCRIPT,
        "Script",
        {**IN_PATH, "script_id": "$response.body#/data/id"},
        ("get", "put", "delete"),
    ),
    ListScriptVersions=link(
        f"{SCRIPT}/versions", "get", "its versions", **IN_PATH, script_id="$response.body#/data/id"
    ),
)
CHARACTER_LINKS = links(
    201,
    **_crud(
        CHARACTER,
        "Character",
        {**IN_PATH, "character_id": "$response.body#/data/id"},
        ("get", "put", "patch", "delete"),
    ),
)
ASSET_LINKS = links(
    201,
    **_crud(ASSET, "Asset", {**IN_PATH, "asset_id": "$response.body#/data/id"}, ("get", "delete")),
)
TASK_LINKS = links(
    202,
    GetTask=link(TASK, "get", "follow the task", task_id="$response.body#/data/task_id"),
    CancelTask=link(
        f"{TASK}/cancel", "post", "cancel the task", task_id="$response.body#/data/task_id"
    ),
)
