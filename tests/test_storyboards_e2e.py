"""Storyboards through the running platform: generation from a script with the drama's
characters, edits with optimistic versions, reorder, scene links, new frames, shot audio
(eSpeak speech and uploads), ownership, deletion. Real services, gRPC, frames and audio.
"""

from __future__ import annotations

import io
import math
import struct
import subprocess
import time
import wave
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
import soundfile
from e2e_client import Api, assert_error, completed_task, download, new_drama, png
from leftovers import drama_documents, drama_media
from PIL import Image
from test_characters_assets_e2e import MAX_UPLOAD, media_files

from storyreel_cli.platform_process import PlatformProcess

SCENES = [
    {
        "id": "s1",
        "number": 1,
        "location": "tea house",
        "time": "day",
        "characters": ["Mei", "Lin"],
        "narration": "Mei pours the tea. Lin watches the rain outside.",
        "dialogue": [{"speaker": "Mei", "text": "The rain is coming!"}],
    },
    {
        "id": "s2",
        "number": 2,
        "location": "harbour",
        "time": "night",
        "characters": ["Lin"],
        "narration": "Lin walks to the harbour alone.",
        "dialogue": [{"speaker": "Lin", "text": "I will find the ship."}],
    },
]


def tone_wav(seconds: float = 1.0, rate: int = 22050) -> bytes:
    samples = (
        int(8000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(seconds * rate))
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return out.getvalue()


def tone_mp3(tmp: Path, seconds: float = 1.5) -> bytes:
    target = tmp / "tone.mp3"
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi",
            "-i", f"sine=frequency=330:duration={seconds}", "-c:a", "libmp3lame", "-y",
            str(target),
        ],
        check=True,
    )  # fmt: skip
    return target.read_bytes()


def high_rate(tmp: Path, name: str, rate: int, codec: str, seconds: float = 0.8) -> bytes:
    """A stereo tone sampled at `rate` Hz in `codec`, made by the real ffmpeg."""
    target = tmp / name
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-loglevel", "error", "-f", "lavfi",
            "-i", f"sine=frequency=330:sample_rate={rate}:duration={seconds}", "-ac", "2",
            "-c:a", codec, "-y", str(target),
        ],
        check=True,
    )  # fmt: skip
    return target.read_bytes()


def objects(platform: PlatformProcess, prefix: str) -> set[str]:
    """Media object names under `prefix` (the folder store's sidecar files left out)."""
    return {p.name for p in media_files(platform, prefix) if not p.name.endswith(".meta.json")}


def unsigned(item: Any) -> Any:
    """A storyboard (or list of them) without its signed URLs, whose expiry moves each second."""
    if isinstance(item, list):
        return [unsigned(i) for i in item]
    return {k: v for k, v in item.items() if not k.endswith("_url")}


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data), "rb") as w:
        return w.getnframes() / w.getframerate()


def setup_drama(api: Api) -> tuple[str, str, dict[str, str]]:
    drama = new_drama(api, "Storyboards")
    r = api.post(
        f"/dramas/{drama}/scripts",
        json={
            "title": "Rain",
            "content": "Mei pours the tea. Lin walks to the harbour.",
            "scenes": SCENES,
            "metadata": {"language": "en"},
        },
    )
    assert r.status_code == 201, r.text
    script = r.json()["data"]["id"]
    people = {}
    for name, gender in (("Mei", "female"), ("Lin", "male")):
        r = api.post(f"/dramas/{drama}/characters", json={"name": name, "gender": gender})
        assert r.status_code == 201, r.text
        people[name] = r.json()["data"]["id"]
    return drama, script, people


def listing(api: Api, drama: str, **params: Any) -> list[dict[str, Any]]:
    r = api.get(f"/dramas/{drama}/storyboards", params={"per_page": 100, **params})
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["data"]
    return items


