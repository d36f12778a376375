"""What the jobs that save into a drama's video library (clips, concatenate, final_cut) share."""

from __future__ import annotations

from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.scratch import ScratchSpace
from storyreel_video.video_models import DramaCheck
from storyreel_video.video_store import VideoStore


class LibraryJob:
    """A job that encodes with ffmpeg at the service's preset and saves the result into the
    library, checking first (with `dramas`) that the drama still belongs to the owner: a drama
    deleted while the job ran gets no video saved back into it."""

    def __init__(
        self,
        videos: VideoStore,
        dramas: DramaCheck,
        *,
        ffmpeg: str | None,
        preset: str,
        scratch: ScratchSpace | None = None,
        providers: ProviderRegistry | None = None,
    ) -> None:
        self.providers = providers  # the video models a request may name (None: none)
        self.videos = videos
        self.dramas = dramas
        self.ffmpeg = ffmpeg
        self.preset = preset
        self.scratch = scratch or ScratchSpace.in_temp("video")
