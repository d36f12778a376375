"""The DynamicSubtitleService servicer: template previews, the engine's state, and the
`dynamic_subtitles` task, checked here before it exists.

A request names exactly one video the caller owns — an uploaded video asset of a drama (asset
service, read as the caller), a video of a drama (this service's library) or a completed task
with a video in its result (a render, a final cut, an earlier dynamic-subtitles task) — and
either SRT text or nothing, in which case the video's own SRT is used (a task's or a drama
video's). Another user's or an unknown id is NOT_FOUND (1002); the job input is a snapshot of
what was checked.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import subprocess
from typing import Any, TypeAlias

import grpc

from storyreel_core.errors import ValidationFailed
from storyreel_core.proto.storyreel.v1 import common_pb2, subtitles_pb2, subtitles_pb2_grpc
from storyreel_core.rpc.messages import task_ref
from storyreel_core.rpc.server import caller_id
from storyreel_core.subtitle_templates import TEMPLATE_IDS, check_template
from storyreel_core.task_launcher import TaskLauncher
from storyreel_core.task_store import TaskStore
from storyreel_video.dynamic_subtitles import KIND, DynamicSubtitlesInput, parse_srt
from storyreel_video.ffmpeg_runner import resolve_ffmpeg
from storyreel_video.peers import Peers
from storyreel_video.segments import encoder_version
from storyreel_video.subtitle_previews import PreviewCache
from storyreel_video.video_models import parse_colour
from storyreel_video.video_store import VideoStore

Ctx: TypeAlias = grpc.aio.ServicerContext[Any, Any]
MAX_SRT_CHARS = 500_000


@functools.lru_cache(maxsize=4)
def has_ass_filter(ffmpeg: str | None) -> bool:
    """Whether this ffmpeg was built with libass (its `ass` filter)."""
    try:
        out = subprocess.run(
            [resolve_ffmpeg(ffmpeg), "-hide_banner", "-filters"],
            capture_output=True, text=True, timeout=30,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return False
    return any(line.split()[1:2] == ["ass"] for line in out.splitlines() if line.strip())


def _video_of(result: dict[str, Any]) -> tuple[str, str]:
    """(video key, SRT key or "") of a task result: a pipeline render or final cut
    (`video_key`), a studio render (`video.key`), a dynamic-subtitles task (`video_key`)."""
    video = result.get("video")
    if isinstance(video, dict) and video.get("key"):
        return str(video["key"]), str(video.get("subtitle_key") or "")
    return str(result.get("video_key") or ""), str(result.get("subtitle_key") or "")


class DynamicSubtitleServicer(subtitles_pb2_grpc.DynamicSubtitleServiceServicer):
    def __init__(
        self,
        videos: VideoStore,
        peers: Peers,
        tasks: TaskStore,
        launcher: TaskLauncher,
        previews: PreviewCache,
        *,
        ffmpeg: str | None,
    ) -> None:
        self.videos = videos
        self.peers = peers
        self.tasks = tasks
        self.launcher = launcher
        self.previews = previews
        self.ffmpeg = ffmpeg

    async def ListSubtitlePreviews(
        self, request: common_pb2.Empty, context: Ctx
    ) -> subtitles_pb2.SubtitlePreviewList:
        keys = await self.previews.keys()
        return subtitles_pb2.SubtitlePreviewList(
            previews=[subtitles_pb2.SubtitlePreview(template=t, key=keys[t]) for t in keys]
        )

    async def GetSubtitleEngine(
        self, request: common_pb2.Empty, context: Ctx
    ) -> subtitles_pb2.SubtitleEngine:
        version, available = await asyncio.gather(
            asyncio.to_thread(encoder_version, self.ffmpeg),
            asyncio.to_thread(has_ass_filter, self.ffmpeg),
        )
        return subtitles_pb2.SubtitleEngine(
            engine="libass",
            ffmpeg_version=version,
            available=available,
            supported_formats=["srt"],
        )

    async def _source(
        self, owner: str, request: subtitles_pb2.ProcessSubtitlesRequest
    ) -> tuple[str, str, dict[str, str], str | None]:
        """(video key, its own SRT key or "", what was named, the drama it belongs to)."""
        named = [
            name
            for name, value in (
                ("video_asset_id", request.video_asset_id),
                ("video_id", request.video_id),
                ("task_id", request.task_id),
            )
            if value.strip()
        ]
        if len(named) != 1:
            raise ValidationFailed(
                "name exactly one video: video_asset_id or video_id (each with drama_id),"
                " or task_id",
                field="video",
            )
        drama_id = request.drama_id.strip()
        if named[0] == "task_id":
            task_id = request.task_id.strip()
            task = await self.tasks.get(task_id, owner)  # another user's: NOT_FOUND
            if task.get("status") != "completed":
                raise ValidationFailed(
                    f"task {task_id} is {task.get('status')}; its video is not ready",
                    field="task_id",
                )
            key, srt_key = _video_of(task.get("result") or {})
            if not key:
                raise ValidationFailed(f"task {task_id} made no video", field="task_id")
            return key, srt_key, {"task_id": task_id}, task.get("drama_id") or None
        if not drama_id:
            raise ValidationFailed(f"{named[0]} needs drama_id", field="drama_id")
        await self.peers.require(owner, drama_id)
        if named[0] == "video_id":
            video_id = request.video_id.strip()
            doc = await self.videos.get(owner, drama_id, video_id)
            source = {"drama_id": drama_id, "video_id": video_id}
            return str(doc["key"]), str(doc.get("subtitle_key") or ""), source, drama_id
        asset_id = request.video_asset_id.strip()
        key = await self.peers.video_key(owner, drama_id, asset_id)
        return key, "", {"drama_id": drama_id, "video_asset_id": asset_id}, drama_id

    async def ProcessDynamicSubtitles(
        self, request: subtitles_pb2.ProcessSubtitlesRequest, context: Ctx
    ) -> common_pb2.TaskRef:
        owner = caller_id(context)
        template = check_template(request.template, "template")
        if template is None:
            raise ValidationFailed(
                f"template is required; available: {', '.join(TEMPLATE_IDS)}", field="template"
            )
        opts = request.options
        position = opts.position.strip().lower() or "bottom"
        if position not in ("bottom", "middle", "top"):
            raise ValidationFailed(
                "options.position must be bottom, middle or top", field="options.position"
            )
        if opts.font_size and not 8 <= opts.font_size <= 200:
            raise ValidationFailed("options.font_size must be 8-200", field="options.font_size")
        look = {
            "font_size": opts.font_size or None,
            "color": parse_colour(opts.color, "options.color", (255, 255, 255)),
            "highlight_color": parse_colour(
                opts.highlight_color, "options.highlight_color", (255, 212, 0)
            ),
            "outline_color": parse_colour(opts.outline_color, "options.outline_color", (0, 0, 0)),
            "box_color": parse_colour(opts.box_color, "options.box_color", (0, 0, 0)),
            "position": position,
        }
        if len(request.srt) > MAX_SRT_CHARS:
            raise ValidationFailed(f"srt: at most {MAX_SRT_CHARS} characters", field="srt")
        lines = parse_srt(request.srt) if request.srt.strip() else []
        key, srt_key, source, drama_id = await self._source(owner, request)
        if not lines and not srt_key:
            raise ValidationFailed(
                "srt is required: this video has no subtitles of its own", field="srt"
            )
        if lines:
            # Kept by content, as the job's input: the job message carries only its key.
            data = request.srt.encode("utf-8")
            srt_key = f"cache/srt/{owner}/{hashlib.sha256(data).hexdigest()}.srt"
            await self.videos.objects.put_bytes(srt_key, data, "application/x-subrip")
        spec = DynamicSubtitlesInput.model_validate(
            {
                "video_key": key,
                "source": source,
                "srt_key": srt_key,
                "template": template,
                **look,
            }
        )
        task = await self.launcher.start(
            service="video",
            kind=KIND,
            owner_id=owner,
            payload=spec.model_dump(mode="json"),
            drama_id=drama_id,
            total=100,
        )
        return task_ref(task, 10)