def test_generate_edit_reorder_link_and_regenerate(api: Api, platform: PlatformProcess) -> None:
    drama, script, people = setup_drama(api)
    base = f"/dramas/{drama}/storyboards"
    options = {"count_per_scene": 2, "image_style": "anime", "seed": 3}
    accepted = api.post(f"{base}/generate", json={"script_id": script, "options": options})
    assert accepted.status_code == 202, accepted.text
    assert accepted.json()["data"]["scene_count"] == 2  # seed 000's 202 names the scenes
    task = completed_task(api, accepted)
    result = task["result"]
    assert (result["total_count"], result["success_count"], result["failed_count"]) == (4, 4, 0)
    made = result["storyboards"]
    assert [s["scene_number"] for s in made] == [1, 1, 2, 2]
    assert [s["status"] for s in made] == ["completed"] * 4
    assert task["progress"]["completed"] == task["progress"]["total"] == 4
    frame = Image.open(io.BytesIO(download(api, made[0]["image_url"])))
    assert frame.size == (720, 1280) and frame.format == "PNG"
    assert Image.open(io.BytesIO(download(api, made[0]["thumbnail_url"]))).width == 256

    boards = listing(api, drama)
    assert [b["position"] for b in boards] == [1, 2, 3, 4]
    assert [b["id"] for b in boards] == [s["id"] for s in made]
    # The script's people are the drama's characters as designed in the asset service, so the
    # renderer draws each of them from the same id, name and gender as their sheets.
    named = {c for b in boards for c in b["character_ids"]}
    assert named and named <= set(people.values())
    assert people["Mei"] in {line["character_id"] for b in boards for line in b["dialogue"]}
    assert all(b["image_status"] == "completed" and b["aspect_ratio"] == "9:16" for b in boards)
    page = api.get(base, params={"per_page": 3, "page": 2}).json()
    assert page["pagination"] == {"page": 2, "per_page": 3, "total": 4, "total_pages": 2}
    assert [b["position"] for b in page["data"]] == [4]
    assert len(listing(api, drama, script_id=script)) == 4
    assert listing(api, drama, script_id="script_other") == []

    first = boards[0]
    path = f"{base}/{first['id']}"
    assert unsigned(api.get(path).json()["data"]) == unsigned(first)
    edit = {
        "description": "Mei alone, close on her hands",
        "shot_type": "close_up",
        "composition": {"subject": "hands", "thirds": "left"},
        "character_ids": [people["Mei"]],
        "dialogue": [{"character_id": people["Mei"], "text": "Tea?"}],
        "narration": "",
        "duration": 3.5,
        "camera_movement": "push_in",
        "prompt": "warm light on a teapot",
        "version": first["version"],
    }
    r = api.put(path, json=edit)
    assert r.status_code == 200, r.text
    edited = r.json()["data"]
    assert edited["version"] == first["version"] + 1 and edited["position"] == 1
    assert edited["shot_type"] == "close_up" and edited["composition"]["subject"] == "hands"
    assert edited["character_ids"] == [people["Mei"]] and edited["duration"] == 3.5
    assert edited["image_url"] and edited["narration"] == ""
    stale = api.put(path, json={"description": "lost", "version": first["version"]})
    assert_error(stale, 409, 1003)
    assert stale.json()["error"]["field"] == "version"
    assert_error(api.put(path, json={"shot_type": "dutch_angle"}), 400, 1001)
    assert_error(api.put(path, json={"duration": 61}), 400, 1001)
    assert_error(api.put(path, json={"character_ids": ["char_nobody"]}), 404, 1002)
    nobody = {"dialogue": [{"character_id": "char_nobody", "text": "hi"}]}
    assert_error(api.put(path, json=nobody), 404, 1002)
    assert_error(api.put(path, json={"dialogue": [{"character_id": "x", "text": "hi"}]}), 400, 1001)
    assert api.get(path).json()["data"]["description"] == edit["description"]

    # Reorder: the full set, each once; positions sort, the answer numbers them 1..n.
    ids = [b["id"] for b in boards]
    order = [{"id": i, "position": p} for p, i in enumerate(reversed(ids), start=1)]
    r = api.put(f"{base}/reorder", json={"order": order})
    assert r.status_code == 200, r.text
    assert [b["id"] for b in r.json()["data"]] == ids[::-1]
    assert [b["id"] for b in listing(api, drama)] == ids[::-1]
    assert api.get(path).json()["data"]["position"] == 4
    assert_error(api.put(f"{base}/reorder", json={"order": []}), 400, 1001)
    twice = [*order[:3], {"id": order[0]["id"], "position": 4}]
    for bad in (order[:3], twice):  # one missing, one twice: not the drama's set
        assert_error(api.put(f"{base}/reorder", json={"order": bad}), 409, 1003)
    shifted = [{"id": o["id"], "position": o["position"] * 10} for o in order]
    r = api.put(f"{base}/reorder", json={"order": shifted})
    assert [(b["id"], b["position"]) for b in r.json()["data"]] == [
        (i, p) for p, i in enumerate(reversed(ids), start=1)
    ]
    unknown = [*order[:3], {"id": "sb_nope", "position": 4}]
    assert_error(api.put(f"{base}/reorder", json={"order": unknown}), 404, 1002)
    assert [b["id"] for b in listing(api, drama)] == ids[::-1]

    # Link the edited first shot to scene 2: it takes the scene's people, place and time.
    r = api.put(f"{path}/link-scene", json={"scene_id": "s2"})
    assert r.status_code == 200, r.text
    linked = r.json()["data"]
    assert (linked["scene_id"], linked["scene_number"]) == ("s2", 2)
    assert (linked["location"], linked["time"]) == ("harbour", "night")
    assert linked["character_ids"] == [people["Lin"]]
    assert linked["narration"] == "Lin walks to the harbour alone."  # it had none
    assert_error(api.put(f"{path}/link-scene", json={"scene_id": "s9"}), 404, 1002)
    assert_error(
        api.put(f"{path}/link-scene", json={"scene_id": "s1", "script_id": "script_x"}), 404, 1002
    )

    # A new frame: different pixels, the old objects gone.
    old = download(api, linked["image_url"])
    folder = f"dramas/{drama}/storyboards/{first['id']}"
    before = objects(platform, folder)
    task = completed_task(
        api, api.post(f"{path}/regenerate-image", json={"seed": 11, "fix_face": True})
    )
    fresh = task["result"]["storyboard"]
    assert task["result"]["seed"] == 11  # the asked seed; render_seed mixes in prompt and style
    new = download(api, fresh["image_url"])
    assert new != old
    old_pixels = Image.open(io.BytesIO(old)).convert("L").resize((90, 160))
    new_pixels = Image.open(io.BytesIO(new)).convert("L").resize((90, 160))
    moved = sum(abs(a - b) for a, b in zip(old_pixels.getdata(), new_pixels.getdata(), strict=True))
    assert moved / (90 * 160) > 4  # visibly different, not a re-encode
    after = objects(platform, folder)
    assert len(after) == 2 and not after & before
    task = completed_task(
        api, api.post(f"{path}/regenerate-image", json={"prompt": "a lighthouse"})
    )
    lighthouse = download(api, task["result"]["storyboard"]["image_url"])
    assert lighthouse != new
    assert api.get(path).json()["data"]["prompt"] == "a lighthouse"
    # No seed asked: the result names the one drawn, and sending it draws the same picture.
    drawn = task["result"]["seed"]
    assert drawn > 0 and drawn != 11
    body = {"prompt": "a lighthouse", "seed": drawn}
    task = completed_task(api, api.post(f"{path}/regenerate-image", json=body))
    assert task["result"]["seed"] == drawn
    redrawn = download(api, task["result"]["storyboard"]["image_url"])
    first_pixels = Image.open(io.BytesIO(lighthouse)).convert("L").resize((90, 160))
    again_pixels = Image.open(io.BytesIO(redrawn)).convert("L").resize((90, 160))
    pairs = zip(first_pixels.getdata(), again_pixels.getdata(), strict=True)
    assert sum(abs(a - b) for a, b in pairs) / (90 * 160) < 1  # the same picture

    # Generating again from the script replaces its storyboards, in their place.
    task = completed_task(api, api.post(f"{base}/generate", json={"script_id": script}))
    assert task["result"]["total_count"] == 2 and task["result"]["replaced_count"] == 4
    again = listing(api, drama)
    assert [b["scene_number"] for b in again] == [1, 2]
    assert not {b["id"] for b in again} & set(ids)
    assert media_files(platform, folder) == []
    assert_error(api.post(f"{base}/generate", json={"script_id": "script_x"}), 404, 1002)
    bad_options = {"script_id": script, "options": {"count_per_scene": 7}}
    assert_error(api.post(f"{base}/generate", json=bad_options), 400, 1001)
    bad_options = {"script_id": script, "options": {"shot_type": "sideways"}}
    assert_error(api.post(f"{base}/generate", json=bad_options), 400, 1001)
    empty = api.post(f"/dramas/{drama}/scripts", json={"title": "Empty", "content": "x"})
    r = api.post(f"{base}/generate", json={"script_id": empty.json()["data"]["id"]})
    assert_error(r, 400, 1001)

    # Delete closes the gap.
    r = api.delete(f"{base}/{again[0]['id']}")
    assert r.status_code == 200, r.text
    rest = listing(api, drama)
    assert [b["id"] for b in rest] == [again[1]["id"]] and rest[0]["position"] == 1
    assert_error(api.get(f"{base}/{again[0]['id']}"), 404, 1002)
    assert media_files(platform, f"dramas/{drama}/storyboards/{again[0]['id']}") == []


