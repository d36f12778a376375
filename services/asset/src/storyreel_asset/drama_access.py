"""Is this drama the caller's? Asked of the script service, which owns dramas.

The asset service holds no copy of the dramas: before it touches a drama's characters or
assets it calls `ScriptService.GetDrama` as the caller, which answers NOT_FOUND (1002) for a
drama that does not exist or belongs to someone else. Its own documents also carry the owner,
so every query is owner-scoped as well (a second line of defence, and the way
`delete_drama_content` finds what to delete after the drama is gone).

The channel opens on first use and reads the address then: the embedded launcher fills in the
script service's port after the services are built.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc

from storyreel_core.proto.storyreel.v1 import script_pb2, script_pb2_grpc
from storyreel_core.rpc.clients import call, open_channel
from storyreel_core.settings import Settings


class DramaGuard:
    def __init__(self, settings: Callable[[], Settings]) -> None:
        self._settings = settings
        self._channel: grpc.aio.Channel | None = None
        self._stub: script_pb2_grpc.ScriptServiceStub | None = None

    def _script(self) -> script_pb2_grpc.ScriptServiceStub:
        if self._stub is None:
            self._channel = open_channel(self._settings().script_addr)
            self._stub = script_pb2_grpc.ScriptServiceStub(self._channel)
        return self._stub

    async def require(self, owner_id: str, drama_id: str) -> None:
        """NotFound (1002) unless `drama_id` is a drama of `owner_id`."""
        await call(
            self._script().GetDrama,
            script_pb2.GetDramaRequest(id=drama_id),
            user_id=owner_id,
            timeout=self._settings().grpc_deadline_s,
        )

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel = None
            self._stub = None
