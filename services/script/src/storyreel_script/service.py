"""Assemble the script service from the platform: servicer, job handlers, indexes."""

from __future__ import annotations

import asyncio

import grpc

from storyreel_core.bus.domain_events import announce_drama_deleted
from storyreel_core.platform import Platform
from storyreel_core.proto.storyreel.v1 import script_pb2, script_pb2_grpc
from storyreel_core.service_runtime import ServiceParts
from storyreel_script import given_names, zh_tokens
from storyreel_script.drama_store import DramaStore
from storyreel_script.generate_script_job import ScriptGenerator
from storyreel_script.grpc_api import ScriptServicer
from storyreel_script.persona_store import PersonaStore
from storyreel_script.script_api import GENERATE_KIND
from storyreel_script.script_store import ScriptStore

NAME = "script"


def build(platform: Platform) -> ServiceParts:
    dramas = DramaStore(platform.docs)
    scripts = ScriptStore(platform.docs, dramas)

    async def announce_deleted(owner_id: str, drama_id: str) -> None:
        await announce_drama_deleted(platform.bus, owner_id, drama_id)

    personas = PersonaStore(platform.docs)
    servicer = ScriptServicer(
        dramas, scripts, platform.launcher, announce_deleted, platform.providers, personas
    )

    def register(server: grpc.aio.Server) -> None:
        script_pb2_grpc.add_ScriptServiceServicer_to_server(servicer, server)

    warming: list[asyncio.Future[None]] = []

    def warm_up_lists() -> None:
        zh_tokens.warm_up()
        given_names.warm_up()

    async def warm_up_jieba() -> None:
        # In a thread, not awaited: the service is ready at once, and the first story no longer
        # waits seconds for jieba's dictionary or the list of English first names.
        warming.append(asyncio.get_running_loop().run_in_executor(None, warm_up_lists))

    return ServiceParts(
        name=NAME,
        registrars=[register],
        service_names=[script_pb2.DESCRIPTOR.services_by_name["ScriptService"].full_name],
        handlers={
            GENERATE_KIND: ScriptGenerator(scripts, platform.providers).run,
        },
        on_start=[
            dramas.ensure_indexes,
            scripts.ensure_indexes,
            personas.ensure_indexes,
            warm_up_jieba,
        ],
    )
