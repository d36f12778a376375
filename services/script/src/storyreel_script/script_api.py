"""The script RPCs of ScriptService: proto in, ScriptStore / task launcher, proto out.

A mixin of ScriptServicer (one servicer per gRPC service); it needs `scripts` and `launcher`.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from storyreel_core.proto.storyreel.v1 import common_pb2, script_pb2
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.rpc.messages import (
    object_to_dict,
    objects_to_list,
    task_ref,
    to_object,
    to_objects,
)
from storyreel_core.rpc.server import caller_id, stage_task
from storyreel_core.task_launcher import TaskLauncher
from storyreel_script import script_rules as rules
from storyreel_script.generate_script_job import estimated_seconds, plan_generation
from storyreel_script.persona_store import PersonaStore
from storyreel_script.script_store import ScriptStore, script_view

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
SERVICE = "script"
GENERATE_KIND = "generate_script"


def _page(page: int, per_page: int) -> tuple[int, int]:
    return max(page, 1), min(max(per_page, 1), 100)


def script_to_proto(doc: dict[str, Any]) -> script_pb2.Script:
    view = script_view(doc)
    return script_pb2.Script(
        id=view["id"],
        drama_id=view["drama_id"],
        title=view["title"],
        content=view["content"],
        scenes=to_objects(view["scenes"]),
        metadata=to_object(view["metadata"]),
        status=view["status"],
        version=view["version"],
        scene_count=view["scene_count"],
        word_count=view["word_count"],
        created_at=view["created_at"],
        updated_at=view["updated_at"],
    )


def version_to_proto(doc: dict[str, Any]) -> script_pb2.ScriptVersion:
    scenes = doc.get("scenes") or []
    content = doc.get("content") or ""
    return script_pb2.ScriptVersion(
        id=doc["_id"],
        script_id=doc["script_id"],
        drama_id=doc["drama_id"],
        version=int(doc["number"]),
        title=doc.get("title") or "",
        content=content,
        scenes=to_objects(scenes),
        metadata=to_object(doc.get("metadata") or {}),
        status=doc.get("status") or "",
        message=doc.get("message") or "",
        scene_count=len(scenes),
        word_count=rules.word_count(content),
        created_at=doc["created_at"],
    )


class ScriptMethods:
    scripts: ScriptStore
    personas: PersonaStore
    launcher: TaskLauncher
    providers: ProviderRegistry

    async def CreateScript(
        self, request: script_pb2.CreateScriptRequest, context: Ctx
    ) -> script_pb2.Script:
        doc = await self.scripts.create(
            caller_id(context),
            request.drama_id,
            title=request.title,
            content=request.content,
            scenes=rules.parse_scenes(objects_to_list(request.scenes)),
            metadata=rules.parse_metadata(object_to_dict(request.metadata)),
        )
        return script_to_proto(doc)

    async def GetScript(
        self, request: script_pb2.GetScriptRequest, context: Ctx
    ) -> script_pb2.Script:
        doc = await self.scripts.get(caller_id(context), request.drama_id, request.id)
        return script_to_proto(doc)

    async def ListScripts(
        self, request: script_pb2.ListScriptsRequest, context: Ctx
    ) -> script_pb2.ScriptList:
        page, per_page = _page(request.page, request.per_page)
        items, total = await self.scripts.list_scripts(
            caller_id(context), request.drama_id, page=page, per_page=per_page
        )
        return script_pb2.ScriptList(scripts=[script_to_proto(d) for d in items], total=total)

    async def UpdateScript(
        self, request: script_pb2.UpdateScriptRequest, context: Ctx
    ) -> script_pb2.Script:
        changes: dict[str, Any] = {}
        for name in ("title", "content", "status"):
            if request.HasField(name):
                changes[name] = getattr(request, name)
        if request.set_scenes:
            changes["scenes"] = rules.parse_scenes(objects_to_list(request.scenes))
        if request.HasField("metadata"):
            changes["metadata"] = rules.parse_metadata(object_to_dict(request.metadata))
        doc = await self.scripts.update(
            caller_id(context),
            request.drama_id,
            request.id,
            changes,
            expected_version=request.expected_version or None,
            message=request.message,
        )
        return script_to_proto(doc)

    async def DeleteScript(
        self, request: script_pb2.DeleteScriptRequest, context: Ctx
    ) -> common_pb2.Empty:
        await self.scripts.delete(caller_id(context), request.drama_id, request.id)
        return common_pb2.Empty()

    async def GenerateScript(
        self, request: script_pb2.GenerateScriptRequest, context: Ctx
    ) -> common_pb2.TaskRef:
        owner_id = caller_id(context)
        if request.drama_id:  # 404 before any task exists; none: the screenplay is the result
            await self.scripts.dramas.get(owner_id, request.drama_id)
        persona = (
            await self.personas.get(owner_id, request.persona_id) if request.persona_id else None
        )
        spec = plan_generation(
            drama_id=request.drama_id,
            prompt=request.prompt,
            input_type=request.input_type,
            input_content=request.input_content,
            style=request.style,
            length=request.length,
            language=request.language,
            title=request.title,
            scene_count=request.scene_count,
            source_name=request.source_name,
            ai_provider=request.ai_provider,
            model=request.model,
            budget=request.budget if request.HasField("budget") else None,
            providers=self.providers,
            persona=persona,
            seed=request.seed,
        )
        task = await self.launcher.start(
            service=SERVICE,
            kind=GENERATE_KIND,
            owner_id=owner_id,
            payload=spec.model_dump(mode="json"),
            drama_id=request.drama_id or None,
            total=2,
            **stage_task(context),
        )
        return task_ref(task, estimated_seconds(spec))

    async def ListScriptVersions(
        self, request: script_pb2.ListScriptVersionsRequest, context: Ctx
    ) -> script_pb2.ScriptVersionList:
        page, per_page = _page(request.page, request.per_page)
        items, total = await self.scripts.list_versions(
            caller_id(context), request.drama_id, request.script_id, page=page, per_page=per_page
        )
        return script_pb2.ScriptVersionList(
            versions=[version_to_proto(v) for v in items], total=total
        )

    async def RestoreScriptVersion(
        self, request: script_pb2.RestoreScriptVersionRequest, context: Ctx
    ) -> script_pb2.Script:
        doc = await self.scripts.restore(
            caller_id(context),
            request.drama_id,
            request.script_id,
            request.version_id,
            expected_version=request.expected_version or None,
        )
        return script_to_proto(doc)
