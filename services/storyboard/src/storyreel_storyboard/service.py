"""Assemble the storyboard service: the drama storyboard library and its jobs."""

from __future__ import annotations

import grpc

from storyreel_core.bus.job_runner import Handler
from storyreel_core.platform import Platform
from storyreel_core.proto.storyreel.v1 import storyboards_pb2, storyboards_pb2_grpc
from storyreel_core.scratch import ScratchSpace
from storyreel_core.service_runtime import ServiceParts
from storyreel_storyboard.audio_job import ShotAudioJob
from storyreel_storyboard.deleted_drama import ForgetIfDeleted
from storyreel_storyboard.frames import FrameMaker
from storyreel_storyboard.generate_job import GenerateStoryboardsJob
from storyreel_storyboard.image_job import RegenerateImageJob
from storyreel_storyboard.library_api import StoryboardLibraryServicer
from storyreel_storyboard.peers import Peers
from storyreel_storyboard.storyboard_store import StoryboardStore

NAME = "storyboard"


def build(platform: Platform) -> ServiceParts:
    store = StoryboardStore(platform.docs, platform.objects)
    # Read the settings at call time: the embedded launcher sets the peers' addresses after
    # build().
    peers = Peers(lambda: platform.settings, platform.tasks, platform.bus)
    frames = FrameMaker(peers, platform.objects)
    scratch = ScratchSpace(platform.settings.data_dir, NAME)  # uploads' local copies
    library = StoryboardLibraryServicer(
        store,
        peers,
        platform.launcher,
        max_upload_bytes=platform.settings.max_upload_bytes,
        scratch=scratch,
        providers=platform.providers,
    )

    def guarded(handler: Handler) -> Handler:
        forget = [store.delete_drama_content, platform.tasks.delete_drama_tasks]
        return ForgetIfDeleted(handler, forget, peers)

    def register(server: grpc.aio.Server) -> None:
        storyboards_pb2_grpc.add_StoryboardLibraryServiceServicer_to_server(library, server)

    return ServiceParts(
        name=NAME,
        registrars=[register],
        service_names=[
            storyboards_pb2.DESCRIPTOR.services_by_name["StoryboardLibraryService"].full_name,
        ],
        handlers={
            "storyboards": guarded(GenerateStoryboardsJob(store, peers, frames)),
            "storyboard_image": guarded(RegenerateImageJob(store, peers, frames)),
            "shot_audio": guarded(ShotAudioJob(store, peers)),
        },
        on_start=[store.ensure_indexes, scratch.clear_at_start],
        on_drama_deleted=[store.delete_drama_content],
    )
