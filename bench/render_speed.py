"""Render speed of the whole platform, as ratios against two peers measured in the same run.

1. The reference job — 8 shots × 4 s, 720×1280, 24 fps, narration, subtitles, music — through
   a running embedded platform (REST in, MP4 out), timed from the POST to the completed task.
2. A raw x264 encode of the same number of frames with the same preset: the floor no renderer
   can beat, since the final cut must encode those frames anyway.
3. The same job done with MoviePy, the library most peers compose with, from the same stills
   and the same speech the platform produced.

Prints the three times and two ratios; the targets are platform ≤ 1.3× raw x264 and MoviePy
≥ 10× the platform. Beside the times it prints the CPU seconds each render spent, split by
process (the platform's own Python process, the ffmpeg runs it started, nats-server), against
the raw encode's: on a machine whose cores are all busy, time follows CPU.

The final cut renders as segments (`storyreel_video.segmented_cut`) with a soundtrack cached
by content; each render here draws new stills (another image seed) and speaks at another
speed, so none of its segments and not its soundtrack is cached.
Run with `make bench` (it needs no running platform: it starts its own).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from peers import moviepy_render, raw_x264_encode
from process_tree import cpu_seconds

from storyreel_cli.platform_process import PlatformProcess
from storyreel_video.music_bed import write_music_bed

# Eight short beats: each line speaks in well under four seconds, so every shot lasts its
# planned 4 s and the job is exactly the reference 8 × 4 s.
REFERENCE_STORY = "\n\n".join(
    [
        "# The Lighthouse",
        "Mara climbs the tower at dusk.",
        "The sea turns dark and loud.",
        "A small boat drifts toward the rocks.",
        "Mara lights the great lamp.",
        "The beam sweeps across the waves.",
        "The boat turns away from danger.",
        "At dawn Tom climbs the stairs.",
        "He thanks her with a smile.",
    ]
)
WIDTH, HEIGHT, FPS = 720, 1280, 24
PRESET = "veryfast"  # the platform's default (STORYREEL_VIDEO_PRESET)


def start_platform(data_dir: Path, env: dict[str, str], attempts: int = 3) -> PlatformProcess:
    """A running embedded platform. On a starved machine a start can fail (a JetStream API
    call past its 5 s timeout while every core is busy); a fresh one is tried then."""
    for attempt in range(1, attempts + 1):
        platform = PlatformProcess(data_dir / f"start{attempt}", env=env)
        try:
            return platform.start(timeout=300)
        except RuntimeError:
            with contextlib.suppress(Exception):
                platform.stop()
            if attempt == attempts:
                raise
            print(f"(the platform did not start, attempt {attempt}; trying again)", flush=True)
    raise AssertionError("unreachable")


def login(http: httpx.Client) -> None:
    creds = {"username": "bench", "email": "bench@example.com", "password": "bench-password"}
    r = http.post("/api/v1/auth/register", json=creds)
    if r.status_code == 409:
        r = http.post("/api/v1/auth/login", json=creds)
    r.raise_for_status()
    http.headers["Authorization"] = f"Bearer {r.json()['data']['access_token']}"


def wait(http: httpx.Client, task_id: str) -> dict[str, Any]:
    while True:
        task: dict[str, Any] = http.get(f"/api/v1/tasks/{task_id}").json()["data"]
        if task["status"] in ("completed", "failed", "cancelled"):
            if task["status"] != "completed":
                raise SystemExit(f"render {task['status']}: {task['error']}")
            return task
        time.sleep(0.2)


def render(http: httpx.Client, body: dict[str, Any]) -> tuple[float, str, dict[str, Any]]:
    """Seconds from the POST to the completed task, the task's id and the task."""
    started = time.perf_counter()
    task_id = http.post("/api/v1/pipeline/render", json=body).json()["data"]["task_id"]
    task = wait(http, task_id)
    return time.perf_counter() - started, task_id, task


