"""Stills prepared for the camera once per content per process (`yuv.still_yuv420`)."""

from __future__ import annotations

import hashlib
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, UnidentifiedImageError

from storyreel_video import yuv
from storyreel_video.ken_burns import ShotCamera
from storyreel_video.yuv import STILL_CACHE_SIZE, load_rgb, rgb_to_yuv420, still_yuv420


def still(path: Path, shade: int, size: tuple[int, int] = (64, 96)) -> Path:
    rng = np.random.default_rng(shade)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    pixels[..., 0] = shade
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    yuv._stills.clear()


@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the decodes (`load_rgb` calls) still_yuv420 makes."""
    calls: list[int] = []
    real = yuv.load_rgb

    def counted(*args: object, **kwargs: object) -> Image.Image:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(yuv, "load_rgb", counted)
    return calls


def test_a_still_is_decoded_once_whatever_its_path(tmp_path: Path, decodes: list[int]) -> None:
    first = still(tmp_path / "a.png", 10)
    copy = shutil.copyfile(first, tmp_path / "segment2-still1")  # another job's download
    planes = still_yuv420(first, 64, 96)
    again = still_yuv420(copy, 64, 96)
    assert len(decodes) == 1
    assert all(a is b for a, b in zip(planes, again, strict=True))
    # Exactly what the uncached path makes, and nobody can change it for the next caller.
    expected = rgb_to_yuv420(load_rgb(first, 64, 96))
    for plane, want in zip(planes, expected, strict=True):
        assert np.array_equal(plane, want)
        assert not plane.flags.writeable
    # Another size is another picture.
    assert still_yuv420(first, 32, 48)[0].shape == (48, 32)
    assert len(decodes) == 2


def test_a_rewritten_file_is_decoded_anew(tmp_path: Path, decodes: list[int]) -> None:
    path = still(tmp_path / "shot.png", 10)
    old = still_yuv420(path, 64, 96)
    still(path, 200)  # the shot regenerated under the same name
    new = still_yuv420(path, 64, 96)
    assert len(decodes) == 2
    assert not np.array_equal(old[0], new[0])


def test_the_cache_keeps_the_most_recent_stills_only(tmp_path: Path, decodes: list[int]) -> None:
    paths = [still(tmp_path / f"{n}.png", n) for n in range(STILL_CACHE_SIZE + 1)]
    for path in paths:
        still_yuv420(path, 64, 96)
    assert len(yuv._stills) == STILL_CACHE_SIZE
    still_yuv420(paths[-1], 64, 96)  # kept
    assert len(decodes) == STILL_CACHE_SIZE + 1
    still_yuv420(paths[0], 64, 96)  # the oldest went
    assert len(decodes) == STILL_CACHE_SIZE + 2


def test_cameras_over_one_still_share_its_planes_and_draw_alike(tmp_path: Path) -> None:
    path = still(tmp_path / "shot.png", 30)
    static = ShotCamera(path, "static", 64, 96)
    moving = ShotCamera(path, "push_in", 64, 96)
    assert static.frame(0.0).y is still_yuv420(path, 64, 96)[0]
    # At progress 0 a push-in shows the whole still: the static frame.
    assert np.abs(moving.frame(0.0).y.astype(int) - static.frame(0.0).y).max() <= 1


def test_a_known_hash_spares_reading_the_file_again(tmp_path: Path, decodes: list[int]) -> None:
    # A segment has checked its stills against the plan's hashes: the camera passes the hash
    # on, and a hit does not touch the file at all.
    path = still(tmp_path / "shot.png", 40)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    planes = still_yuv420(path, 64, 96, sha256=digest)
    assert still_yuv420(path, 64, 96)[0] is planes[0]  # the same key either way
    path.unlink()
    assert still_yuv420(tmp_path / "never-read.png", 64, 96, sha256=digest)[0] is planes[0]
    camera = ShotCamera(tmp_path / "never-read.png", "static", 64, 96, sha256=digest)
    assert camera.frame(0.5).y is planes[0]
    assert len(decodes) == 1


def test_threads_asking_for_one_still_at_once_share_one_decode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = still(tmp_path / "shot.png", 50)
    calls: list[int] = []
    real = yuv.load_rgb

    def slow(*args: object, **kwargs: object) -> Image.Image:
        calls.append(1)
        time.sleep(0.2)  # long enough for every thread to ask while it runs
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(yuv, "load_rgb", slow)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda _: still_yuv420(path, 64, 96), range(4)))
    assert len(calls) == 1
    assert all(planes[0] is got[0][0] for planes in got)
    assert not yuv._decoding  # nothing left behind


def test_a_failed_decode_is_not_kept_and_can_be_tried_again(tmp_path: Path) -> None:
    broken = tmp_path / "shot.png"
    broken.write_bytes(b"not a picture")
    with pytest.raises(UnidentifiedImageError):
        still_yuv420(broken, 64, 96)
    assert not yuv._stills and not yuv._decoding
    still(broken, 60)
    assert still_yuv420(broken, 64, 96)[0].shape == (96, 64)
