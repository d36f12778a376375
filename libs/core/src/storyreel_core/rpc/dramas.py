"""A new drama of a user's, made through the script service, whose name may be taken."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from storyreel_core.errors import AlreadyExists
from storyreel_core.proto.storyreel.v1 import script_pb2
from storyreel_core.rpc.clients import call

CreateDrama = Callable[..., Awaitable[script_pb2.Drama]]
# A name is at most 100 characters (the script service's drama rules): a clash keeps this much
# of it, then ` (<tail>)`.
NAME_HEAD = 80


async def create_drama(
    create: CreateDrama,
    owner_id: str,
    name: str,
    *,
    description: str,
    tail: str,
    timeout: float = 10.0,
) -> str:
    """The id of a new drama of `owner_id` named `name`.

    `create` is `ScriptServiceStub.CreateDrama`. Drama names are unique per owner: when `name`
    is taken (AlreadyExists) the drama is named `"<name[:80]> (<tail>)"` instead, `tail`
    being what made it (a task's or workflow's id tail, say); AlreadyExists again if that is
    taken too. Other AppErrors (400 for a bad name, 503) pass through.
    """

    async def made(named: str) -> script_pb2.Drama:
        request = script_pb2.CreateDramaRequest(name=named, description=description)
        return await call(create, request, user_id=owner_id, timeout=timeout)

    try:
        drama = await made(name)
    except AlreadyExists:
        drama = await made(f"{name[:NAME_HEAD]} ({tail})")
    return str(drama.id)
