"""The studio's final cut speaks storyboards that never had their audio step (issue 13).

A new user wrote a two-character Chinese story, generated its script and storyboards, and
rendered (`POST …/videos/render`) without `POST …/storyboards/{id}/audio`: the cut was music
only, its subtitles spread evenly over the written lines (two speech tags in one cue before the
lines they introduce) and overlapping under the crossfade. Now the render speaks those
storyboards first (the same shot-audio task), and says which. Checked on the MP4 and SRT: speech
in the speech band (300-3400 Hz) wherever a cue shows (the music bed is off, so nothing else
sounds), every sentence of the story once and in order, no two cues on screen at once. Real
services, gRPC, JetStream jobs, the offline voices and ffmpeg.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import av
import numpy as np
import srt
from e2e_client import Api, completed_task, download, new_drama

from storyreel_cli.platform_process import PlatformProcess

STORY = "陈雪皱着眉头说：“你又迟到了半个小时。”李明笑着说：“路上堵车。”陈雪终于笑了。"
# What a viewer must read, in this order, each once (the story's words, punctuation aside).
SENTENCES = ["陈雪皱着眉头说", "你又迟到了半个小时", "李明笑着说", "路上堵车", "陈雪终于笑了"]
SIZE, FPS = "180x320", 10
SPEECH_BAND = (300.0, 3400.0)  # Hz: telephone band, where a voice's energy lies


def _plain(text: str) -> str:
    return re.sub(r"[\W_]+", "", text)


def speech_band_rms(path: Path, start: float, end: float) -> float:
    """RMS (full scale 1.0) of the mono soundtrack between `start` and `end` (s), keeping only
    the speech band (an FFT mask)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        chunks = [
            out.to_ndarray().ravel()
            for frame in container.decode(stream)
            for out in resampler.resample(frame)
        ]
    pcm = np.concatenate(chunks).astype(np.float64)
    part = pcm[int(start * rate) : int(end * rate)]
    spectrum = np.fft.rfft(part)
    freqs = np.fft.rfftfreq(len(part), 1 / rate)
    spectrum[(freqs < SPEECH_BAND[0]) | (freqs > SPEECH_BAND[1])] = 0
    band = np.fft.irfft(spectrum, len(part))
    return float(np.sqrt(np.mean(band**2)))


def test_the_final_cut_speaks_storyboards_without_audio(
    api: Api, platform: PlatformProcess, tmp_path: Path
) -> None:
    drama = new_drama(api, "迟到")
    base = f"/dramas/{drama}"
    body = {"input_type": "novel", "input_content": STORY, "language": "zh", "scene_count": 2}
    script = completed_task(api, api.post(f"{base}/scripts/generate", json=body))["result"]
    made = completed_task(
        api, api.post(f"{base}/storyboards/generate", json={"script_id": script["id"]})
    )["result"]
    boards = [b["id"] for b in made["storyboards"]]
    assert len(boards) == 2
    assert all(not api.get(f"{base}/storyboards/{b}").json()["data"]["audio_url"] for b in boards)

    render = {"resolution": SIZE, "frame_rate": FPS, "music": {"enabled": False}}
    task = completed_task(api, api.post(f"{base}/videos/render", json=render), timeout=180)
    result = task["result"]
    assert result["spoken"] == boards  # each silent storyboard spoken once, in cut order
    for b in boards:  # the speech is the storyboard's own now, as after its audio step
        assert api.get(f"{base}/storyboards/{b}").json()["data"]["audio_duration"] > 0.3

    video = result["video"]
    mp4 = tmp_path / "final.mp4"
    mp4.write_bytes(download(api, video["url"]))
    cues = list(srt.parse(download(api, video["subtitle_url"]).decode()))

    # Every sentence once, in story order; and no two cues at once.
    text = _plain("".join(c.content for c in cues))
    at = [text.find(s) for s in SENTENCES]
    assert all(i >= 0 for i in at) and at == sorted(at), [c.content for c in cues]
    assert all(text.count(s) == 1 for s in SENTENCES)
    for a, b in itertools.pairwise(cues):
        assert a.end <= b.start, (a, b)

    # A voice wherever a line is on screen.
    for cue in cues:
        start, end = cue.start.total_seconds(), cue.end.total_seconds()
        assert speech_band_rms(mp4, start, end) > 0.01, cue.content