def test_shot_audio_generated_and_uploaded(
    api: Api, platform: PlatformProcess, tmp_path: Path
) -> None:
    drama, script, _people = setup_drama(api)
    base = f"/dramas/{drama}/storyboards"
    completed_task(api, api.post(f"{base}/generate", json={"script_id": script}))
    shot = listing(api, drama)[0]
    path = f"{base}/{shot['id']}/audio"
    folder = f"dramas/{drama}/storyboards/{shot['id']}"

    voices = [v["id"] for v in api.get("/voices").json()["data"]]
    assert "female-2" in voices
    task = completed_task(
        api, api.post(path, json={"text": "Hello there, old friend.", "voice": "female-2"})
    )
    spoken = task["result"]["storyboard"]
    assert spoken["audio_source"] == "generated" and spoken["voice"] == "female-2"
    wav = download(api, spoken["audio_url"])
    assert wav[:4] == b"RIFF" and spoken["audio_duration"] == pytest.approx(wav_seconds(wav), 0.01)
    assert 0.5 < spoken["audio_duration"] < 10
    got = api.get(f"{base}/{shot['id']}").json()["data"]
    assert got["audio_segments"][0]["text"] == "Hello there, old friend."
    assert got["duration"] >= got["audio_duration"] - 0.01

    # Without text: the shot's narration and lines, each speaker in its own voice.
    task = completed_task(api, api.post(path, json={"speed": 1.5, "voice": voices[0]}))
    own = task["result"]["storyboard"]
    speakers = {
        s["speaker"] for s in api.get(f"{base}/{shot['id']}").json()["data"]["audio_segments"]
    }
    assert "narrator" in speakers and len(speakers) >= 2 and own["speed"] == 1.5
    assert len(objects(platform, folder)) == 3  # frame, thumbnail, the latest audio only
    assert_error(api.post(path, json={"voice": "robot-9"}), 400, 1001)
    # Never a silent substitute: seed voices this deployment lacks, unknown providers → 400.
    for body in (
        {"voice": "cosyvoice-mini"},
        {"voice_id": "narrator-fr"},
        {"audio_provider": "nope", "voice": "female-2"},
        {"provider": "nope"},
    ):
        r = api.post(path, json=body)
        assert_error(r, 400, 1001)
    assert "offline" in api.post(path, json={"provider": "nope"}).json()["message"]
    assert_error(api.get("/voices?provider=nope"), 400, 1001)
    listed = api.get("/voices?provider=espeak").json()["data"]
    assert listed and {v["provider"] for v in listed} == {"espeak"}
    for options in ({"audio_provider": "nope"}, {"voice": "cosyvoice-mini"}):
        r = api.post("/pipeline/render", json={"story": "A story.", "options": options})
        assert_error(r, 400, 1001)
    assert_error(api.post(path, json={"speed": 3}), 400, 1001)

    r = api.post(path, files={"file": ("take.wav", tone_wav(1.0), "audio/wav")})
    assert r.status_code == 201, r.text
    uploaded = r.json()["data"]
    assert uploaded["audio_source"] == "uploaded" and uploaded["voice"] == ""
    assert uploaded["audio_duration"] == pytest.approx(1.0, abs=0.01)
    r = api.post(path, files={"file": ("take.mp3", tone_mp3(tmp_path, 1.5), "audio/mpeg")})
    assert r.status_code == 201, r.text
    mp3 = r.json()["data"]
    assert mp3["audio_duration"] == pytest.approx(1.5, abs=0.1)
    assert download(api, mp3["audio_url"])[:4] == b"RIFF"  # kept as WAV
    # Above 48 kHz ffmpeg writes WAVE_FORMAT_EXTENSIBLE, which Python's `wave` refuses (was a 500).
    for name, rate, codec in (
        ("hi.wav", 96000, "pcm_s24le"),
        ("hi16.wav", 96000, "pcm_s16le"),
        ("hi.m4a", 88200, "aac"),
    ):
        r = api.post(path, files={"file": (name, high_rate(tmp_path, name, rate, codec), "")})
        assert r.status_code == 201, r.text
        stored = r.json()["data"]
        assert stored["audio_duration"] == pytest.approx(0.8, abs=0.06), name
        info = soundfile.info(io.BytesIO(download(api, stored["audio_url"])))
        assert (info.samplerate, info.channels) == (rate, 1)
        assert info.frames / info.samplerate == pytest.approx(stored["audio_duration"], abs=0.001)
    files = media_files(platform, folder)

    for name, data in (
        ("take.wav", b"plain text pretending"),
        ("take.png", png()),
        ("take.wav", b"ID3" + b"\x00" * 200),  # an MP3 header and nothing to decode
    ):
        assert_error(api.post(path, files={"file": (name, data)}), 415, 3002)
    assert_error(api.post(path, files={"file": ("big.wav", b"\x00" * (MAX_UPLOAD + 1))}), 413, 3003)
    assert_error(api.post(path, content=b"raw", headers={"Content-Type": "audio/wav"}), 415, 3002)
    assert_error(api.post(path, files={"text": (None, "a form without a file")}), 400, 1001)
    assert_error(api.post(path, data={"text": "a url-encoded form"}), 415, 3002)
    assert media_files(platform, folder) == files
    assert media_files(platform, "staging") == []
    assert api.get(f"{base}/{shot['id']}").json()["data"]["audio_url"]


