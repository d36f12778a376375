"""Assemble the video service: the videos library (final cuts included), dynamic subtitles and
their jobs."""

from __future__ import annotations

import grpc

from storyreel_core.cores import usable_cores
from storyreel_core.platform import Platform
from storyreel_core.proto.storyreel.v1 import (
    subtitles_pb2,
    subtitles_pb2_grpc,
    videos_pb2,
    videos_pb2_grpc,
)
from storyreel_core.scratch import ScratchSpace
from storyreel_core.service_runtime import ServiceParts
from storyreel_core.warm_imports import PIL_PLUGINS, import_in_background
from storyreel_video.clips_job import ClipsJob
from storyreel_video.concat_job import ConcatJob
from storyreel_video.cut_speech import CutSpeech
from storyreel_video.dynamic_subtitles import KIND as DYNAMIC_SUBTITLES
from storyreel_video.dynamic_subtitles import DynamicSubtitlesJob
from storyreel_video.final_cut_job import FinalCutJob
from storyreel_video.peers import Peers
from storyreel_video.segment_job import SegmentJob
from storyreel_video.segmented_cut import SEGMENT_KIND, SegmentFarm
from storyreel_video.subtitle_api import DynamicSubtitleServicer
from storyreel_video.subtitle_previews import PreviewCache
from storyreel_video.video_api import VideoLibraryServicer
from storyreel_video.video_store import VideoStore

NAME = "video"


def build(platform: Platform) -> ServiceParts:
    settings = platform.settings
    videos = VideoStore(platform.docs, platform.objects)
    # Read the settings at call time: the embedded launcher sets the peers' addresses after
    # build().
    peers = Peers(lambda: platform.settings)
    library = VideoLibraryServicer(
        videos,
        peers,
        peers,
        peers,
        platform.launcher,
        max_pixel_frames=platform.settings.max_render_pixel_frames,
        providers=platform.providers,
    )
    ffmpeg, preset = settings.ffmpeg, settings.video_preset
    scratch = ScratchSpace(settings.data_dir, NAME)
    # Final cuts render as segments, each a job any video worker (this one included) takes.
    farm = SegmentFarm(platform.objects, platform.launcher, platform.bus, platform.tasks)

    subtitles = DynamicSubtitleServicer(
        videos,
        peers,
        platform.tasks,
        platform.launcher,
        PreviewCache(platform.objects, ffmpeg=ffmpeg),
        ffmpeg=ffmpeg,
    )

    def register(server: grpc.aio.Server) -> None:
        videos_pb2_grpc.add_VideoLibraryServiceServicer_to_server(library, server)
        subtitles_pb2_grpc.add_DynamicSubtitleServiceServicer_to_server(subtitles, server)

    return ServiceParts(
        name=NAME,
        registrars=[register],
        service_names=[
            videos_pb2.DESCRIPTOR.services_by_name["VideoLibraryService"].full_name,
            subtitles_pb2.DESCRIPTOR.services_by_name["DynamicSubtitleService"].full_name,
        ],
        handlers={
            "clips": ClipsJob(
                videos,
                peers,
                ffmpeg=ffmpeg,
                preset=preset,
                scratch=scratch,
                providers=platform.providers,
            ),
            "concatenate": ConcatJob(videos, peers, ffmpeg=ffmpeg, preset=preset, scratch=scratch),
            "final_cut": FinalCutJob(
                videos,
                peers,
                farm,
                ffmpeg=ffmpeg,
                preset=preset,
                scratch=scratch,
                providers=platform.providers,
                speech=CutSpeech(peers, peers, platform.bus, platform.tasks),
            ),
            DYNAMIC_SUBTITLES: DynamicSubtitlesJob(
                platform.objects, ffmpeg=ffmpeg, preset=preset, scratch=scratch
            ),
            SEGMENT_KIND: SegmentJob(platform.objects, ffmpeg=ffmpeg, scratch=scratch),
        },
        # A final cut waits for its segments: they get slots of their own, one per usable
        # core (each segment is a single-threaded x264 encode, see `segments`).
        own_consumer=frozenset({SEGMENT_KIND}),
        slots={SEGMENT_KIND: usable_cores()},
        on_start=[
            videos.ensure_indexes,
            scratch.clear_at_start,
            # Subtitle fonts' coverage (fontTools), FFT resampling, PIL's PNG/JPEG plugins.
            import_in_background("fontTools.ttLib", "numpy.fft", *PIL_PLUGINS),
        ],
        on_drama_deleted=[videos.delete_drama_content],
    )
