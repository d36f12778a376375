"""The persona RPCs of ScriptService: proto in, PersonaStore, proto out.

A mixin of ScriptServicer (one servicer per gRPC service); it needs `personas`.
"""

from __future__ import annotations

from typing import Any, Literal, TypeAlias, get_args

import grpc

from storyreel_core.proto.storyreel.v1 import common_pb2, script_pb2
from storyreel_core.rpc.server import caller_id
from storyreel_script.persona_store import PersonaStore, persona_view

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
TextField = Literal[
    "name",
    "persona_type",
    "style",
    "target_audience",
    "characteristics",
    "tone",
    "custom_prompt",
    "voice",
]
_TEXT_FIELDS: tuple[TextField, ...] = get_args(TextField)


def persona_to_proto(doc: dict[str, Any]) -> script_pb2.Persona:
    return script_pb2.Persona(**persona_view(doc))


def fields_from_proto(fields: script_pb2.PersonaFields) -> dict[str, Any]:
    """Only the fields the client sent (proto3 `optional` presence, `keywords_set`)."""
    out: dict[str, Any] = {n: getattr(fields, n) for n in _TEXT_FIELDS if fields.HasField(n)}
    if fields.keywords_set:
        out["keywords"] = list(fields.keywords)
    return out


class PersonaMethods:
    personas: PersonaStore

    async def CreatePersona(
        self, request: script_pb2.CreatePersonaRequest, context: Ctx
    ) -> script_pb2.Persona:
        doc = await self.personas.create(caller_id(context), fields_from_proto(request.fields))
        return persona_to_proto(doc)

    async def GetPersona(
        self, request: script_pb2.GetPersonaRequest, context: Ctx
    ) -> script_pb2.Persona:
        return persona_to_proto(await self.personas.get(caller_id(context), request.id))

    async def ListPersonas(
        self, request: script_pb2.ListPersonasRequest, context: Ctx
    ) -> script_pb2.PersonaList:
        items, total = await self.personas.list(
            caller_id(context),
            page=max(request.page, 1),
            per_page=min(max(request.per_page, 1), 100),
            presets_only=request.presets_only,
        )
        return script_pb2.PersonaList(personas=[persona_to_proto(d) for d in items], total=total)

    async def UpdatePersona(
        self, request: script_pb2.UpdatePersonaRequest, context: Ctx
    ) -> script_pb2.Persona:
        doc = await self.personas.update(
            caller_id(context), request.id, fields_from_proto(request.fields)
        )
        return persona_to_proto(doc)

    async def DeletePersona(
        self, request: script_pb2.GetPersonaRequest, context: Ctx
    ) -> common_pb2.Empty:
        await self.personas.delete(caller_id(context), request.id)
        return common_pb2.Empty()
