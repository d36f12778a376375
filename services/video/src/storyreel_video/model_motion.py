"""Shots that really move: each shot's clip from a video model (the request's `video_provider`).

For every shot, side by side (the provider's limiter bounds the calls):

1. The model gets the shot's still as the start frame, a prompt from the shot, the shot's
   duration, and the cut's size and rate (`VideoRequest`). The call layer caches the answer by
   content, so rendering the same shots again makes no second call.
2. Whatever comes back (any codec, size, rate or length) is conformed (`conform_clip`): scaled
   to cover the frame and centre-cropped (as stills are), resampled to the cut's fps, its last
   frame held when it is shorter than the shot and cut when longer, so it has exactly the
   shot's frame count, as H.264 yuv420p BT.709.
3. The conformed clip is stored under its SHA-256 (segment workers fetch it by key, and a
   segment's cache key hashes it), and the shot's `ClipSpec.video_path` points at it.

A shot whose clip fails (the provider's error after its retries and fallbacks, a refusal, the
provider's `timeout_s`, a file ffmpeg cannot read) keeps camera motion over its still, and
`Motion.kept_camera_motion` says which and why. `Motion.made` names who made each clip (the
asked provider or one of its fallbacks) and `Motion.failed_attempts` every provider call that
failed on the way: the task result reports them under `motion` (`motion_result`).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storyreel_core.bus.job_runner import JobContext
from storyreel_core.bus.serial_progress import SerialProgress
from storyreel_core.errors import AppError, Code
from storyreel_core.logging import get_logger
from storyreel_core.providers.ports import FailedAttempt, VideoModel, VideoRequest
from storyreel_core.providers.registry import ProviderRegistry
from storyreel_core.providers.usage import UsageLedger
from storyreel_core.stores.object_store import ObjectStore
from storyreel_video.clip_frames import clip_frame_count
from storyreel_video.errors import RenderFailed
from storyreel_video.ffmpeg_runner import run_ffmpeg
from storyreel_video.segment_job import file_sha256
from storyreel_video.specs import ClipSpec

log = get_logger("storyreel.video.motion")

CONFORM_CRF = 16  # an intermediate: near-transparent, re-encoded once more in its segment
CONFORM_PARALLEL = 2  # ffmpeg conforms at once (each is short; the machine may be small)
MotionProgress = Callable[[str, float, int], Awaitable[None]]  # shot id, 0..1, clips done


@dataclass(frozen=True)
class MotionShot:
    """What the model is told about a shot besides its frame."""

    shot_id: str
    prompt: str


@dataclass
class Motion:
    """The shots after animation: `clips` (video_path set where the model's clip is used),
    `keys[i]` the stored clip of shot i as (object key, SHA-256) or None, the shots that
    kept camera motion with the reason (`fell_back`: `{shot_id, code, reason}`), who made
    each clip (`made`: `{shot_id, provider, model, cached}`) and the provider calls that failed
    (`failed_attempts`: `{shot_id, provider, model, attempt, code, reason}`)."""

    clips: list[ClipSpec]
    keys: list[tuple[str, str] | None]
    fell_back: list[dict[str, Any]] = field(default_factory=list)
    made: list[dict[str, Any]] = field(default_factory=list)
    failed_attempts: list[dict[str, Any]] = field(default_factory=list)

    def result(self, provider: str, model: str) -> dict[str, Any]:
        """The `motion` entry of a task result (`motion_result`)."""
        return motion_result(provider, model, self.made, self.fell_back, self.failed_attempts)


def motion_result(
    provider: str,
    model: str,
    made: Sequence[dict[str, Any]],
    kept_camera_motion: Sequence[dict[str, Any]],
    failed_attempts: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """The `motion` entry of a task result:

    `provider`/`model` the ones asked; `clips` how many shots play a model's clip;
    `shot_clips[{shot_id, provider, model, cached}]` who made each of them (a fallback
    when the asked provider failed); `providers_used[{provider, model, clips}]` the summary;
    `failed_attempts[{shot_id, provider, model, attempt, code, reason}]` every provider call
    that failed (retries and fallbacks included, whether the shot got a clip in the end or not);
    `kept_camera_motion[{shot_id, code, reason}]` the shots left on camera motion over their
    still, and `fell_back`, the same list under its older name (kept for clients that read it;
    it never meant "a fallback provider was used")."""
    used: dict[tuple[str, str], int] = {}
    for m in made:
        used[(m["provider"], m["model"])] = used.get((m["provider"], m["model"]), 0) + 1
    kept = list(kept_camera_motion)
    return {
        "provider": provider,
        "model": model,
        "clips": len(made),
        "shot_clips": list(made),
        "providers_used": [{"provider": p, "model": m, "clips": n} for (p, m), n in used.items()],
        "failed_attempts": list(failed_attempts),
        "kept_camera_motion": kept,
        "fell_back": kept,
    }


def _attempts(shot_id: str, attempts: Sequence[FailedAttempt]) -> list[dict[str, Any]]:
    return [{"shot_id": shot_id, **dataclasses.asdict(a)} for a in attempts]


def motion_prompt(*parts: str) -> str:
    """A clip prompt from the shot's own words (its image prompt, description, lines)."""
    text = ". ".join(p.strip().rstrip(".") for p in parts if p and p.strip())
    return (text or "A cinematic shot, subtle natural motion")[:2000]


def conform_filter(width: int, height: int, fps: int, duration: float) -> str:
    """The ffmpeg filter chain that makes any clip the cut's: cover-scale and centre-crop to
    width×height, BT.709 limited-range yuv420p, `fps` (frames dropped or repeated by time),
    the last frame held past the clip's end (trimmed to the shot by the frame count)."""
    return ",".join(
        [
            f"scale={width}:{height}:force_original_aspect_ratio=increase:flags=bicubic"
            ":out_color_matrix=bt709:out_range=tv",
            "format=yuv420p",
            f"crop={width}:{height}",
            "setsar=1",
            f"fps={fps}",
            f"tpad=stop_mode=clone:stop_duration={duration + 1.0:.3f}",
        ]
    )


async def conform_clip(
    source: Path,
    out_path: Path,
    *,
    width: int,
    height: int,
    fps: int,
    duration: float,
    ffmpeg: str | None = None,
) -> Path:
    """Write `source` (any container and codec ffmpeg reads) as the shot's clip: exactly
    `clip_frame_count(duration, fps)` frames of width×height at `fps`, H.264, no audio.
    Raises `RenderFailed` when ffmpeg cannot read or write it."""
    frames = clip_frame_count(duration, fps)
    args = [
        "-i", str(source),
        "-vf", conform_filter(width, height, fps, duration),
        "-frames:v", str(frames), "-an",
        "-c:v", "libx264", "-preset", "veryfast", "-crf", str(CONFORM_CRF),
        "-pix_fmt", "yuv420p", "-r", str(fps), "-color_range", "tv", "-colorspace", "bt709",
        "-color_primaries", "bt709", "-color_trc", "bt709",
        "-f", "mp4", "-y", str(out_path),
    ]  # fmt: skip
    await run_ffmpeg(args, ffmpeg=ffmpeg)
    return out_path


async def store_clip(objects: ObjectStore, local: Path, store_prefix: str) -> tuple[str, str]:
    """Store a conformed clip as `<store_prefix><sha256>.mp4` (once: the same content is the
    same key) and answer (object key, SHA-256): segment workers fetch it by key, and a
    segment's cache key hashes the digest."""
    digest = await asyncio.to_thread(file_sha256, local)
    key = f"{store_prefix}{digest}.mp4"
    if await objects.stat(key) is None:
        await objects.put_file(key, local, "video/mp4")
    return key, digest


async def animate(
    model: VideoModel,
    objects: ObjectStore,
    clips: Sequence[ClipSpec],
    shots: Sequence[MotionShot],
    *,
    width: int,
    height: int,
    fps: int,
    scratch: Path,
    store_prefix: str,
    ffmpeg: str | None = None,
    on_progress: MotionProgress | None = None,
) -> Motion:
    """Each shot's clip from `model`, conformed and stored under `store_prefix` (module doc).

    Never raises for a shot's failure (that shot falls back); raises only what cancels the
    job (`asyncio.CancelledError`, a cancelled task).
    """
    await asyncio.to_thread(scratch.mkdir, parents=True, exist_ok=True)
    conforming = asyncio.Semaphore(CONFORM_PARALLEL)
    out_clips = list(clips)
    keys: list[tuple[str, str] | None] = [None] * len(clips)
    fell_back: list[dict[str, Any]] = []
    made: list[dict[str, Any]] = []
    failed_attempts: list[dict[str, Any]] = []
    done = 0

    async def one(i: int, clip: ClipSpec, shot: MotionShot) -> None:
        nonlocal done

        async def progress(fraction: float) -> None:
            if on_progress is not None:
                await on_progress(shot.shot_id, fraction, done)

        try:
            still = await asyncio.to_thread(clip.image_path.read_bytes)
            answer = await model.generate(
                VideoRequest(
                    prompt=shot.prompt,
                    start_image=still,
                    duration_s=round(clip.duration, 3),
                    width=width,
                    height=height,
                    fps=fps,
                ),
                progress,
            )
            failed_attempts.extend(_attempts(shot.shot_id, answer.failed_attempts))
            raw = scratch / f"{i:04d}.source"
            await asyncio.to_thread(raw.write_bytes, answer.mp4)
            local = scratch / f"{i:04d}.mp4"
            async with conforming:
                await conform_clip(
                    raw, local, width=width, height=height, fps=fps, duration=clip.duration,
                    ffmpeg=ffmpeg,
                )  # fmt: skip
            key, digest = await store_clip(objects, local, store_prefix)
        except (AppError, RenderFailed, OSError) as exc:
            code = getattr(exc, "code", None)
            reason = str(exc)[:300]
            failed_attempts.extend(_attempts(shot.shot_id, getattr(exc, "failed_attempts", ())))
            log.warning("video.motion.fell_back", shot_id=shot.shot_id, error=reason)
            fell_back.append(
                {"shot_id": shot.shot_id, "code": int(code) if code else None, "reason": reason}
            )
        else:
            out_clips[i] = dataclasses.replace(clip, video_path=local)
            keys[i] = (key, digest)
            usage = answer.usage
            made.append(
                {
                    "shot_id": shot.shot_id,
                    "provider": usage.provider or model.provider,
                    "model": usage.model or model.model,
                    "cached": usage.cached,
                }
            )
        finally:
            done += 1
            if on_progress is not None:
                await on_progress(shot.shot_id, 1.0, done)

    await asyncio.gather(*(one(i, c, s) for i, (c, s) in enumerate(zip(clips, shots, strict=True))))
    order = {s.shot_id: n for n, s in enumerate(shots)}
    for listing in (fell_back, made, failed_attempts):
        listing.sort(key=lambda f: order.get(f["shot_id"], 0))  # stable: attempts keep order
    log.info(
        "video.motion.done",
        shots=len(clips),
        clips=sum(1 for k in keys if k is not None),
        fell_back=len(fell_back),
    )
    return Motion(out_clips, keys, fell_back, made, failed_attempts)


@dataclass(frozen=True)
class MotionOutcome:
    """What a job renders with: the shots' clips, their stored motion for the segments, and
    the task-result fields (`motion`, and the `usage`/`cost`/`provider_calls` of the calls);
    all empty when the request named no video provider."""

    clips: list[ClipSpec]
    keys: list[tuple[str, str] | None]
    result: dict[str, Any]


async def motion_for_job(
    ctx: JobContext,
    providers: ProviderRegistry | None,
    objects: ObjectStore,
    clips: list[ClipSpec],
    shots: Sequence[MotionShot],
    *,
    video_provider: str,
    video_model: str,
    budget: float | None,
    width: int,
    height: int,
    fps: int,
    scratch: Path,
    store_prefix: str,
    ffmpeg: str | None = None,
) -> MotionOutcome:
    """Animate the job's shots with its `video_provider` (none or `offline`: camera motion,
    nothing called). With a `budget` (US dollars) the clips' estimate (their seconds at the
    provider's `per_second`) must fit it, else every shot keeps camera motion (code 2003 in
    `fell_back`); a spend that reaches it mid-way sends the remaining shots the same way.
    Progress goes to the task as step "animating shots", counting clips,
    with the shot in work and its fraction as `current_item`. Raises `ValidationFailed`
    (400, 1001) for a provider or model no longer configured."""
    if providers is None or not video_provider.strip():
        return MotionOutcome(clips, [], {})
    choice = providers.resolve(
        "video", video_provider, video_model, field="video_provider", model_field="video_model"
    )
    if choice.offline:
        return MotionOutcome(clips, [], {})
    # Billed by the second of video: a budget the clips would overrun keeps camera motion
    # for every shot (the render still completes), before any call.
    prices = providers.providers[choice.provider].config.prices
    estimate = round(sum(c.duration for c in clips) * prices.per_second, 6)
    if budget is not None and estimate > budget:
        reason = f"estimated cost ${estimate:.4f} of the clips exceeds the budget ${budget:.4f}"
        fell = [{"shot_id": s.shot_id, "code": int(Code.AI_QUOTA), "reason": reason} for s in shots]
        log.warning("video.motion.over_budget", estimate=estimate, budget=budget)
        motion = Motion(clips=list(clips), keys=[None] * len(clips), fell_back=fell)
        return MotionOutcome(clips, [], {"motion": motion.result(choice.provider, choice.model)})
    ledger = UsageLedger(budget=budget)
    report = SerialProgress(ctx)
    total = len(clips)

    async def progress(shot_id: str, fraction: float, done: int) -> None:
        item = {"shot_id": shot_id, "status": "processing", "progress": round(fraction, 3)}
        await report(done, total, "animating shots", current_item=item, optional=fraction < 1.0)

    await report(0, total, "animating shots")
    motion = await animate(
        providers.video_model(choice, ledger),
        objects,
        clips,
        shots,
        width=width,
        height=height,
        fps=fps,
        scratch=scratch,
        store_prefix=store_prefix,
        ffmpeg=ffmpeg,
        on_progress=progress,
    )
    result = {"motion": motion.result(choice.provider, choice.model), **ledger.summary()}
    return MotionOutcome(motion.clips, motion.keys, result)
