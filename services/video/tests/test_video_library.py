"""The videos area on a real SQLite store, a real media folder and real ffmpeg: the repository,
the clips, concatenate and final_cut jobs, and their task progress.

The storyboards and the drama check are the ports the service reads other services through;
here they are answered by `Shots` and `Dramas` below, over media stored in the real folder.
"""

from __future__ import annotations

import io
import json
import math
import wave
from collections.abc import AsyncIterator, Callable
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pysubs2
import pytest
from PIL import Image
from pydantic import ValidationError

from storyreel_core.bus.job_runner import Job, JobContext
from storyreel_core.drama_models import SpeechSegment
from storyreel_core.errors import NotFound, VersionConflict
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_core.stores.sqlite_store import SqliteDocumentStore
from storyreel_core.task_store import TaskStore, progress_doc
from storyreel_video.audio_mix import RATE, MusicBed, mix_soundtrack
from storyreel_video.clips_job import ClipsJob
from storyreel_video.concat_job import ConcatJob, concat_filter
from storyreel_video.final_cut_job import FinalCutJob
from storyreel_video.loudness import integrated_loudness
from storyreel_video.segmented_cut import LocalSegments
from storyreel_video.video_models import (
    ClipsInput,
    ConcatInput,
    ConcatSource,
    CutShot,
    FinalCutInput,
    MusicSpec,
    ShotRef,
    SubtitleSpec,
)
from storyreel_video.video_store import VIDEOS, MediaFile, VideoStore, clip_slot

OWNER, OTHER, DRAMA = "user_a", "user_b", "drama_1"
W, H, FPS = 144, 256, 12


class Dramas:
    """The `DramaCheck` port over a set of (owner, drama) pairs."""

    def __init__(self, *owned: tuple[str, str]) -> None:
        self.owned = set(owned)

    async def require(self, owner_id: str, drama_id: str) -> None:
        if (owner_id, drama_id) not in self.owned:
            raise NotFound(f"drama {drama_id} not found", field="drama_id")


Synth = tuple[Callable[..., Path], Callable[..., Path]]


class Env:
    def __init__(self, root: Path, docs: SqliteDocumentStore, synth: Synth) -> None:
        self.make_still, self.make_speech = synth
        self.root = root
        self.docs = docs
        self.objects = FolderObjectStore(root / "media")
        self.videos = VideoStore(docs, self.objects)
        self.tasks = TaskStore(docs)
        self.dramas = Dramas((OWNER, DRAMA))
        self.events: list[dict[str, Any]] = []

    async def task(self, kind: str, payload: dict[str, Any], total: int) -> tuple[Job, JobContext]:
        doc = await self.tasks.create(
            kind=kind, service="video", owner_id=OWNER, payload=payload, drama_id=DRAMA, total=total
        )
        job = Job(task_id=doc["_id"], kind=kind, owner_id=OWNER, payload=payload, attempt=1)

        async def publish(task: dict[str, Any]) -> None:
            self.events.append(task)

        return job, JobContext(job=job, tasks=self.tasks, publish=publish)

    async def shot(
        self, name: str, *, speech: float = 0.0, seed: int = 0, **fields: Any
    ) -> ShotRef:
        """A storyboard with a stored frame and, when `speech` > 0, a stored WAV."""
        still = self.make_still(self.root / f"{name}.png", W, H, seed)
        image_key = f"dramas/{DRAMA}/storyboards/{name}/frame.png"
        await self.objects.put_file(image_key, still, "image/png")
        if speech > 0:
            wav = self.make_speech(self.root / f"{name}.wav", speech, seed=seed)
            fields.setdefault("audio_key", f"dramas/{DRAMA}/storyboards/{name}/audio.wav")
            await self.objects.put_file(fields["audio_key"], wav, "audio/wav")
            fields.setdefault("audio_duration", speech)
            fields.setdefault(
                "segments",
                [SpeechSegment(speaker="narrator", text=f"Line of {name}.", start=0.0, end=speech)],
            )
        return ShotRef(storyboard_id=name, image_key=image_key, **fields)


@pytest.fixture
async def env(tmp_path: Path, synth: Synth) -> AsyncIterator[Env]:
    docs = await SqliteDocumentStore(tmp_path / "db.sqlite").connect()
    e = Env(tmp_path, docs, synth)
    await e.videos.ensure_indexes()
    await e.tasks.ensure_indexes()
    yield e
    await docs.close()


