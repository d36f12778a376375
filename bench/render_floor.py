"""The least time any schedule of the reference render could take on this machine.

`render_speed` compares the whole reference render (story in, MP4 out) with a raw x264 encode
of its frames. Besides that encode, a render must speak its lines, draw its stills, sample the
camera over them for every frame and mix the soundtrack; all of it is CPU work on the same
cores. This measures, in this process and with the platform's own code at the reference size
(8 shots × 4 s, 720×1280, 24 fps), the CPU seconds of each of those parts:

- speech: Piper speaking the reference's eight lines as the English narrator;
- stills: the procedural renderer drawing eight shots, PNG-encoded as the frames job stores them;
- camera: the frame stream of the cut (camera moves over the stills, crossfades), every
  frame's three planes made as the encoder is fed them (the pipe itself not counted);
- soundtrack: what the final cut runs for it (`cached_soundtrack`: the key, the mix of
  voices and the built-in music bed ducked under them with loudness, the AAC encode, storing);

and the raw encode's wall time and CPU seconds (the median of `--runs`). If those parts were
packed onto the usable cores with nothing else to do and no core ever idle, a render would take
(raw CPU + the parts' CPU) / cores; that over the raw encode's time is the best ratio the
render can reach while its parts cost what they cost today, printed beside the target (1.3).
The render's bookkeeping (jobs, events, the store, RPCs), its libass subtitles and the segment
encoders' start-up are not counted, so the true floor is higher.

    .venv/bin/python bench/render_floor.py [--runs 3] [--preset veryfast]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import soundfile

sys.path.insert(0, str(Path(__file__).parent))

from peers import raw_x264_encode
from render_speed import FPS, HEIGHT, PRESET, REFERENCE_STORY, WIDTH, children_cpu

from storyreel_asset.frames_job import png_bytes
from storyreel_asset.procedural_renderer import render_frame
from storyreel_core.drama_models import Character, Line, Shot
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_tts.piper_speech import piper_pcm
from storyreel_tts.voice_casting import narrator_voice
from storyreel_video.audio_mix import MusicBed
from storyreel_video.final_cut import voice_placements
from storyreel_video.frame_source import FrameSource
from storyreel_video.segments import encoder_version
from storyreel_video.soundtrack_cache import cached_soundtrack
from storyreel_video.specs import ClipSpec
from storyreel_video.timeline import Timeline, effective_transition

T = TypeVar("T")
SHOT_SECONDS = 4.0
TRANSITION = 0.5  # the render's default crossfade
# Zooms and pans in turn (the planner never repeats a move): a pan resamples one axis per
# frame and a zoom two, so this mix costs between all pans and all zooms.
MOVES = ("push_in", "pan_left", "pull_out", "pan_right")
CAST = [
    Character(id="char_mara", name="Mara", gender="female"),
    Character(id="char_tom", name="Tom", gender="male"),
]


def cpu_now() -> float:
    """CPU seconds of this process and its ended children (ffmpeg), all threads."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def timed_cpu(work: Callable[[], T]) -> tuple[T, float]:
    """`work()`'s result and the CPU seconds it took (`cpu_now`)."""
    before = cpu_now()
    out = work()
    return out, cpu_now() - before


def reference_shots() -> list[Shot]:
    """The reference story's eight beats as eight shots of one lighthouse at dusk."""
    beats = REFERENCE_STORY.split("\n\n")[1:]
    return [
        Shot(
            id=f"shot_{n}",
            number=n + 1,
            scene_id=f"scene_{n // 2}",
            shot_type=("wide", "medium", "close_up")[n % 3],
            camera_movement=MOVES[n % len(MOVES)],
            prompt=beat,
            description=beat,
            location="lighthouse by the sea",
            time="dusk",
            narration=beat,
            lines=[Line(text=beat)],
            character_ids=[c.id for c in CAST if c.name in beat],
            duration=SHOT_SECONDS,
        )
        for n, beat in enumerate(beats)
    ]


def draw_stills(shots: list[Shot], work: Path) -> list[Path]:
    paths = []
    for shot in shots:
        image = render_frame(shot, CAST, style="realistic", width=WIDTH, height=HEIGHT, seed=7)
        path = work / f"{shot.id}.png"
        path.write_bytes(png_bytes(image))
        paths.append(path)
    return paths


