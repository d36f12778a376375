"""Request fields shared by the routers, bounded by what the gRPC wire types and stores carry.

An integer past its proto field's range makes the message constructor raise `ValueError`
inside the handler, which a client would see as a 500; bounding it in the model answers
400 (code 1001) naming the field instead.

Path ids are checked at the edge against the format `storyreel_core.ids` makes (prefix,
alphabet, length): a malformed one answers 404 (code 1002) like an unknown one, before any
service is called (a 10,000-character id once reached gRPC metadata).

Free-form objects (`FreeObject`) are bounded so that whatever is accepted can be stored by
every store (SQLite JSON, MongoDB BSON), read back and listed.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

from fastapi import Path
from pydantic import AfterValidator, Field, ValidationInfo

from storyreel_core.ids import MAX_ID_LENGTH, id_pattern

INT32_MAX = 2**31 - 1
# Versions travel as int64; the bound is the largest integer a JSON client (a JavaScript number,
# a float) holds exactly, so a value at the bound means the same to every client and validator.
MAX_SAFE_INTEGER = 2**53 - 1

ExpectedVersion = Annotated[
    int | None,
    Field(ge=1, le=MAX_SAFE_INTEGER, description="optimistic concurrency check (409 when stale)"),
]
Seed = Annotated[int, Field(ge=0, le=INT32_MAX)]
# Who draws an image, in every request that makes one (studio and seed 001 stages alike).
ImageProvider = Annotated[
    str,
    Field(max_length=64, description="an image provider of GET /providers; '' = offline"),
]
ImageModel = Annotated[str, Field(max_length=200, description="one of the provider's image models")]
NOT_BLANK = r"[^\s\x1c-\x1f]"
r"""Pattern of a text with something in it once Python's `str.strip()` has run (services strip):
Rust's `\s` (pydantic) leaves out the separators U+001C-U+001F that `strip()` removes."""

# --- path ids ------------------------------------------------------------------------------


def _id_doc(prefix: str) -> str:
    return f"`{prefix}_` then lowercase letters, digits and `_`; at most {MAX_ID_LENGTH} characters"


DramaId = Annotated[
    str, Path(pattern=id_pattern("drama"), max_length=MAX_ID_LENGTH, description=_id_doc("drama"))
]
ScriptId = Annotated[
    str,
    Path(pattern=id_pattern("script"), max_length=MAX_ID_LENGTH, description=_id_doc("script")),
]
VersionId = Annotated[
    str,
    Path(
        pattern=id_pattern("scriptver"),
        max_length=MAX_ID_LENGTH,
        description=_id_doc("scriptver"),
    ),
]
CharacterId = Annotated[
    str, Path(pattern=id_pattern("char"), max_length=MAX_ID_LENGTH, description=_id_doc("char"))
]
AssetId = Annotated[
    str, Path(pattern=id_pattern("asset"), max_length=MAX_ID_LENGTH, description=_id_doc("asset"))
]
StoryboardId = Annotated[
    str, Path(pattern=id_pattern("sb"), max_length=MAX_ID_LENGTH, description=_id_doc("sb"))
]
VideoId = Annotated[
    str, Path(pattern=id_pattern("video"), max_length=MAX_ID_LENGTH, description=_id_doc("video"))
]
WorkflowId = Annotated[
    str, Path(pattern=id_pattern("wf"), max_length=MAX_ID_LENGTH, description=_id_doc("wf"))
]
TaskId = Annotated[
    str, Path(pattern=id_pattern("task"), max_length=MAX_ID_LENGTH, description=_id_doc("task"))
]
ApiUserId = Annotated[
    str, Path(pattern=id_pattern("apu"), max_length=MAX_ID_LENGTH, description=_id_doc("apu"))
]

# --- free-form objects ---------------------------------------------------------------------

FREE_MAX_DEPTH = 16
FREE_MAX_NODES = 10_000
FREE_MAX_KEY_LENGTH = 200
INT64_MAX = 2**63 - 1
_FREE_DOC = (
    f"free-form JSON: at most {FREE_MAX_DEPTH} levels deep and {FREE_MAX_NODES} values in all; "
    f"keys of 1-{FREE_MAX_KEY_LENGTH} characters, not starting with `$`, without NUL; "
    "finite numbers, integers within ±(2^63-1)"
)


def check_free_json(value: Any, field: str) -> Any:
    """Refuse a free-form value some store could not keep (BSON: int64, no NUL or `$` keys) or
    that is too deep or large to list back; raises ValueError naming the dotted place (so
    pydantic reports it as the field's validation error, 400 code 1001)."""
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    nodes = 0
    while stack:
        node, where, depth = stack.pop()
        where = where if len(where) <= 120 else where[:117] + "…"
        nodes += 1
        if nodes > FREE_MAX_NODES:
            raise ValueError(f"{field}: more than {FREE_MAX_NODES} values")
        if isinstance(node, bool) or node is None:
            continue
        if isinstance(node, int):
            if abs(node) > INT64_MAX:
                raise ValueError(f"{where}: integers must fit in 64 bits")
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise ValueError(f"{where}: numbers must be finite")
        elif isinstance(node, dict | list):
            if depth >= FREE_MAX_DEPTH:
                raise ValueError(f"{where}: nested more than {FREE_MAX_DEPTH} levels deep")
            if isinstance(node, dict):
                for key, child in node.items():
                    if (
                        not 1 <= len(key) <= FREE_MAX_KEY_LENGTH
                        or key.startswith("$")
                        or "\x00" in key
                    ):
                        raise ValueError(
                            f"{where}: keys must be 1-{FREE_MAX_KEY_LENGTH} characters, "
                            "not start with `$` and hold no NUL"
                        )
                    stack.append((child, f"{where}.{key}", depth + 1))
            else:
                stack.extend((child, f"{where}.{i}", depth + 1) for i, child in enumerate(node))
    return value


def _free(value: Any, info: ValidationInfo) -> Any:
    return check_free_json(value, info.field_name or "value")


_KEY_SCHEMA = {
    "minLength": 1,
    "maxLength": FREE_MAX_KEY_LENGTH,
    "pattern": "^[^$\\u0000][^\\u0000]*$",
}

FreeObject = Annotated[
    dict[str, Any],
    AfterValidator(_free),
    Field(description=_FREE_DOC, json_schema_extra={"propertyNames": _KEY_SCHEMA}),
]
"""A free-form JSON object (settings, metadata, composition), bounded by `check_free_json`."""
FreeObjectList = Annotated[
    list[dict[str, Any]],
    AfterValidator(_free),
    Field(max_length=500, description=_FREE_DOC),
]