def test_another_user_gets_404_everywhere_and_drama_deletion_clears_all(
    api: Api, other_api: Api, platform: PlatformProcess
) -> None:
    drama, script, _people = setup_drama(api)
    base = f"/dramas/{drama}/storyboards"
    completed_task(api, api.post(f"{base}/generate", json={"script_id": script}))
    boards = listing(api, drama)
    sb = boards[0]["id"]
    order = [{"id": b["id"], "position": b["position"]} for b in boards]
    attempts = [
        other_api.post(f"{base}/generate", json={"script_id": script}),
        other_api.get(base),
        other_api.get(f"{base}/{sb}"),
        other_api.put(f"{base}/{sb}", json={"description": "stolen"}),
        other_api.delete(f"{base}/{sb}"),
        other_api.put(f"{base}/reorder", json={"order": order}),
        other_api.put(f"{base}/{sb}/link-scene", json={"scene_id": "s1"}),
        other_api.post(f"{base}/{sb}/regenerate-image", json={}),
        other_api.post(f"{base}/{sb}/audio", json={"text": "hi"}),
        other_api.post(f"{base}/{sb}/audio", files={"file": ("a.wav", tone_wav(0.2))}),
    ]
    for r in attempts:
        assert_error(r, 404, 1002)
    # Their own drama does not reach mine either, not even in a reorder.
    theirs = new_drama(other_api)
    assert_error(other_api.get(f"/dramas/{theirs}/storyboards/{sb}"), 404, 1002)
    assert_error(
        other_api.put(f"/dramas/{theirs}/storyboards/reorder", json={"order": order}), 404, 1002
    )
    assert unsigned(listing(api, drama)) == unsigned(boards)
    assert media_files(platform, "staging") == []

    assert api.delete(f"/dramas/{drama}").status_code == 200
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        left = [d for d in drama_documents(platform.data_dir, drama) if d.startswith("storyboard")]
        media = [m for m in drama_media(platform.data_dir, drama) if "/storyboards/" in m]
        if not left and not media:
            break
        time.sleep(0.2)
    assert left == [] and media == []


def test_storyboards_appear_in_openapi(api: Api) -> None:
    spec = api.http.get("/openapi.json").json()
    paths = spec["paths"]
    base = "/api/v1/dramas/{drama_id}/storyboards"
    assert "get" in paths[base]
    assert "post" in paths[base + "/generate"]
    assert "put" in paths[base + "/reorder"]
    assert {"get", "put", "delete"} <= set(paths[base + "/{storyboard_id}"])
    assert "post" in paths[base + "/{storyboard_id}/regenerate-image"]
    assert "put" in paths[base + "/{storyboard_id}/link-scene"]
    audio = paths[base + "/{storyboard_id}/audio"]["post"]
    assert {"application/json", "multipart/form-data"} <= set(audio["requestBody"]["content"])
    assert {"201", "202"} <= set(audio["responses"])
    schemas = spec["components"]["schemas"]
    assert {"StoryboardOut", "StoryboardUpdate", "ReorderIn", "LinkSceneIn"} <= set(schemas)
