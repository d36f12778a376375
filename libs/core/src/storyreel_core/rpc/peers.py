"""Calling other services: channels opened on first use, and the drama ownership check.

Addresses are read when a channel first opens, not when the caller is built: the embedded
launcher fills in the services' ports after every service is built. Every call carries the
caller's identity, so each peer applies its own ownership rules.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc

from storyreel_core.errors import NotFound
from storyreel_core.proto.storyreel.v1 import script_pb2, script_pb2_grpc
from storyreel_core.rpc.clients import call, open_channel
from storyreel_core.settings import Settings


class PeerChannels:
    """One lazily opened channel per peer service (`script`, `asset`, …), closed together."""

    def __init__(self, settings: Callable[[], Settings]) -> None:
        self.settings = settings
        self._open: dict[str, grpc.aio.Channel] = {}

    def channel(self, service: str) -> grpc.aio.Channel:
        if service not in self._open:
            self._open[service] = open_channel(self.settings().service_addr(service))
        return self._open[service]

    @property
    def deadline(self) -> float:
        return self.settings().grpc_deadline_s

    async def close(self) -> None:
        channels, self._open = list(self._open.values()), {}
        for channel in channels:
            await channel.close()


class DramaGuard:
    """Is this drama the caller's? Asked of the script service, which owns dramas.

    Services hold no copy of the dramas: `ScriptService.GetDrama`, called as the caller,
    answers NOT_FOUND (1002) for a drama that does not exist or belongs to someone else.
    """

    def __init__(self, channels: PeerChannels) -> None:
        self.channels = channels

    async def require(self, owner_id: str, drama_id: str) -> None:
        """NotFound (1002) unless `drama_id` is a drama of `owner_id`."""
        await call(
            script_pb2_grpc.ScriptServiceStub(self.channels.channel("script")).GetDrama,
            script_pb2.GetDramaRequest(id=drama_id),
            user_id=owner_id,
            timeout=self.channels.deadline,
        )

    async def deleted(self, owner_id: str, drama_id: str) -> bool:
        """True only when the script service says the drama is gone; an unreachable or slow
        service is not evidence of a deletion."""
        try:
            await self.require(owner_id, drama_id)
        except NotFound:
            return True
        except Exception:
            return False
        return False