def probe(data_or_path: bytes | Path) -> dict[str, Any]:
    source = io.BytesIO(data_or_path) if isinstance(data_or_path, bytes) else str(data_or_path)
    with av.open(source) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        frames = sum(1 for _ in c.decode(video=0))
        c.seek(0)
        pcm = np.concatenate([f.to_ndarray().ravel() for f in c.decode(audio=0)])
        return {
            "vcodec": v.codec_context.name,
            "acodec": a.codec_context.name,
            "size": (v.codec_context.width, v.codec_context.height),
            "fps": v.average_rate,
            "frames": frames,
            "duration": float(c.duration or 0) / av.time_base,
            "rms": float(np.sqrt(np.mean(pcm.astype(np.float64) ** 2))),
        }


def media_keys(env: Env, drama: str = DRAMA) -> list[str]:
    root = env.root / "media" / "dramas" / drama / "videos"
    return sorted(
        str(p.relative_to(env.root / "media"))
        for p in root.rglob("*")
        if p.is_file() and not p.name.endswith(".meta.json")
    )


# --- the repository -------------------------------------------------------------------------


async def test_saving_into_a_taken_slot_replaces_the_video_and_its_media(env: Env) -> None:
    first = env.root / "one.mp4"
    first.write_bytes(b"first")
    doc = await env.videos.save(
        OWNER, DRAMA, slot=clip_slot("sb_1"), task_id="task_1",
        files=[MediaFile("key", first, ".mp4", "video/mp4")],
        fields={"kind": "clip", "storyboard_id": "sb_1", "duration": 1.0},
    )  # fmt: skip
    assert doc["key"] == f"dramas/{DRAMA}/videos/{doc['_id']}/task_1.mp4"
    assert doc["file_size"] == 5 and doc["version"] == 1

    second = env.root / "two.mp4"
    second.write_bytes(b"second!")
    again = await env.videos.save(
        OWNER, DRAMA, slot=clip_slot("sb_1"), task_id="task_2",
        files=[MediaFile("key", second, ".mp4", "video/mp4")],
        fields={"kind": "clip", "storyboard_id": "sb_1", "duration": 2.0},
    )  # fmt: skip
    assert again["_id"] == doc["_id"] and again["version"] == 2
    assert again["created_at"] == doc["created_at"] and again["duration"] == 2.0
    assert await env.docs.count(VIDEOS, {"drama_id": DRAMA}) == 1
    # The old task's file is gone, the new one is there: no duplicate media either.
    assert media_keys(env) == [again["key"]]
    assert await env.objects.get_bytes(again["key"]) == b"second!"


async def test_reads_are_scoped_to_owner_and_drama_and_keep_the_order_asked(env: Env) -> None:
    made = []
    for i, kind in enumerate(["clip", "clip", "final"]):
        path = env.root / f"{i}.mp4"
        path.write_bytes(b"x" * (i + 1))
        made.append(
            await env.videos.save(
                OWNER,
                DRAMA,
                slot=f"{kind}:{i}",
                task_id=f"task_{i}",
                files=[MediaFile("key", path, ".mp4", "video/mp4")],
                fields={"kind": kind},
            )
        )
    ids = [d["_id"] for d in made]
    items, total = await env.videos.list_page(OWNER, DRAMA, page=1, per_page=2)
    assert total == 3 and [d["_id"] for d in items] == ids[:2]
    items, total = await env.videos.list_page(OWNER, DRAMA, page=1, per_page=10, kind="final")
    assert total == 1 and items[0]["_id"] == ids[2]
    assert (await env.videos.list_page(OTHER, DRAMA, page=1, per_page=10))[1] == 0

    picked = await env.videos.many(OWNER, DRAMA, [ids[2], ids[0], ids[2]])
    assert [d["_id"] for d in picked] == [ids[2], ids[0], ids[2]]
    with pytest.raises(NotFound) as missing:
        await env.videos.many(OWNER, DRAMA, [ids[0], "video_nope"])
    assert "video_nope" in missing.value.message
    with pytest.raises(NotFound):
        await env.videos.many(OTHER, DRAMA, [ids[0]])
    with pytest.raises(NotFound):
        await env.videos.get(OWNER, "drama_other", ids[0])
    assert (await env.videos.get(OWNER, DRAMA, ids[1]))["file_size"] == 2


