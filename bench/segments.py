"""Segment rendering, as ratios measured in one run: incremental re-render, scale-out, memory.

1. Incremental — the studio loop on a running embedded platform: a drama from the reference
   story (8 shots of 4 s, 720×1280, 24 fps), every storyboard drawn, the final cut rendered
   through `POST /dramas/{id}/videos/render` (cold: every segment encoded), then one shot's
   image regenerated and the cut rendered again. Prints both times and re-render / full
   (target ≤ 0.25), with the segments each render encoded.
2. Scale-out — the distributed deployment (`tests/cluster.py`: separate processes, MongoDB,
   S3, NATS) rendering one 16-shot story through `POST /pipeline/render` with one video worker
   pinned to one core (`taskset -c 0`) and with two, pinned to cores 0 and 1. Times the
   `final_cut` stage (its task's start to finish: planning, every segment, the stitch). The
   two settings alternate, pair after pair (the second worker stopped gracefully, then
   started again: scaling down and up), because a shared machine's speed drifts by more than
   the effect over the minutes a long run takes; each pair's two / one is printed and their
   median is the figure (target ≤ 0.55). Each render uses another seed and speech speed, so
   no segment and no soundtrack is reused. First, the machine's own scaling in the same run
   (`machine_pair`): two single-threaded x264 encodes side by side on cores 0 and 1 against
   one alone, which is what perfect scaling of the cut would give here.
3. Memory — a short drama (8 shots) and a long one (40 shots, about three minutes, 720×1280,
   24 fps) end to end on one embedded platform, sampling the peak resident memory (VmHWM) of
   every process of the platform's tree: the platform itself, nats-server, and each ffmpeg
   (segment encoders and the stitch). A first render warms the platform (models, fonts, the
   allocator's pools); before each measured render every process's peak is reset (`5` to
   /proc/PID/clear_refs), so each peak is that render's own, not the largest since start-up.
   Prints the cold first render's peaks and each measured render's — a short, the long, and
   a short again (a process's resting memory drifts a little from render to render, so the
   long one is compared with the short ones on both sides): none grows with the video's
   length, because frames stream.

    .venv/bin/python bench/segments.py [--skip incremental,scale,memory] [--preset veryfast]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(0, str(Path(__file__).parent))

from process_tree import tree
from render_speed import REFERENCE_STORY, login, start_platform

WIDTH, HEIGHT, FPS = 720, 1280, 24


def wait(http: httpx.Client, task_id: str, timeout: float = 900) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task: dict[str, Any] = http.get(f"/api/v1/tasks/{task_id}").json()["data"]
        if task["status"] in ("completed", "failed", "cancelled"):
            if task["status"] != "completed":
                raise SystemExit(f"task {task_id} {task['status']}: {task['error']}")
            return task
        time.sleep(0.1)
    raise SystemExit(f"task {task_id} did not finish in {timeout} s")


def started(http: httpx.Client, r: httpx.Response) -> dict[str, Any]:
    if r.status_code != 202:
        raise SystemExit(f"{r.request.url}: {r.status_code} {r.text}")
    return wait(http, r.json()["data"]["task_id"])


def parse_time(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


# --- 1. incremental ----------------------------------------------------------------------------


def incremental(work: Path, preset: str) -> None:
    platform = start_platform(work / "inc", {"STORYREEL_VIDEO_PRESET": preset})
    try:
        http = httpx.Client(base_url=platform.url, timeout=120)
        login(http)
        drama = http.post("/api/v1/dramas", json={"name": "The Lighthouse"}).json()["data"]["id"]
        base = f"/api/v1/dramas/{drama}"
        script = started(
            http,
            http.post(
                f"{base}/scripts/generate", json={"prompt": REFERENCE_STORY, "scene_count": 8}
            ),
        )
        boards = started(
            http,
            http.post(f"{base}/storyboards/generate", json={"script_id": script["result"]["id"]}),
        )["result"]["storyboards"]
        for board in boards:  # the reference job's 4 s shots
            current = http.get(f"{base}/storyboards/{board['id']}").json()["data"]
            r = http.put(
                f"{base}/storyboards/{board['id']}",
                json={"duration": 4.0, "version": current["version"]},
            )
            r.raise_for_status()
        body = {
            "resolution": "720p",
            "frame_rate": FPS,
            "music": {"enabled": True},
            "subtitles": {"enabled": True},
        }

        def render() -> tuple[float, dict[str, Any]]:
            began = time.perf_counter()
            task = started(http, http.post(f"{base}/videos/render", json=body))
            return time.perf_counter() - began, task["result"]

        full_s, full = render()
        shot = boards[len(boards) // 2]["id"]
        started(
            http,
            http.post(
                f"{base}/storyboards/{shot}/regenerate-image",
                json={"prompt": "the storm at its height"},
            ),
        )
        again_s, again = render()
        n = len(boards)
        print(
            f"incremental: {n} shots x 4 s at {WIDTH}x{HEIGHT} {FPS} fps ({preset}); "
            f"full render {full_s:.2f} s (segments encoded {full['segments']['encoded']}/"
            f"{full['segments']['total']}), after regenerating shot {n // 2 + 1}: "
            f"{again_s:.2f} s (encoded {again['segments']['encoded']}/"
            f"{again['segments']['total']})",
            flush=True,
        )
        print(f"re-render / full render = {again_s / full_s:5.2f}  (target <= 0.25)", flush=True)
    finally:
        platform.stop()


# --- 2. scale-out ------------------------------------------------------------------------------

LONG_BEATS = [
    "Mara climbs the tower at dusk with a lamp in her hand.",
    "The sea below turns dark and loud against the rocks.",
    "A small boat drifts toward the reef with its sail torn.",
    "Tom fights the wheel while the waves break over the deck.",
    "Mara lights the great lamp and the glass begins to glow.",
    "The beam sweeps across the water and finds the boat.",
    "Tom sees the light and turns hard away from the reef.",
    "The storm howls around the tower until the small hours.",
    "At dawn the sea lies calm and grey under a pale sky.",
    "Tom climbs the long stairs with his cap in his hands.",
    "He thanks Mara with a shy smile at the top of the tower.",
    "She pours him tea and they watch the gulls over the bay.",
    "The harbour bells ring as the fishing boats come home.",
    "The village gathers on the pier to welcome them back.",
    "Children run along the sand chasing the foam of the waves.",
    "An old sailor tells the story of another storm long ago.",
    "Mara listens and remembers her father at the same lamp.",
    "In the evening the wind rises again from the north.",
    "Mara climbs the stairs once more and trims the wick.",
    "The light shines out over the sea for every lost ship.",
]


def final_cut_seconds(api: Any, render_id: str) -> float:
    """Seconds the render's final cut (its workflow's `final` stage task) ran."""
    from cluster import stage_task_id

    cut = api.get(f"/tasks/{stage_task_id(api, render_id, 'final')}").json()["data"]
    return parse_time(cut["finished_at"]) - parse_time(cut["started_at"])


def machine_pair(work: Path, preset: str, resolution: str, pairs: int) -> float:
    """How this machine scales the segment encode itself: one single-threaded x264 encode
    pinned to core 0 alone, then two at once pinned to cores 0 and 1 (the segment encoder's
    settings, 94 frames of a moving photo-like shot read from a file), alternating `pairs`
    times. Returns the median of (two at once) / (one alone); half of it is what a two-worker
    cut would take against one worker here if it scaled perfectly (no serial work, no other
    process on the cores). The machine's own ratio moves between runs (0.99–1.13 seen within
    minutes on the 2-core VM), so it is measured in the same run as the cuts."""
    import subprocess

    import imageio_ffmpeg
    from peers import moving_shot

    from storyreel_video.segments import segment_encode_args

    width, height = (int(v) for v in resolution.split("x"))
    raw = work / "pair.yuv"
    raw.write_bytes(b"".join(moving_shot(width, height)))
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()

    def encode(core: str, out: str) -> subprocess.Popen[bytes]:
        cmd = [
            "taskset", "-c", core, ffmpeg, "-hide_banner", "-loglevel", "error", "-nostdin",
            "-f", "rawvideo", "-pix_fmt", "yuv420p", "-video_size", resolution,
            "-framerate", str(FPS), "-i", str(raw), *segment_encode_args(FPS, preset),
            "-y", str(work / out),
        ]  # fmt: skip
        return subprocess.Popen(cmd)

    def timed(cores: list[str]) -> float:
        start = time.perf_counter()
        runs = [encode(core, f"pair{core}.mp4") for core in cores]
        if any(run.wait() != 0 for run in runs):
            raise SystemExit("ffmpeg failed")
        return time.perf_counter() - start

    timed(["0"])  # warm the page cache
    ratios = [timed(["0", "1"]) / timed(["0"]) for _ in range(pairs)]
    raw.unlink()
    return statistics.median(ratios)


def scale(work: Path, preset: str, resolution: str, shots: int, pairs: int) -> None:
    from cluster import Cluster, submit_render, wait_task
    from e2e_client import Api

    side_by_side = machine_pair(work, preset, resolution, pairs=5)
    print(f"scale-out, this machine: two one-thread x264 encodes at once on cores 0 and 1 take "
          f"{side_by_side:.2f}x the time of one alone on core 0 (median of 5 pairs), so two "
          f"workers scaling perfectly would take about {side_by_side / 2:.2f}x one worker's time",
          flush=True)  # fmt: skip

    story = "\n\n".join(["# The Lighthouse", *LONG_BEATS[: shots // 2]])
    options = {
        "scene_count": shots // 2,
        "shots_per_scene": 2,
        "video": {"resolution": resolution, "fps": FPS},
        "music": True,
    }
    env = {"STORYREEL_VIDEO_PRESET": preset}
    with Cluster(work / "cluster", video_replicas=1, video_cpus=["0"], extra_env=env) as cluster:
        api = Api(cluster.url)
        seed = iter(range(100, 200))

        def one_render() -> tuple[float, int]:
            # New pictures and new sound each time (another seed, speech 1 % faster): every
            # segment is encoded and the soundtrack mixed, as for a story never rendered.
            k = next(seed)
            speed = round(1 + (k - 100) / 100, 2)
            render_id = submit_render(api, story, seed=k, speed=speed, **options)
            # The stage is timed from its task record, not by this wait, so the wait looks
            # seldom: every look is work for the gateway, the workflow and the store, on the
            # same two cores as the workers being measured.
            task = wait_task(api, render_id, timeout=900, interval=2.0)
            if task["status"] != "completed":
                raise SystemExit(f"render {task['status']}: {task['error']}")
            return final_cut_seconds(api, render_id), len(task["result"]["shots"])

        one_render()  # warm: imports, fonts, the first encode
        second = cluster.add_video_replica(cpus="1")
        one_render()  # warm the second worker too
        ratios = []
        for n in range(1, pairs + 1):
            second.stop()  # a graceful stop: it holds no job between renders
            one_s, count = one_render()
            second = cluster.restart(second)
            two_s, _ = one_render()
            ratios.append(two_s / one_s)
            print(f"scale-out, pair {n}: {count} shots at {resolution} {FPS} fps ({preset}); "
                  f"final cut with 1 video worker on core 0 {one_s:.2f} s, with 2 on cores 0 "
                  f"and 1 {two_s:.2f} s: {two_s / one_s:.2f}", flush=True)  # fmt: skip
        shares = {v.name: len(v.events("video.segment.encoded")) for v in cluster.videos}
        print(f"segments encoded per worker since it last started: {shares}", flush=True)
    each = " ".join(f"{r:.2f}" for r in ratios)
    median = statistics.median(ratios)
    print(f"two workers / one worker = {median:5.2f}  (median of {pairs} pairs: {each}; "
          f"target <= 0.55; perfect scaling here about {side_by_side / 2:.2f})",
          flush=True)  # fmt: skip


# --- 3. memory ---------------------------------------------------------------------------------


def _hwm_kib(pid: int) -> tuple[str, int] | None:
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return None
    name = fields.get("Name", "?").strip()
    return name, int(fields.get("VmHWM", "0 kB").split()[0])


def reset_peaks(root_pid: int) -> bool:
    """Reset VmHWM of every process in the tree to its current RSS (Linux ≥ 4.0: writing `5`
    to clear_refs). VmHWM never falls by itself, so without this a render's peak would be the
    largest since the process started. False when the kernel does not allow it."""
    done = True
    for pid in tree(root_pid):
        try:
            with open(f"/proc/{pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            done = False
    return done


class PeakSampler:
    """Samples VmHWM (the kernel's own peak RSS) of a process tree every `interval` s: by
    name, the largest peak seen of any process of that name."""

    def __init__(self, root_pid: int, interval: float = 0.2) -> None:
        self.root_pid = root_pid
        self.interval = interval
        self.peaks: dict[str, int] = defaultdict(int)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in tree(self.root_pid):
                found = _hwm_kib(pid)
                if found:
                    self.peaks[found[0]] = max(self.peaks[found[0]], found[1])
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def av_drift(path: Path) -> float:
    """The audio stream's duration less the video stream's, in seconds (PyAV)."""
    import av

    with av.open(str(path)) as container:
        audio, video = container.streams.audio[0], container.streams.video[0]
        assert audio.duration is not None and video.duration is not None
        return float(audio.duration * audio.time_base - video.duration * video.time_base)


def memory(work: Path, preset: str) -> None:
    platform = start_platform(work / "mem", {"STORYREEL_VIDEO_PRESET": preset})
    assert platform.proc is not None
    pid = platform.proc.pid
    try:
        http = httpx.Client(base_url=platform.url, timeout=120)
        login(http)
        results = []
        # A short render after the long one as well: a process's resting memory drifts a little
        # from render to render (the allocator's state), so the long one is compared with the
        # short ones on both sides of it.
        runs = (("cold short", 8, 0), ("short", 8, 1), ("long", 20, 2), ("short again", 8, 3))
        for label, beats, n in runs:
            story = "\n\n".join(
                [
                    "# The Lighthouse",
                    *(f"{b} {LONG_BEATS[(i + 7) % 20]}" for i, b in enumerate(LONG_BEATS[:beats])),
                ]
            )
            body = {
                "story": story,
                "style": "realistic",
                "options": {
                    "scene_count": beats,
                    "shots_per_scene": 2 if beats == 20 else 1,
                    "video": {"resolution": f"{WIDTH}x{HEIGHT}", "fps": FPS},
                    "music": True,
                    # Each render new pictures and new speech: nothing comes from a cache.
                    "image": {"seed": 500 + n},
                    "speed": round(1.0 + 0.01 * n, 2),
                },
            }
            # The cold render's peaks include start-up; the measured ones are their own.
            reset = label.startswith("cold") or reset_peaks(pid)
            began = time.perf_counter()
            with PeakSampler(pid) as sampler:
                r = http.post("/api/v1/pipeline/render", json=body)
                task = started(http, r)
            seconds = time.perf_counter() - began
            result = task["result"]
            video = work / f"{label}.mp4"
            video.write_bytes(http.get(result["video_url"]).content)
            drift = av_drift(video)
            print(f"memory, {label}: audio - video duration = {drift * 1000:+.1f} ms "
                  f"(one frame = {1000 / FPS:.1f} ms)", flush=True)  # fmt: skip
            shots, duration = len(result["shots"]), result["duration"]
            results.append((label, shots, duration, seconds, dict(sampler.peaks), reset))
        for label, shots, duration, seconds, peaks, reset in results:
            mib = ", ".join(f"{name} {kib / 1024:.0f}" for name, kib in sorted(peaks.items()))
            since = "" if reset else " (peaks since start-up: this kernel cannot reset them)"
            print(
                f"memory, {label}: {shots} shots, {duration:.1f} s of video at {WIDTH}x{HEIGHT} "
                f"{FPS} fps, rendered end to end in {seconds:.1f} s; peak RSS per process "
                f"(MiB){since}: {mib}",
                flush=True,
            )
    finally:
        platform.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="veryfast")
    parser.add_argument("--skip", default="", help="comma-separated: incremental,scale,memory")
    parser.add_argument("--scale-resolution", default=f"{WIDTH}x{HEIGHT}")
    parser.add_argument("--scale-shots", type=int, default=16)
    parser.add_argument(
        "--scale-pairs", type=int, default=3, help="one-worker / two-worker renders, alternating"
    )
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    with open("/proc/loadavg") as f:
        load = f.read().split()[:3]
    print(f"cores: {len(os.sched_getaffinity(0))}  load average: {' '.join(load)}", flush=True)
    with tempfile.TemporaryDirectory(prefix="storyreel-segbench-") as tmp:
        work = Path(tmp)
        if "incremental" not in skip:
            incremental(work, args.preset)
        if "scale" not in skip:
            scale(work, args.preset, args.scale_resolution, args.scale_shots, args.scale_pairs)
        if "memory" not in skip:
            memory(work, args.preset)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
