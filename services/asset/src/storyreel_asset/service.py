"""Assemble the asset service: frames (stage), characters, the asset library, their jobs."""

from __future__ import annotations

import grpc

from storyreel_asset.asset_api import AssetLibraryServicer
from storyreel_asset.asset_store import AssetStore
from storyreel_asset.character_api import CharacterServicer
from storyreel_asset.character_images_job import CharacterImagesJob
from storyreel_asset.character_store import CharacterStore
from storyreel_asset.design_job import DesignJob
from storyreel_asset.drama_content import DramaContent
from storyreel_asset.frames_job import FramesJob
from storyreel_asset.grpc_api import AssetServicer
from storyreel_core.platform import Platform
from storyreel_core.proto.storyreel.v1 import (
    assets_pb2,
    assets_pb2_grpc,
    stages_pb2,
    stages_pb2_grpc,
)
from storyreel_core.rpc.peers import DramaGuard, PeerChannels
from storyreel_core.scratch import ScratchSpace
from storyreel_core.service_runtime import ServiceParts
from storyreel_core.warm_imports import PIL_PLUGINS, import_in_background

NAME = "asset"


def build(platform: Platform) -> ServiceParts:
    characters = CharacterStore(platform.docs, platform.objects)
    assets = AssetStore(platform.docs, platform.objects)
    # Read the settings at call time: the embedded launcher sets script_addr after build().
    dramas = DramaGuard(PeerChannels(lambda: platform.settings))
    limit = platform.settings.max_upload_bytes
    stage = AssetServicer(platform.launcher)
    scratch = ScratchSpace(platform.settings.data_dir, NAME)  # uploads' local copies
    character_api = CharacterServicer(
        characters,
        dramas,
        platform.launcher,
        max_upload_bytes=limit,
        scratch=scratch,
        providers=platform.providers,
    )
    library_api = AssetLibraryServicer(
        assets,
        dramas,
        platform.launcher,
        max_upload_bytes=limit,
        scratch=scratch,
        providers=platform.providers,
    )

    def register(server: grpc.aio.Server) -> None:
        stages_pb2_grpc.add_AssetServiceServicer_to_server(stage, server)
        assets_pb2_grpc.add_CharacterServiceServicer_to_server(character_api, server)
        assets_pb2_grpc.add_AssetLibraryServiceServicer_to_server(library_api, server)

    content = DramaContent(characters, assets)

    async def ensure_indexes() -> None:
        await characters.ensure_indexes()
        await assets.ensure_indexes()

    services = assets_pb2.DESCRIPTOR.services_by_name
    return ServiceParts(
        name=NAME,
        registrars=[register],
        service_names=[
            stages_pb2.DESCRIPTOR.services_by_name["AssetService"].full_name,
            services["CharacterService"].full_name,
            services["AssetLibraryService"].full_name,
        ],
        handlers={
            "frames": FramesJob(platform.objects, providers=platform.providers),
            "character_images": CharacterImagesJob(characters, platform.providers),
            "designs": DesignJob(assets, platform.providers),
        },
        on_start=[ensure_indexes, scratch.clear_at_start, import_in_background(*PIL_PLUGINS)],
        on_drama_deleted=[content.delete_drama_content],
    )