async def test_deleting_a_dramas_content_is_complete_and_idempotent(env: Env) -> None:
    path = env.root / "v.mp4"
    path.write_bytes(b"video")
    for drama in (DRAMA, "drama_2"):
        await env.videos.save(
            OWNER, drama, slot="clip:sb", task_id="task_1",
            files=[MediaFile("key", path, ".mp4", "video/mp4"),
                   MediaFile("thumbnail_key", path, ".jpg", "image/jpeg")],
            fields={"kind": "clip"},
        )  # fmt: skip
    await env.videos.delete_drama_content(OWNER, DRAMA)
    await env.videos.delete_drama_content(OWNER, DRAMA)  # a redelivered event: nothing to do
    assert await env.docs.count(VIDEOS, {"drama_id": DRAMA}) == 0
    assert media_keys(env) == []
    assert await env.docs.count(VIDEOS, {"drama_id": "drama_2"}) == 1
    assert len(media_keys(env, "drama_2")) == 2


async def test_a_slot_that_keeps_changing_gives_up_with_a_conflict(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = env.root / "v.mp4"
    path.write_bytes(b"video")
    save = {"slot": "clip:sb", "task_id": "task_1", "fields": {"kind": "clip"},
            "files": [MediaFile("key", path, ".mp4", "video/mp4")]}  # fmt: skip
    await env.videos.save(OWNER, DRAMA, **save)  # type: ignore[arg-type]

    async def always_stale(*_: Any, **__: Any) -> Any:
        raise VersionConflict("moved on")

    monkeypatch.setattr(env.docs, "replace", always_stale)
    with pytest.raises(VersionConflict):
        await env.videos.save(OWNER, DRAMA, **save)  # type: ignore[arg-type]


# --- clips ----------------------------------------------------------------------------------


def clips_payload(shots: list[ShotRef], **settings: Any) -> dict[str, Any]:
    spec = ClipsInput(drama_id=DRAMA, shots=shots, width=W, height=H, fps=FPS, **settings)
    return spec.model_dump(mode="json")


async def test_clips_job_renders_one_clip_per_shot_with_progress_per_shot(env: Env) -> None:
    voiced = await env.shot("sb_voiced", speech=1.1, seed=1, camera_movement="push_in")
    silent = await env.shot("sb_silent", seed=2, camera_movement="pan_left", duration=4.0)
    payload = clips_payload([voiced, silent], duration=1.5, subtitles=True)
    job, ctx = await env.task("clips", payload, total=2)
    result = await ClipsJob(env.videos, env.dramas, ffmpeg=None, preset="ultrafast")(job, ctx)

    assert (result["total_count"], result["success_count"], result["failed_count"]) == (2, 2, 0)
    by_shot = {v["storyboard_id"]: v for v in result["videos"]}
    # With audio the clip lasts as long as the speech needs (+ a 0.5 s tail); without, the
    # requested duration wins over the storyboard's own.
    assert by_shot["sb_voiced"]["duration"] == pytest.approx(1.6, abs=1 / FPS)
    assert by_shot["sb_silent"]["duration"] == pytest.approx(1.5, abs=1 / FPS)
    for shot_id, video in by_shot.items():
        assert video["id"].startswith("video_") and video["kind"] == "clip"
        data = await env.objects.get_bytes(video["key"])
        assert video["file_size"] == len(data)
        info = probe(data)
        assert (info["vcodec"], info["acodec"], info["size"]) == ("h264", "aac", (W, H))
        assert info["fps"] == Fraction(FPS)
        assert info["frames"] == round(video["duration"] * FPS)
        assert (info["rms"] > 0.01) == (shot_id == "sb_voiced")
        with Image.open(io.BytesIO(await env.objects.get_bytes(video["thumbnail_key"]))) as t:
            assert t.format == "JPEG" and t.size == (W, H)
        doc = await env.videos.get(OWNER, DRAMA, video["id"])
        assert doc["slot"] == clip_slot(shot_id) and doc["task_id"] == job.task_id

    # Progress in seed 000's shape, shot by shot, the item being worked on named.
    progress = [(e["progress"], e["current_item"]) for e in env.events]
    assert progress[0] == (
        progress_doc(0, 2, processing=1, pending=1, percentage=0.0),
        {"storyboard_id": "sb_voiced", "status": "processing"},
    )
    starts = [p for p, item in progress if p["percentage"] in (0.0, 50.0)]
    assert [(p["completed"], p["processing"], p["pending"]) for p in starts] == [
        (0, 1, 1),
        (1, 1, 0),
    ]
    assert {item["storyboard_id"] for _, item in progress} == {"sb_voiced", "sb_silent"}
    percentages = [p["percentage"] for p, _ in progress]
    assert percentages == sorted(percentages)


async def test_regenerating_a_clip_replaces_it_and_a_broken_shot_fails_alone(env: Env) -> None:
    shot = await env.shot("sb_1", seed=3)
    job, ctx = await env.task("clips", clips_payload([shot], duration=1.0), total=1)
    first = await ClipsJob(env.videos, env.dramas, ffmpeg=None, preset="ultrafast")(job, ctx)
    old = first["videos"][0]

    broken = ShotRef(storyboard_id="sb_broken", image_key=f"dramas/{DRAMA}/missing.png")
    moved = shot.model_copy(update={"camera_movement": "tilt_up"})
    job, ctx = await env.task("clips", clips_payload([moved, broken], duration=0.8), total=2)
    second = await ClipsJob(env.videos, env.dramas, ffmpeg=None, preset="ultrafast")(job, ctx)

    assert (second["success_count"], second["failed_count"]) == (1, 1)
    assert second["failed"][0]["storyboard_id"] == "sb_broken"
    new = second["videos"][0]
    assert new["id"] == old["id"] and new["key"] != old["key"]
    assert new["duration"] == pytest.approx(0.8, abs=1 / FPS)
    assert await env.docs.count(VIDEOS, {"drama_id": DRAMA}) == 1
    assert media_keys(env) == sorted([new["key"], new["thumbnail_key"]])
    assert (await env.videos.get(OWNER, DRAMA, new["id"]))["camera_movement"] == "tilt_up"


async def test_clips_job_fails_when_no_shot_renders_and_stores_nothing_for_a_gone_drama(
    env: Env,
) -> None:
    shot = await env.shot("sb_1")
    env.dramas.owned.clear()  # the drama was deleted while the job was queued
    job, ctx = await env.task("clips", clips_payload([shot], duration=0.6), total=1)
    with pytest.raises(NotFound):
        await ClipsJob(env.videos, env.dramas, ffmpeg=None, preset="ultrafast")(job, ctx)
    assert await env.docs.count(VIDEOS) == 0 and media_keys(env) == []


async def test_a_shot_whose_audio_length_is_unknown_is_measured(env: Env) -> None:
    shot = await env.shot("sb_1", speech=1.4, audio_duration=0.0, duration=0.0)
    job, ctx = await env.task("clips", clips_payload([shot], duration=0.6), total=1)
    result = await ClipsJob(env.videos, env.dramas, ffmpeg=None, preset="ultrafast")(job, ctx)
    assert result["videos"][0]["duration"] == pytest.approx(1.9, abs=1 / FPS)


# --- concatenate ----------------------------------------------------------------------------


async def clips_of(env: Env, seconds: list[float]) -> list[dict[str, Any]]:
    shots = [await env.shot(f"sb_{i}", seed=i) for i in range(len(seconds))]
    made = []
    for shot, duration in zip(shots, seconds, strict=True):
        job, ctx = await env.task("clips", clips_payload([shot], duration=duration), total=1)
        result = await ClipsJob(env.videos, env.dramas, ffmpeg=None, preset="ultrafast")(job, ctx)
        made.append(await env.videos.get(OWNER, DRAMA, result["videos"][0]["id"]))
    return made


def concat_payload(docs: list[dict[str, Any]], **settings: Any) -> dict[str, Any]:
    sources = [
        ConcatSource(
            video_id=d["_id"],
            key=d["key"],
            duration=d["duration"],
            width=d["width"],
            height=d["height"],
            fps=d["fps"],
        )
        for d in docs
    ]
    fields: dict[str, Any] = {"width": W, "height": H, "fps": FPS, **settings}
    return ConcatInput(drama_id=DRAMA, sources=sources, **fields).model_dump(mode="json")


@pytest.mark.parametrize("transition", ["none", "crossfade"])
async def test_concatenation_lasts_the_sum_of_its_parts(env: Env, transition: str) -> None:
    clips = await clips_of(env, [1.0, 0.75])
    payload = concat_payload([clips[0], clips[1], clips[0]], transition=transition)
    job, ctx = await env.task("concatenate", payload, total=100)
    result = await ConcatJob(env.videos, env.dramas, ffmpeg=None, preset="ultrafast")(job, ctx)

    video = result["video"]
    # Hard cuts: the sum. Crossfades overlap by 0.5 s, clamped to 45% of the shortest part.
    expected = 2.75 if transition == "none" else 2.75 - 2 * min(0.5, 0.45 * 0.75)
    assert video["kind"] == "concat"
    assert video["duration"] == pytest.approx(expected, abs=1 / FPS)
    info = probe(await env.objects.get_bytes(video["key"]))
    assert (info["vcodec"], info["acodec"], info["size"]) == ("h264", "aac", (W, H))
    assert info["duration"] == pytest.approx(expected, abs=0.15)
    assert info["frames"] == pytest.approx(round(expected * FPS), abs=1)
    doc = await env.videos.get(OWNER, DRAMA, video["id"])
    assert doc["source_ids"] == [clips[0]["_id"], clips[1]["_id"], clips[0]["_id"]]
    assert env.events[-1]["progress"]["total"] == 100


async def test_concatenation_fits_other_sizes_to_the_output(env: Env) -> None:
    clips = await clips_of(env, [0.6])
    payload = concat_payload(clips, width=96, height=96, fps=8)
    job, ctx = await env.task("concatenate", payload, total=100)
    result = await ConcatJob(env.videos, env.dramas, ffmpeg=None, preset="ultrafast")(job, ctx)
    info = probe(await env.objects.get_bytes(result["video"]["key"]))
    assert info["size"] == (96, 96) and info["fps"] == Fraction(8)


def test_the_join_filter_offsets_each_transition_by_the_length_so_far() -> None:
    graph = concat_filter([2.0, 1.0, 3.0], width=W, height=H, fps=FPS, transition="fade", td=0.5)
    assert "xfade=transition=fadeblack:duration=0.500000:offset=1.500000" in graph
    assert "offset=2.000000" in graph  # 2 + 1 - 0.5 (first join) - 0.5
    assert graph.count("acrossfade") == 2
    hard = concat_filter([2.0, 1.0], width=W, height=H, fps=FPS, transition="none", td=0.0)
    assert "concat=n=2:v=1:a=1[v][a]" in hard and "xfade" not in hard


# --- the final cut --------------------------------------------------------------------------


def music_wav(path: Path, seconds: float, freq: float = 220.0) -> Path:
    t = np.arange(int(seconds * 44_100)) / 44_100
    tone = 0.4 * np.sin(2 * math.pi * freq * t)
    stereo = np.stack([tone, tone], axis=1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44_100)
        w.writeframes((stereo * 32767).astype("<i2").tobytes())
    return path


async def test_the_final_cut_of_storyboards_is_saved_with_music_and_subtitles(env: Env) -> None:
    shots = [
        await env.shot("sb_1", speech=1.0, seed=1, camera_movement="push_in", duration=1.2),
        await env.shot("sb_2", seed=2, narration="The tower waits.", duration=1.0),
    ]
    music_key = f"dramas/{DRAMA}/assets/asset_1/music.wav"
    await env.objects.put_file(music_key, music_wav(env.root / "m.wav", 0.7), "audio/wav")
    payload = FinalCutInput(
        drama_id=DRAMA, storyboards=shots, width=W, height=H, fps=FPS, transition="crossfade",
        subtitles=SubtitleSpec(position="top", color=(255, 230, 0), font_size=14),
        music=MusicSpec(asset_id="asset_1", key=music_key, volume=0.5, fade_in=0.2, fade_out=0.3),
    ).model_dump(mode="json")  # fmt: skip
    job, ctx = await env.task("final_cut", payload, total=100)
    segments = LocalSegments(env.objects)
    render = FinalCutJob(env.videos, env.dramas, segments, ffmpeg=None, preset="ultrafast")
    result = await render(job, ctx)
    assert result["segments"] == {"total": 2, "encoded": 2}

    video = result["video"]
    # 1.5 s (1.0 s of speech + tail, more than the planned 1.2) + 1.0 s − one 0.45 s crossfade.
    expected = 1.5 + 1.0 - 0.45
    assert video["duration"] == pytest.approx(expected, abs=1 / FPS)
    info = probe(await env.objects.get_bytes(video["key"]))
    assert (info["vcodec"], info["acodec"], info["size"]) == ("h264", "aac", (W, H))
    assert info["fps"] == Fraction(FPS) and info["rms"] > 0.01
    srt = pysubs2.SSAFile.from_string((await env.objects.get_bytes(video["subtitle_key"])).decode())
    lines = [e.plaintext.replace("\n", " ") for e in srt]  # wrapped for a narrow frame
    assert lines == ["Line of sb_1.", "The tower waits."]
    ass = pysubs2.SSAFile.from_string((await env.objects.get_bytes(video["ass_key"])).decode())
    style = ass.styles["Default"]
    assert style.alignment == pysubs2.Alignment.TOP_CENTER and style.fontsize == 14
    assert (style.primarycolor.r, style.primarycolor.g, style.primarycolor.b) == (255, 230, 0)
    doc = await env.videos.get(OWNER, DRAMA, video["id"])
    assert doc["kind"] == "final" and doc["source_ids"] == ["sb_1", "sb_2"]
    assert doc["music"]["asset_id"] == "asset_1" and "key" not in doc["music"]
    # The segments and the soundtrack are cached with the drama's media (and go when the
    # drama goes).
    soundtracks = [k for k in media_keys(env) if "/soundtrack-" in k]
    assert len(soundtracks) == 1 and soundtracks[0].endswith(".m4a")
    assert soundtracks[0].startswith(f"dramas/{DRAMA}/videos/segments/")
    assert media_keys(env) == sorted(
        [video[k] for k in ("key", "thumbnail_key", "subtitle_key", "ass_key")]
        + [s.key for s in segments.encoded]
        + soundtracks
    )
    assert all(s.key.startswith(f"dramas/{DRAMA}/videos/segments/") for s in segments.encoded)


def test_an_uploaded_music_bed_sits_at_its_volume_under_the_voice_and_fades() -> None:
    seconds = 4.0
    t = np.arange(int(seconds * RATE), dtype=np.float32) / RATE
    speaking = (t >= 1.0) & (t < 2.0)
    voice = (0.3 * np.sin(2 * math.pi * 180 * t) * speaking).astype(np.float32)
    half_second = np.sin(2 * math.pi * 440 * t[: RATE // 2]).astype(np.float32)
    track = np.repeat(0.5 * half_second[:, None], 2, axis=1)  # looped to length by the mix

    def mix(volume: float, fade_in: float | None = None) -> np.ndarray:
        bed = MusicBed(volume=volume, fade_in=fade_in, fade_out=0.0)
        return mix_soundtrack(
            [(voice, 0.0, seconds)], seconds, music=True, bed=bed, bed_track=track
        )

    def bed_under_voice(mixed: np.ndarray) -> float:
        """The bed alone (once the ducking has let go) against the speech, in LU."""
        after = integrated_loudness(mixed[int(3.5 * RATE) :])
        return after - integrated_loudness(mixed[RATE : 2 * RATE])

    # Volume is a linear gain on the bed against the voice: 1.0 vs 0.1 is 20 dB.
    assert bed_under_voice(mix(1.0)) - bed_under_voice(mix(0.1)) == pytest.approx(20.0, abs=1.5)
    assert bed_under_voice(mix(0.1)) == pytest.approx(-20.0, abs=2.0)

    def first_50ms(mixed: np.ndarray) -> float:
        return float(np.sqrt(np.mean(mixed[: RATE // 20] ** 2)))

    assert first_50ms(mix(0.5, fade_in=0.0)) > 5 * first_50ms(mix(0.5, fade_in=1.0))
    assert float(np.abs(mix(0.0)[3 * RATE :]).max()) < 1e-4  # volume 0: no bed at all


def test_job_payloads_survive_the_trip_through_json() -> None:
    segment = SpeechSegment(speaker="narrator", text="t", start=0, end=1)
    shot = ShotRef(storyboard_id="sb", image_key="k", segments=[segment])
    spec = FinalCutInput(drama_id=DRAMA, storyboards=[shot], music=MusicSpec(volume=0.3))
    again = FinalCutInput.model_validate(json.loads(json.dumps(spec.model_dump(mode="json"))))
    assert again == spec


def test_a_final_cut_takes_a_dramas_storyboards_or_explicit_shots() -> None:
    board = ShotRef(storyboard_id="sb", image_key="k")
    cut = CutShot(shot_id="s", frame_key="k", duration=1.0)
    FinalCutInput(shots=[cut])
    for wrong in [
        {},
        {"drama_id": DRAMA, "storyboards": [board], "shots": [cut]},
        {"storyboards": [board]},  # storyboards without their drama
        {"drama_id": DRAMA, "shots": [cut]},
        {"shots": [cut], "music": MusicSpec(key="dramas/x/song.wav")},
    ]:
        with pytest.raises(ValidationError):
            FinalCutInput.model_validate(wrong)
