"""Fetching a cut's stills and speech: concurrently, in shot order, each file once."""

from __future__ import annotations

from pathlib import Path

import pytest

from storyreel_core.errors import NotFound
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_video.shot_clips import FETCH_CONCURRENCY, fetch_clips
from storyreel_video.video_models import CutShot


async def test_clips_come_back_in_shot_order_with_their_own_files(tmp_path: Path) -> None:
    objects = FolderObjectStore(tmp_path / "media")
    shots = []
    count = 2 * FETCH_CONCURRENCY + 3  # more than one round of downloads
    for n in range(count):
        await objects.put_bytes(f"s/{n}.png", f"still {n}".encode(), "image/png")
        audio = None
        if n % 2 == 0:
            audio = f"s/{n}.wav"
            await objects.put_bytes(audio, f"speech {n}".encode(), "audio/wav")
        shots.append(
            CutShot(shot_id=f"sb_{n}", frame_key=f"s/{n}.png", audio_key=audio, duration=1)
        )
    shots.append(shots[3])  # a shot shown twice is fetched once
    clips = await fetch_clips(objects, shots, tmp_path / "in")
    assert len(clips) == count + 1
    for n, clip in enumerate(clips[:count]):
        assert clip.image_path.read_bytes() == f"still {n}".encode()
        if n % 2 == 0:
            assert clip.audio_path is not None
            assert clip.audio_path.read_bytes() == f"speech {n}".encode()
        else:
            assert clip.audio_path is None
    assert clips[-1].image_path == clips[3].image_path


async def test_a_missing_still_fails_the_fetch(tmp_path: Path) -> None:
    objects = FolderObjectStore(tmp_path / "media")
    await objects.put_bytes("s/ok.png", b"ok", "image/png")
    shots = [
        CutShot(shot_id="sb_ok", frame_key="s/ok.png", duration=1),
        CutShot(shot_id="sb_gone", frame_key="s/gone.png", duration=1),
    ]
    with pytest.raises(NotFound):
        await fetch_clips(objects, shots, tmp_path / "in")
