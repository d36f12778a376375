"""The `segment` job (`jobs.video.segment`): draw and encode one segment of a final cut and
publish it in the object store under its content key, for whichever final cut asked.

Any video worker takes it (the service pulls segments through a consumer of their own, so a
final cut waiting for its segments never holds the slots they need). Delivery is at least
once: a worker killed mid-encode leaves only a local scratch file, the job is redelivered after
`ack_wait`, and the segment appears under its key only once whole (`put_file` is atomic), so a
stitch never reads a partial segment. A key already present is not encoded again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.errors import ValidationFailed
from storyreel_core.logging import get_logger
from storyreel_core.scratch import ScratchSpace
from storyreel_core.stores.object_store import ObjectStore
from storyreel_video.ffmpeg_runner import ProgressCallback
from storyreel_video.fonts import find_font, has_cjk
from storyreel_video.job_progress import percent_reporter
from storyreel_video.segments import SegmentInput, encode_segment

log = get_logger(__name__)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def link_fonts(font_path: str, ass_text: str, fonts_dir: Path) -> None:
    """The one font file libass needs, alone in `fonts_dir`: the one the cut's subtitles were
    laid out with when this machine has it, else this machine's best choice."""
    fonts_dir.mkdir(exist_ok=True)
    path = Path(font_path) if font_path else None
    if path is None or not path.is_file():
        path = find_font(has_cjk(ass_text)).path
    if path is None:
        return
    try:
        (fonts_dir / path.name).symlink_to(path)
    except OSError:
        shutil.copyfile(path, fonts_dir / path.name)


async def produce_segment(
    objects: ObjectStore,
    spec: SegmentInput,
    *,
    ffmpeg: str | None,
    on_progress: ProgressCallback | None = None,
    workdir: Path | None = None,
) -> int | None:
    """Make sure the segment `spec` describes is in `objects` under `spec.key`: encode it
    when missing (stills fetched by key and checked against their hashes) and publish it
    atomically. Returns the published size in bytes, or None when it was already there.
    Raises `ValidationFailed` if a still changed since the cut was planned, `RenderFailed`.
    `workdir` (an empty folder the caller owns) holds the intermediate files; without it a
    temporary folder does."""
    if await objects.stat(spec.key) is not None:
        return None
    with _work_folder(workdir) as work:
        stills = []
        videos: list[Path | None] = []
        for n, shot in enumerate(spec.shots):
            path = await objects.download(shot.frame_key, work / f"still{n}")
            if await asyncio.to_thread(file_sha256, path) != shot.frame_sha256:
                # The still changed after the cut was planned: this key must not hold it.
                raise ValidationFailed(
                    f"the still {shot.frame_key} changed while the cut was rendering",
                    field="shots",
                )
            stills.append(path)
            video = None
            if shot.clip_key:
                # Conformed clips are stored under their content hash: they never change.
                video = await objects.download(shot.clip_key, work / f"clip{n}.mp4")
            videos.append(video)
        if spec.ass:
            await asyncio.to_thread((work / "subs.ass").write_text, spec.ass, "utf-8")
            await asyncio.to_thread(link_fonts, spec.font_path, spec.ass, work / "fonts")
        out = work / "segment.mp4"
        await encode_segment(
            spec,
            stills,
            out,
            workdir=work,
            ffmpeg=ffmpeg,
            on_progress=on_progress,
            videos=videos,
        )
        info = await objects.put_file(spec.key, out, "video/mp4")
    log.info("video.segment.encoded", key=spec.key, frames=spec.frame_count, size=info.size)
    return info.size


@contextlib.contextmanager
def _work_folder(workdir: Path | None) -> Iterator[Path]:
    if workdir is not None:
        yield workdir
        return
    with tempfile.TemporaryDirectory(prefix="storyreel-segment-") as tmp:
        yield Path(tmp)


class SegmentJob:
    def __init__(
        self, objects: ObjectStore, *, ffmpeg: str | None, scratch: ScratchSpace | None = None
    ) -> None:
        self.objects = objects
        self.ffmpeg = ffmpeg
        self.scratch = scratch or ScratchSpace.in_temp("video")

    async def __call__(self, job: Job, ctx: JobContext) -> dict[str, Any]:
        spec = SegmentInput.model_validate(job.payload)
        # Under the data dir, by task: a SIGKILL leaves it where start-up clears it.
        with self.scratch.for_task(job.task_id) as work:
            size = await produce_segment(
                self.objects,
                spec,
                ffmpeg=self.ffmpeg,
                on_progress=percent_reporter(ctx, "encoding", every=50),
                workdir=work,
            )
        # Not encoded: a redelivery after the publish, or another cut needed it first.
        result = {"key": spec.key, "frames": spec.frame_count, "encoded": size is not None}
        return {**result, "size": size} if size is not None else result
