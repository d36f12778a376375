"""The ScriptService servicer: proto in, DramaStore / task launcher, proto out.

The script RPCs live in `script_api.ScriptMethods`, mixed in here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeAlias

import grpc

from storyreel_core.proto.storyreel.v1 import common_pb2, script_pb2, script_pb2_grpc
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.rpc.messages import object_to_dict, to_object
from storyreel_core.rpc.server import caller_id
from storyreel_core.task_launcher import TaskLauncher
from storyreel_script.drama_store import DramaStore
from storyreel_script.persona_api import PersonaMethods
from storyreel_script.persona_store import PersonaStore
from storyreel_script.script_api import ScriptMethods
from storyreel_script.script_store import ScriptStore

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
DramaAnnouncer: TypeAlias = Callable[[str, str], Awaitable[None]]


def drama_to_proto(doc: dict[str, Any]) -> script_pb2.Drama:
    return script_pb2.Drama(
        id=doc["_id"],
        name=doc["name"],
        description=doc.get("description", ""),
        settings=to_object(doc.get("settings") or {}),
        status=doc.get("status", "draft"),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        version=int(doc["version"]),
    )


class ScriptServicer(ScriptMethods, PersonaMethods, script_pb2_grpc.ScriptServiceServicer):
    def __init__(
        self,
        dramas: DramaStore,
        scripts: ScriptStore,
        launcher: TaskLauncher,
        announce_deleted: DramaAnnouncer,
        providers: ProviderRegistry,
        personas: PersonaStore,
    ) -> None:
        self.personas = personas
        self.dramas = dramas
        self.scripts = scripts
        self.launcher = launcher
        self.announce_deleted = announce_deleted
        self.providers = providers

    async def CreateDrama(
        self, request: script_pb2.CreateDramaRequest, context: Ctx
    ) -> script_pb2.Drama:
        doc = await self.dramas.create(
            caller_id(context), request.name, request.description, object_to_dict(request.settings)
        )
        return drama_to_proto(doc)

    async def GetDrama(self, request: script_pb2.GetDramaRequest, context: Ctx) -> script_pb2.Drama:
        return drama_to_proto(await self.dramas.get(caller_id(context), request.id))

    async def ListDramas(
        self, request: script_pb2.ListDramasRequest, context: Ctx
    ) -> script_pb2.DramaList:
        order: Literal["asc", "desc"] = "asc" if request.order == "asc" else "desc"
        items, total = await self.dramas.list(
            caller_id(context),
            page=max(request.page, 1),
            per_page=min(max(request.per_page, 1), 100),
            keyword=request.keyword,
            order_by=request.order_by or "created_at",
            order=order,
        )
        return script_pb2.DramaList(dramas=[drama_to_proto(d) for d in items], total=total)

    async def UpdateDrama(
        self, request: script_pb2.UpdateDramaRequest, context: Ctx
    ) -> script_pb2.Drama:
        changes: dict[str, Any] = {}
        if request.HasField("name"):
            changes["name"] = request.name
        if request.HasField("description"):
            changes["description"] = request.description
        if request.HasField("settings"):
            changes["settings"] = object_to_dict(request.settings)
        doc = await self.dramas.update(
            caller_id(context),
            request.id,
            changes,
            replace=request.replace,
            expected_version=request.expected_version or None,
        )
        return drama_to_proto(doc)

    async def DeleteDrama(
        self, request: script_pb2.DeleteDramaRequest, context: Ctx
    ) -> common_pb2.Empty:
        owner_id = caller_id(context)
        await self.dramas.get(owner_id, request.id)  # 404 for someone else's drama
        # Announced before the drama goes: if the announcement fails the drama stays and the
        # client may retry, rather than the drama vanishing while its content lives on.
        await self.announce_deleted(owner_id, request.id)
        await self.scripts.delete_drama_content(owner_id, request.id)
        await self.dramas.delete(owner_id, request.id)
        return common_pb2.Empty()