def speak(shots: list[Shot], work: Path) -> list[Path]:
    voice = narrator_voice("en")
    paths = []
    for shot in shots:
        pcm, rate = piper_pcm(shot.narration, voice)
        path = work / f"{shot.id}.wav"
        soundfile.write(str(path), pcm, rate, subtype="PCM_16")
        paths.append(path)
    return paths


def stream_frames(clips: list[ClipSpec], timeline: Timeline) -> int:
    """Every frame's planes, as `FrameSource.feeder` hands them to the encoder; the bytes."""
    source = FrameSource(clips, timeline, width=WIDTH, height=HEIGHT, transition="crossfade")
    total = 0

    def write(plane: memoryview) -> None:
        nonlocal total
        total += plane.nbytes

    source.feeder()(write)
    return total


def mix(clips: list[ClipSpec], timeline: Timeline, work: Path, encoder: str) -> None:
    """The cut's soundtrack as the final cut makes it (`cached_soundtrack`: keyed, mixed,
    AAC-encoded and stored), into an empty folder store, so it is mixed, not reused."""
    objects = FolderObjectStore(work / "objects")
    scratch = work / "soundtrack"
    scratch.mkdir()
    asyncio.run(
        cached_soundtrack(
            objects, voice_placements(clips, timeline), timeline.total, music=True,
            bed=MusicBed(), prefix="floor/", encoder=encoder, workdir=scratch,
        )
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default=PRESET)
    parser.add_argument("--runs", type=int, default=3, help="raw encodes to take the median of")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="storyreel-floor-") as tmp:
        work = Path(tmp)
        shots = reference_shots()
        # Warm-up: Piper's model, the fonts and numpy's first calls are start-up, not render.
        piper_pcm("Warm up.", narrator_voice("en"))
        stills, stills_cpu = timed_cpu(lambda: draw_stills(shots, work))
        speech, speech_cpu = timed_cpu(lambda: speak(shots, work))
        durations = [s.duration for s in shots]
        timeline = Timeline.build(
            durations, effective_transition(durations, TRANSITION, "crossfade"), FPS
        )
        clips = [
            ClipSpec(
                image_path=still,
                duration=shot.duration,
                camera_movement=shot.camera_movement,
                audio_path=wav,
            )
            for shot, still, wav in zip(shots, stills, speech, strict=True)
        ]
        streamed, camera_cpu = timed_cpu(lambda: stream_frames(clips, timeline))
        encoder = encoder_version()  # ffmpeg -version: part of every cache key, not of a mix
        _, mix_cpu = timed_cpu(lambda: mix(clips, timeline, work, encoder))
        frames = timeline.frame_count
        assert streamed == frames * WIDTH * HEIGHT * 3 // 2
        raws, raw_cpus = [], []
        for _ in range(max(1, args.runs)):
            before = children_cpu()
            raws.append(raw_x264_encode(frames, WIDTH, HEIGHT, FPS, args.preset, work / "raw.mp4"))
            raw_cpus.append(children_cpu() - before)
    raw_s, raw_cpu = statistics.median(raws), statistics.median(raw_cpus)
    parts = {
        "speech": speech_cpu,
        "stills": stills_cpu,
        "camera": camera_cpu,
        "soundtrack": mix_cpu,
    }
    extra = sum(parts.values())
    floor_s = max(raw_s, (raw_cpu + extra) / cores)
    # What 1.3x leaves for all the work besides the encode, packed perfectly.
    budget = 1.3 * raw_s * cores - raw_cpu
    print(
        f"cores: {cores}  job: {len(shots)} shots, {frames} frames, {WIDTH}x{HEIGHT}, "
        f"{FPS} fps, {args.preset}"
    )
    runs = " ".join(f"{s:.2f}" for s in raws)
    print(f"raw x264   {raw_s:.2f} s, {raw_cpu:.2f} CPU s  (runs: {runs})")
    print(
        f"besides the encode, a render's CPU: "
        f"{', '.join(f'{k} {v:.2f}' for k, v in parts.items())} = {extra:.2f} s "
        f"({extra / raw_cpu:.0%} of the encode's)"
    )
    print(
        f"best schedule on {cores} cores: ({raw_cpu:.2f} + {extra:.2f}) / {cores} = "
        f"{floor_s:.2f} s; floor / raw x264 = {floor_s / raw_s:5.2f}  (render target <= 1.3, "
        f"which leaves {budget:.2f} CPU s for all work besides the encode)"
    )
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - started:.0f} s)")
    raise SystemExit(code)