def cpu_split(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds spent between two `cpu_seconds` readings of the platform: `python` (the
    platform process), `ffmpeg` (its subprocesses, all ended by then), `nats`, `other`."""
    spent = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    split = {
        "python": spent.pop("self", 0.0),
        "ffmpeg": spent.pop("subprocesses", 0.0),
        "nats": spent.pop("nats-server", 0.0),
    }
    split["other"] = sum(spent.values())
    return split


def children_cpu() -> float:
    """CPU seconds of this process's ended children so far (the raw encodes' ffmpeg)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def fetch(http: httpx.Client, url: str, dest: Path) -> Path:
    dest.write_bytes(http.get(url).content)
    return dest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-moviepy", action="store_true", help="the slow peer")
    parser.add_argument(
        "--preset", default=PRESET, help="x264 preset for the platform and both peers alike"
    )
    parser.add_argument(
        "--runs", type=int, default=3, help="renders and raw encodes to take the median of"
    )
    args = parser.parse_args()
    preset = args.preset
    # The usable cores, not the machine's: `taskset -c 0 make bench` measures one core.
    cores = len(os.sched_getaffinity(0))
    print(f"cores: {cores}  job: 8 shots x 4 s, {WIDTH}x{HEIGHT}, {FPS} fps, {preset}")
    with tempfile.TemporaryDirectory(prefix="storyreel-bench-") as tmp:
        work = Path(tmp)
        platform = start_platform(work / "platform", {"STORYREEL_VIDEO_PRESET": preset})
        try:
            http = httpx.Client(base_url=platform.url, timeout=60)
            login(http)
            body = {
                "story": REFERENCE_STORY,
                "style": "realistic",
                "options": {
                    "scene_count": 8,
                    "video": {"resolution": f"{WIDTH}x{HEIGHT}", "fps": FPS},
                    "music": True,
                },
            }
            # The median of a few renders on one running platform (the first one cold), and
            # of as many raw encodes: one run of either varies by ±0.4 s on a busy 2-core box.
            # Each render draws its stills with another seed and speaks 1 % faster than the
            # one before: new pictures and new sound, so every segment is encoded and the
            # soundtrack mixed (nothing comes from the caches of the render before).
            assert platform.proc is not None
            pid = platform.proc.pid
            renders, cpus = [], []
            for n in range(max(1, args.runs)):
                before = cpu_seconds(pid)
                renders.append(
                    render(
                        http,
                        {
                            **body,
                            "options": {
                                **body["options"],
                                "image": {"seed": 1000 + n},
                                "speed": round(1.0 + 0.01 * n, 2),
                            },
                        },
                    )
                )
                cpus.append(cpu_split(before, cpu_seconds(pid)))
            task = renders[-1][2]
            platform_s = statistics.median(seconds for seconds, _, _ in renders)
            result = task["result"]
            durations = [shot["duration"] for shot in result["shots"]]
            frames = round(result["duration"] * FPS)
            # A render's result carries its final cut's segment and soundtrack figures.
            cuts = [t["result"] for _, _, t in renders]
            encoded = [f"{c['segments']['encoded']}/{c['segments']['total']}" for c in cuts]
            print(
                f"platform   {platform_s:7.2f} s  ({len(durations)} shots, "
                f"{result['duration']:.2f} s of video, {frames} frames; "
                f"runs: {' '.join(f'{seconds:.2f}' for seconds, _, _ in renders)}; "
                f"segments encoded per run: {' '.join(encoded)}; "
                f"soundtrack per run: {' '.join(str(c.get('soundtrack')) for c in cuts)})"
            )

            raws, raw_cpus = [], []
            for _ in range(max(1, args.runs)):
                before_raw = children_cpu()
                raws.append(raw_x264_encode(frames, WIDTH, HEIGHT, FPS, preset, work / "raw.mp4"))
                raw_cpus.append(children_cpu() - before_raw)
            raw_s = statistics.median(raws)
            print(f"raw x264   {raw_s:7.2f} s  (runs: {' '.join(f'{s:.2f}' for s in raws)})")
            # CPU: the median per kind over the renders, and its total.
            kinds = {k: statistics.median(c[k] for c in cpus) for k in cpus[0]}
            platform_cpu = statistics.median(sum(c.values()) for c in cpus)
            raw_cpu = statistics.median(raw_cpus)
            print(
                f"CPU        platform {platform_cpu:.2f} s per render "
                f"({', '.join(f'{k} {v:.2f}' for k, v in kinds.items())}); "
                f"raw x264 {raw_cpu:.2f} s; platform / raw = {platform_cpu / raw_cpu:.2f}"
            )

            moviepy_s = None
            if not args.skip_moviepy:
                # Each shot's frame and speech, as the render's result lists them.
                shots = result["shots"]
                stills = [fetch(http, s["image_url"], work / f"{s['shot_id']}.png") for s in shots]
                audio: list[Path | None] = [
                    fetch(http, s["audio_url"], work / f"{s['shot_id']}.wav")
                    if s.get("audio_url")
                    else None
                    for s in shots
                ]
                # The same spoken lines as subtitles, and the same music bed, so MoviePy does
                # the job the platform did (see peers.moviepy_render for what it cannot do).
                cues = [
                    [(seg["text"], seg["start"], seg["end"]) for seg in s["audio_segments"]]
                    for s in shots
                ]
                bed = write_music_bed(work / "bed.wav", result["duration"])
                moviepy_s = moviepy_render(
                    stills,
                    audio,
                    durations,
                    WIDTH,
                    HEIGHT,
                    FPS,
                    work / "moviepy.mp4",
                    preset=preset,
                    cues=cues,
                    music=bed,
                )
                print(f"moviepy    {moviepy_s:7.2f} s")
        finally:
            platform.stop()
    print(f"platform / raw x264 = {platform_s / raw_s:5.2f}  (target <= 1.3)")
    if moviepy_s is not None:
        print(f"moviepy / platform  = {moviepy_s / platform_s:5.2f}  (target >= 10.0)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
