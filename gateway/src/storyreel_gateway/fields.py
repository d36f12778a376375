"""Request fields shared by the routers, bounded by what the gRPC wire types can carry.

An integer past its proto field's range makes the message constructor raise `ValueError`
inside the handler, which a client would see as a 500; bounding it in the model answers
400 (code 1001) naming the field instead.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

INT32_MAX = 2**31 - 1
# Versions travel as int64; the bound is the largest integer a JSON client (a JavaScript number,
# a float) holds exactly, so a value at the bound means the same to every client and validator.
MAX_SAFE_INTEGER = 2**53 - 1

ExpectedVersion = Annotated[
    int | None,
    Field(ge=1, le=MAX_SAFE_INTEGER, description="optimistic concurrency check (409 when stale)"),
]
Seed = Annotated[int, Field(ge=0, le=INT32_MAX)]
