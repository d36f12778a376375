"""Tiny synthetic media for the video tests: textured stills and speech-like WAVs."""

from __future__ import annotations

import math
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def make_still(path: Path, width: int, height: int, seed: int = 0) -> Path:
    """A still with structure at several scales (so motion estimation has something to lock on)."""
    rng = np.random.default_rng(seed)
    base = Image.fromarray(rng.integers(0, 255, (6, 4, 3), dtype=np.uint8))
    img = np.asarray(base.resize((width, height), Image.Resampling.BICUBIC)).astype(np.int16)
    tex = rng.integers(0, 255, (max(2, height // 8), max(2, width // 8)), dtype=np.uint8)
    tex_up = np.asarray(
        Image.fromarray(tex).resize((width, height), Image.Resampling.BICUBIC)
    ).astype(np.int16)
    fine = rng.integers(0, 255, (max(2, height // 3), max(2, width // 3)), dtype=np.uint8)
    fine_up = np.asarray(
        Image.fromarray(fine).resize((width, height), Image.Resampling.BICUBIC)
    ).astype(np.int16)
    img = img + ((tex_up - 128) // 2)[..., None] + ((fine_up - 128) // 3)[..., None]
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path)
    return path


def make_speech(path: Path, seconds: float, rate: int = 22_050, seed: int = 0) -> Path:
    """A voiced, syllable-gated harmonic tone: speech-like level and envelope."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = 150 + 20 * seed + 25 * np.sin(2 * math.pi * 0.8 * t)
    phase = 2 * math.pi * np.cumsum(f0) / rate
    sig = sum(np.sin(k * phase) / k for k in range(1, 6))
    sig = 0.25 * sig * (np.sin(2 * math.pi * 3.3 * t) > -0.2)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(sig, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture
def media(tmp_path: Path) -> Callable[..., tuple[list[Path], list[Path]]]:
    def build(
        n: int, width: int = 180, height: int = 320, speech: float = 1.0
    ) -> tuple[list[Path], list[Path]]:
        stills = [make_still(tmp_path / f"still_{i}.png", width, height, i) for i in range(n)]
        voices = [make_speech(tmp_path / f"voice_{i}.wav", speech, seed=i) for i in range(n)]
        return stills, voices

    return build


@pytest.fixture
def synth() -> tuple[Callable[..., Path], Callable[..., Path]]:
    """`make_still` and `make_speech`, for tests that name and time each file themselves."""
    return make_still, make_speech
