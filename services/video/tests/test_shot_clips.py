"""Fetching a cut's files: concurrently, in order, each destination once, nothing left running
after a failure."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from storyreel_core.errors import NotFound
from storyreel_core.stores.folder_store import FolderObjectStore
from storyreel_video.downloads import DOWNLOAD_CONCURRENCY, download_all
from storyreel_video.shot_clips import fetch_clips
from storyreel_video.video_models import CutShot


async def test_clips_come_back_in_shot_order_with_their_own_files(tmp_path: Path) -> None:
    objects = FolderObjectStore(tmp_path / "media")
    shots = []
    count = 2 * DOWNLOAD_CONCURRENCY + 3  # more than one round of downloads
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


class GatedStore(FolderObjectStore):
    """A folder store whose downloads of `held` keys wait until released (or cancelled),
    counting how many run at once."""

    def __init__(self, root: Path, held: set[str]) -> None:
        super().__init__(root)
        self.held, self.release = held, asyncio.Event()
        self.running = self.most = 0
        self.cancelled: list[str] = []

    async def download(self, key: str, dest: Path) -> Path:
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            if key in self.held:
                await self.release.wait()
            else:
                await asyncio.sleep(0.01)
            return await super().download(key, dest)
        except asyncio.CancelledError:
            self.cancelled.append(key)
            raise
        finally:
            self.running -= 1


async def test_download_all_keeps_order_and_a_bounded_number_in_flight(tmp_path: Path) -> None:
    objects = GatedStore(tmp_path / "media", held=set())
    count = 3 * DOWNLOAD_CONCURRENCY
    for n in range(count):
        await objects.put_bytes(f"seg/{n}.mp4", f"segment {n}".encode(), "video/mp4")
    files = [(f"seg/{n}.mp4", tmp_path / "out" / f"{n:04d}.mp4") for n in range(count)]
    (tmp_path / "out").mkdir()
    paths = await download_all(objects, files)
    assert paths == [dest for _, dest in files]
    assert [p.read_bytes() for p in paths] == [f"segment {n}".encode() for n in range(count)]
    assert objects.most == DOWNLOAD_CONCURRENCY


async def test_a_failed_download_cancels_the_others(tmp_path: Path) -> None:
    objects = GatedStore(tmp_path / "media", held={"seg/slow.mp4"})
    await objects.put_bytes("seg/slow.mp4", b"slow", "video/mp4")
    files = [("seg/slow.mp4", tmp_path / "a.mp4"), ("seg/gone.mp4", tmp_path / "b.mp4")]
    with pytest.raises(NotFound):
        await download_all(objects, files)
    # The slow one was not left running behind the error (it would write into a scratch
    # folder its caller is about to delete).
    assert objects.cancelled == ["seg/slow.mp4"]
    assert objects.running == 0
