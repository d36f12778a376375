"""The soundtrack streams: any chunking gives the same mix, and memory does not grow with the
length of the cut (issue: a 3-minute cut used to hold a dozen whole-length arrays)."""

from __future__ import annotations

import asyncio
import itertools
import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import soundfile

from storyreel_video.audio_mix import (
    CHUNK_UNIT,
    RATE,
    LoopedTrack,
    MusicBed,
    VoicePlacement,
    mix_soundtrack,
    stream_soundtrack,
    write_soundtrack,
)
from storyreel_video.interpolation import upsample_linear, upsample_window
from storyreel_video.loudness import LoudnessMeter, integrated_loudness
from storyreel_video.music_bed import AmbientPad


def voices(seconds: float) -> list[tuple[np.ndarray, float, float]]:
    rng = np.random.default_rng(7)
    return [
        (0.2 * rng.standard_normal(int(2.5 * RATE)).astype(np.float32), start, 3.0)
        for start in np.arange(0.3, seconds - 1.0, 3.1)
    ]


def test_upsample_window_is_a_window_of_the_whole_curve() -> None:
    rng = np.random.default_rng(1)
    for _ in range(500):
        values = rng.standard_normal((int(rng.integers(0, 30)), 2)).astype(np.float32)
        factor, offset, n = int(rng.integers(1, 9)), int(rng.integers(0, 20)), 300
        lo = int(rng.integers(0, n))
        hi = int(rng.integers(lo, n + 1))
        whole = upsample_linear(values, factor, n, offset=offset)
        np.testing.assert_allclose(
            upsample_window(values, factor, lo, hi, offset=offset), whole[lo:hi], atol=1e-5
        )


def test_the_pad_drawn_in_windows_joins_without_a_seam() -> None:
    pad = AmbientPad(21.3, seed=3)
    whole = pad.window(0, pad.n)
    cuts = [0, 1, 4_799, 100_003, 480_000, 700_001, pad.n]
    pieces = np.concatenate([pad.window(a, b) for a, b in itertools.pairwise(cuts)])
    np.testing.assert_array_equal(pieces, whole)
    assert 0.15 < float(np.abs(whole).max()) < 0.25  # about −14 dBFS


def test_loudness_fed_in_odd_chunks_equals_one_pass() -> None:
    x = (0.1 * np.random.default_rng(2).standard_normal((7 * RATE + 123, 2))).astype(np.float32)
    meter = LoudnessMeter(2)
    for lo in range(0, x.shape[0], 12_345):
        meter.add(x[lo : lo + 12_345])
    assert meter.integrated() == pytest.approx(integrated_loudness(x), abs=1e-6)


@pytest.mark.parametrize("bed", [None, MusicBed(volume=0.4, fade_in=0.7, fade_out=2.0)])
def test_any_chunking_gives_the_same_soundtrack(bed: MusicBed | None) -> None:
    track = None
    if bed is not None:
        tone = 0.4 * np.sin(2 * math.pi * 330 * np.arange(RATE // 3) / RATE)
        track = np.repeat(tone.astype(np.float32)[:, None], 2, axis=1)
    reference = mix_soundtrack(voices(12.0), 12.0, music=True, bed=bed, bed_track=track)
    assert integrated_loudness(reference) == pytest.approx(-16.0, abs=0.3)
    small: list[np.ndarray] = []
    stream_soundtrack(
        voices(12.0),
        12.0,
        small.append,
        music=True,
        bed=bed,
        bed_track=LoopedTrack(track) if track is not None else None,
        chunk=3 * CHUNK_UNIT,
    )
    assert len(small) == math.ceil(12.0 * RATE / (3 * CHUNK_UNIT))
    np.testing.assert_allclose(np.concatenate(small), reference, atol=1e-6)
    with pytest.raises(ValueError, match="multiple"):
        stream_soundtrack([], 1.0, small.append, music=False, chunk=1000)


def test_memory_does_not_grow_with_the_length_of_the_cut(tmp_path: Path) -> None:
    def peak_mib(seconds: float) -> float:
        work = tmp_path / f"{seconds:g}"
        work.mkdir()
        placements = []
        for k, (samples, start, limit) in enumerate(voices(seconds)):
            path = work / f"line{k}.wav"
            soundfile.write(str(path), samples, RATE)
            placements.append(VoicePlacement(path, float(start), limit))
        tracemalloc.start()
        try:
            out = asyncio.run(
                write_soundtrack(
                    placements, seconds, work / "soundtrack.wav", music=True, workdir=work
                )
            )
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert soundfile.info(str(out)).duration == pytest.approx(seconds, abs=1e-3)
        return peak / 2**20

    short, long = peak_mib(15.0), peak_mib(60.0)
    # Whole-length arrays would need ~4x here (a dozen of them, ~22 MiB each at 60 s).
    assert long < 1.25 * short, (short, long)
