"""The soundtrack of the final cut, mixed in numpy and handed to the encoder as one WAV.

Speech for each shot is placed at the shot's start on the timeline (sample-accurate at 48 kHz)
and trimmed to the shot, the music bed (the procedural pad, or an uploaded track looped to
length) runs under the whole video at a level set against the speech, faded in and out, and
is ducked by a feed-forward compressor keyed by the voice bus — the same design as ffmpeg's
`sidechaincompress` (threshold, ratio, attack/release on the key's level) — and the mix is
brought to −16 LUFS integrated with a −2 dBFS sample-peak ceiling (which keeps true peak near
the usual −1.5 dBTP target; see `loudness`).

Why not ffmpeg's filters: the identical chain as an ffmpeg filtergraph (aresample, adelay, amix,
sidechaincompress, loudnorm) costs ~1.6 CPU-seconds per 30 s of video, mostly loudnorm's
192 kHz processing; in numpy it is ~0.2 s, and the loudness is measured on the exact mix, so it
lands on target instead of approximating it dynamically. ffmpeg still decodes any speech file
that is not plain PCM WAV, and encodes the result to AAC.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
import soundfile

from storyreel_video.errors import RenderFailed
from storyreel_video.ffmpeg_runner import run_ffmpeg
from storyreel_video.interpolation import upsample_window
from storyreel_video.loudness import (
    LIMITER_BLOCK,
    Audio,
    LoudnessMeter,
    block_peaks,
    integrated_loudness,
    limiter_gains,
)
from storyreel_video.music_bed import AmbientPad

RATE = 48_000
TARGET_LUFS = -16.0
PEAK_CEILING_DB = -2.0
PAD_BELOW_VOICE_LU = 15.0  # pad loudness relative to the speech before ducking
MIX_VERSION = 1  # part of cached soundtracks' keys: bump when the same inputs mix differently
# The fast AAC coder: ~25% less CPU than twoloop, transparent at this bitrate.
AAC_ARGS = ["-c:a", "aac", "-aac_coder", "fast", "-b:a", "160k", "-ar", str(RATE), "-ac", "2"]


@dataclass(frozen=True)
class MusicBed:
    """The music under the voices: a file (looped to the video's length) or the built-in pad.

    `volume` is the bed's level against the speech as a linear gain before ducking: 1.0 is as
    loud as the voices, 0.3 about 10 LU under them; None keeps the built-in balance
    (`PAD_BELOW_VOICE_LU` under). Fades default to 1.5 s in and 2.5 s out (shorter for short
    videos) and never take more than half the video each.
    """

    path: Path | None = None
    volume: float | None = None
    fade_in: float | None = None
    fade_out: float | None = None


@dataclass(frozen=True)
class VoicePlacement:
    """Speech file `path` starts at `start` s on the timeline and lasts at most `limit` s."""

    path: Path
    start: float
    limit: float


def read_wav_channels(path: Path) -> tuple[Audio, int]:
    """(n, channels) float32 samples in [-1, 1] and the rate of a WAV: any PCM width, float,
    and WAVE_FORMAT_EXTENSIBLE (what ffmpeg writes above 48 kHz, two channels or 16 bits),
    read by libsndfile. Raises `soundfile.SoundFileError` for anything it cannot read."""
    data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    frames: Audio = np.ascontiguousarray(data, dtype=np.float32)
    return frames, int(rate)


def read_wav(path: Path) -> tuple[Audio, int]:
    """Mono float32 samples and rate of a WAV (see `read_wav_channels`), any channel count."""
    frames, rate = read_wav_channels(path)
    mono: Audio = frames.mean(axis=1).astype(np.float32)
    return mono, rate


def resample(x: Audio, src_rate: int, dst_rate: int = RATE) -> Audio:
    """Band-limited (FFT) resampling; exact for the short, silence-padded clips TTS produces."""
    if src_rate == dst_rate or x.size == 0:
        return x
    g = math.gcd(src_rate, dst_rate)
    up, down = dst_rate // g, src_rate // g
    pad = down * -(-(x.size + src_rate // 20) // down)  # ≥ 50 ms of zeros: no wrap-around
    n_out = pad * up // down
    spec = np.fft.rfft(x, n=pad)
    out_spec = np.zeros(n_out // 2 + 1, dtype=np.complex128)
    m = min(spec.size, out_spec.size)
    out_spec[:m] = spec[:m]
    y = np.fft.irfft(out_spec, n=n_out) * (n_out / pad)
    out: Audio = y[: round(x.size * up / down)].astype(np.float32)
    return out


CHUNK_UNIT = 9_600
"""200 ms: the least common multiple of every block the mix works in (the ducker's 480
samples, the loudness meter's 4,800, the limiter's 128, the pad's synthesis step of 4). Chunks
that are multiples of it never split a block, so any chunking gives the same soundtrack."""
CHUNK = 50 * CHUNK_UNIT  # 10 s at 48 kHz: the mix works a chunk at a time

DUCK_BLOCK = 480  # 10 ms: the ducker's level detector


def duck_gains(
    levels_db: npt.ArrayLike,
    *,
    threshold_db: float = -30.0,
    ratio: float = 6.0,
    attack: float = 0.03,
    release: float = 0.5,
    max_reduction_db: float = 14.0,
    block: int = DUCK_BLOCK,
) -> npt.NDArray[np.float32]:
    """A sidechain compressor's gain per `block` samples, from the key's RMS level (dBFS) in
    each block — the design of ffmpeg's `sidechaincompress`: reduction above the threshold
    follows the ratio (at most `max_reduction_db`) and is smoothed by one-pole attack/release
    (seconds). The curve through the block centres is the gain to apply per sample."""
    level = np.asarray(levels_db, dtype=np.float64)
    target = np.minimum(
        np.maximum(level - threshold_db, 0.0) * (1.0 - 1.0 / ratio), max_reduction_db
    )
    a_att = 1.0 - math.exp(-block / (RATE * attack))
    a_rel = 1.0 - math.exp(-block / (RATE * release))
    reduction = np.empty(target.shape[0])
    current = 0.0
    for i, want in enumerate(target.tolist()):
        current += (want - current) * (a_att if want > current else a_rel)
        reduction[i] = current
    gains: npt.NDArray[np.float32] = (10.0 ** (-reduction / 20.0)).astype(np.float32)
    return gains


def block_levels_db(x: Audio, block: int = DUCK_BLOCK) -> npt.NDArray[np.float64]:
    """RMS level in dBFS of each `block` samples of mono `x` (a short last block zero-padded)."""
    nb = -(-x.shape[0] // block)
    padded = np.zeros(nb * block, dtype=np.float32)
    padded[: x.shape[0]] = x
    rms = np.sqrt(np.mean(padded.reshape(nb, block) ** 2, axis=1) + 1e-12)
    levels: npt.NDArray[np.float64] = 20.0 * np.log10(rms)
    return levels


def _fade_curve(lo: int, hi: int, n: int, fade_in: int, fade_out: int) -> Audio:
    """Gains for samples lo:hi of n: raised-cosine fades over the first `fade_in` and the last
    `fade_out` samples (as `np.linspace(0, π, k)` would place them), 1 between."""
    pos = np.arange(lo, hi, dtype=np.float64)
    gain = np.ones(hi - lo)
    if fade_in:
        inside = pos < fade_in
        gain[inside] *= 0.5 - 0.5 * np.cos(np.pi * pos[inside] / max(1, fade_in - 1))
    if fade_out:
        into = pos - (n - fade_out)
        inside = into >= 0
        gain[inside] *= 0.5 + 0.5 * np.cos(np.pi * into[inside] / max(1, fade_out - 1))
    curve: Audio = gain.astype(np.float32)
    return curve


VoiceSource = Audio | Path
"""Speech as 48 kHz mono samples, or a WAV file read (and resampled) when its turn comes."""


class VoiceBus:
    """The voices placed on the timeline, summed chunk by chunk: each placement is loaded when
    the chunk it starts in comes and dropped once played, so a long cut holds a few voices at
    a time. Speech is trimmed to its placement (and the cut's end) with 4 ms fades at the cut
    points, so trimmed speech does not click."""

    def __init__(self, voices: Sequence[tuple[VoiceSource, float, float]], n: int) -> None:
        self.n = n
        self._queue = sorted(
            ((round(start * RATE), source, limit) for source, start, limit in voices),
            key=lambda v: v[0],
        )
        self._next = 0
        self._playing: list[tuple[int, Audio]] = []
        self._edge = round(0.004 * RATE)
        self._ramp = np.linspace(0.0, 1.0, self._edge, dtype=np.float32)

    def _load(self, at: int, source: VoiceSource, limit: float) -> Audio:
        if isinstance(source, Path):
            samples, rate = read_wav(source)
            source = resample(samples, rate, RATE)
        clip: Audio = source[: max(0, min(round(limit * RATE), self.n - at))].copy()
        if clip.size > 2 * self._edge:
            clip[: self._edge] *= self._ramp
            clip[-self._edge :] *= self._ramp[::-1]
        return clip

    def chunk(self, lo: int, hi: int) -> Audio:
        """Mono samples lo:hi of the bus; chunks must come in order."""
        while self._next < len(self._queue) and self._queue[self._next][0] < hi:
            at, source, limit = self._queue[self._next]
            self._playing.append((at, self._load(at, source, limit)))
            self._next += 1
        bus = np.zeros(hi - lo, dtype=np.float32)
        for at, clip in self._playing:
            a, b = max(lo, at), min(hi, at + clip.size)
            if a < b:
                bus[a - lo : b - lo] += clip[a - at : b - at]
        self._playing = [(at, clip) for at, clip in self._playing if at + clip.size > hi]
        return bus


class LoopedTrack:
    """A music bed's samples looped to any length, window by window: an in-memory (m, 2)
    array, or a stereo 48 kHz WAV read from disk a window at a time."""

    def __init__(self, source: Audio | Path) -> None:
        self._array: Audio | None = None
        self._file: soundfile.SoundFile | None = None
        if isinstance(source, Path):
            self._file = soundfile.SoundFile(str(source))
            self.length = self._file.frames
        else:
            self._array = source
            self.length = source.shape[0]

    def window(self, lo: int, hi: int) -> Audio:
        out = np.zeros((hi - lo, 2), dtype=np.float32)
        if self.length == 0:
            return out
        at = lo
        while at < hi:
            offset = at % self.length
            take = min(hi - at, self.length - offset)
            if self._array is not None:
                piece = self._array[offset : offset + take]
            else:
                assert self._file is not None
                self._file.seek(offset)
                piece = self._file.read(take, dtype="float32", always_2d=True)
            out[at - lo : at - lo + piece.shape[0], : piece.shape[1]] = piece[:, :2]
            at += take
        return out

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class Spill(Protocol):
    """Where one pass of the mix leaves its chunks for the next."""

    def write(self, x: Audio) -> None: ...

    def chunks(self) -> Iterator[Audio]: ...


class MemorySpill:
    """Chunks kept in memory (short mixes, tests)."""

    def __init__(self) -> None:
        self._chunks: list[Audio] = []

    def write(self, x: Audio) -> None:
        self._chunks.append(x)

    def chunks(self) -> Iterator[Audio]:
        yield from self._chunks


class FileSpill:
    """Chunks kept in a float32 WAV on disk, read back a chunk at a time."""

    def __init__(self, path: Path, channels: int, chunk: int = CHUNK) -> None:
        self.path = path
        self._channels = channels
        self._chunk = chunk
        self._file: soundfile.SoundFile | None = soundfile.SoundFile(
            str(path), "w", samplerate=RATE, channels=channels, subtype="FLOAT"
        )

    def write(self, x: Audio) -> None:
        assert self._file is not None
        self._file.write(x)

    def chunks(self) -> Iterator[Audio]:
        if self._file is not None:
            self._file.close()
            self._file = None
        with soundfile.SoundFile(str(self.path)) as f:
            while True:
                block = f.read(self._chunk, dtype="float32", always_2d=self._channels > 1)
                if block.shape[0] == 0:
                    return
                yield block


def stream_soundtrack(
    voices: Sequence[tuple[VoiceSource, float, float]],
    total: float,
    sink: Callable[[Audio], None],
    *,
    music: bool,
    seed: int = 0,
    bed: MusicBed | None = None,
    bed_track: LoopedTrack | None = None,
    spill: Callable[[str, int], Spill] = lambda _name, _channels: MemorySpill(),
    chunk: int = CHUNK,
) -> None:
    """Mix the soundtrack of a `total`-second cut and hand it to `sink` in (≤ CHUNK, 2)
    float32 chunks at 48 kHz, in order: voices (source, start s, limit s) + the ducked bed
    (`bed_track` looped to length when given, else the pad), at −16 LUFS integrated with a
    −2 dBFS sample-peak ceiling.

    Three passes, a chunk at a time, so memory does not grow with `total`: (1) the voice bus,
    its loudness and the ducker's key levels; (2) the bed set `PAD_BELOW_VOICE_LU` (or
    `bed.volume`) under the voices, ducked and faded, added, and the mix's loudness and
    peaks; (3) one static gain to the target and the look-ahead limiter. `spill(name,
    channels)` keeps a pass's output for the next (memory, or a file for long cuts); `chunk`
    (samples, a multiple of `CHUNK_UNIT`) changes nothing but the memory used.
    Raises `ValueError` for a chunk size that would split a block."""
    if chunk <= 0 or chunk % CHUNK_UNIT:
        raise ValueError(f"chunk must be a positive multiple of {CHUNK_UNIT} samples")
    n = max(1, round(total * RATE))
    bounds = [(lo, min(n, lo + chunk)) for lo in range(0, n, chunk)]
    bus_spill = spill("voices", 1)
    voice_meter = LoudnessMeter(1)
    levels = []
    bus = VoiceBus(voices, n)
    for lo, hi in bounds:
        voice = bus.chunk(lo, hi)
        bus_spill.write(voice)
        voice_meter.add(voice[:, None])
        levels.append(block_levels_db(voice))
    bed = bed or MusicBed()
    with_bed = music and bed.volume != 0
    pad: Callable[[int, int], Audio] | None = None
    pad_gain, ducking = np.float32(1.0), None
    fade_in = fade_out = 0
    if with_bed:
        if bed_track is not None:
            pad = bed_track.window
            # Music is not stationary: measure (up to) its first minute, as mono like the voice
            # bus it is balanced against.
            head = pad(0, min(n, 60 * RATE)).mean(axis=1, keepdims=True)
        else:
            pad = AmbientPad(total, seed=seed).window
            # Mono is enough to balance the two (the pad is stationary, so a few seconds of it
            # tell its loudness); only the final mix is measured in full stereo.
            head = pad(0, min(n, 6 * RATE))[:, :1]
        pad_lufs = integrated_loudness(head)
        voice_lufs = voice_meter.integrated()
        below = PAD_BELOW_VOICE_LU if bed.volume is None else -20.0 * math.log10(bed.volume)
        if math.isfinite(voice_lufs) and math.isfinite(pad_lufs):
            pad_gain = np.float32(10.0 ** ((voice_lufs - below - pad_lufs) / 20.0))
            ducking = duck_gains(np.concatenate(levels))
        elif bed.volume is not None and math.isfinite(pad_lufs):
            # No speech to sit under: the bed is the soundtrack, scaled by its volume.
            pad_gain = np.float32(10.0 ** ((TARGET_LUFS - below - pad_lufs) / 20.0))
        fi = min(1.5, total / 4) if bed.fade_in is None else min(bed.fade_in, total / 2)
        fo = min(2.5, total / 3) if bed.fade_out is None else min(bed.fade_out, total / 2)
        fade_in, fade_out = min(n, round(fi * RATE)), min(n, round(fo * RATE))
    mix_spill = spill("mix", 2)
    mix_meter = LoudnessMeter(2)
    peaks = []
    for (lo, hi), voice in zip(bounds, bus_spill.chunks(), strict=True):
        mix = np.repeat(voice[:, None], 2, axis=1)
        if pad is not None:
            bed_gain = _fade_curve(lo, hi, n, fade_in, fade_out) * pad_gain
            if ducking is not None:
                bed_gain *= upsample_window(ducking, DUCK_BLOCK, lo, hi, offset=DUCK_BLOCK // 2)
            mix += pad(lo, hi) * bed_gain[:, None]
        mix_spill.write(mix)
        mix_meter.add(mix)
        peaks.append(block_peaks(mix))
    lufs = mix_meter.integrated()
    gain = np.float32(1.0)
    limiting = None
    if math.isfinite(lufs):
        gain = np.float32(10.0 ** ((TARGET_LUFS - lufs) / 20.0))
        limiting = limiter_gains(np.concatenate(peaks) * gain, PEAK_CEILING_DB)
    ceiling = np.float32(10.0 ** (PEAK_CEILING_DB / 20.0))
    for (lo, hi), mix in zip(bounds, mix_spill.chunks(), strict=True):
        out = mix * gain
        if limiting is not None:
            out *= upsample_window(limiting, LIMITER_BLOCK, lo, hi, offset=LIMITER_BLOCK // 2)[
                :, None
            ]
            np.clip(out, -ceiling, ceiling, out=out)
        sink(out)


def mix_soundtrack(
    voices: Sequence[tuple[VoiceSource, float, float]],
    total: float,
    *,
    music: bool,
    seed: int = 0,
    bed: MusicBed | None = None,
    bed_track: Audio | None = None,
) -> Audio:
    """(n, 2) float32 at 48 kHz: `stream_soundtrack` held in memory (for short cuts and
    tests). The bed is `bed_track` ((m, 2) at 48 kHz, looped to length) when given."""
    chunks: list[Audio] = []
    track = LoopedTrack(bed_track) if bed_track is not None else None
    stream_soundtrack(
        voices, total, chunks.append, music=music, seed=seed, bed=bed, bed_track=track
    )
    out: Audio = np.concatenate(chunks)
    return out


async def _readable_voice(path: Path, scratch: Path, ffmpeg: str | None) -> Path:
    """`path` when libsndfile reads it, else its speech decoded by ffmpeg to a WAV at
    `scratch` (MP3, a broken header, ...; a broken file fails with ffmpeg's own diagnosis in
    `RenderFailed`)."""
    try:
        await asyncio.to_thread(soundfile.info, str(path))
        return path
    except (soundfile.SoundFileError, RuntimeError, ValueError):
        pass
    except OSError as exc:
        raise RenderFailed(f"cannot read speech audio {path}: {exc}") from exc
    await run_ffmpeg(
        ["-i", str(path), "-vn", "-ac", "1", "-ar", str(RATE), "-c:a", "pcm_s16le",
         "-f", "wav", "-y", str(scratch)],
        ffmpeg=ffmpeg,
    )  # fmt: skip
    return scratch


async def _decode_bed(path: Path, total: float, scratch: Path, ffmpeg: str | None) -> Path:
    """A music file decoded (and looped) by ffmpeg to `total` s of stereo 48 kHz WAV."""
    await run_ffmpeg(
        ["-stream_loop", "-1", "-i", str(path), "-t", f"{total:.3f}", "-vn", "-ac", "2",
         "-ar", str(RATE), "-c:a", "pcm_s16le", "-f", "wav", "-y", str(scratch)],
        ffmpeg=ffmpeg,
    )  # fmt: skip
    try:
        await asyncio.to_thread(soundfile.info, str(scratch))
    except (soundfile.SoundFileError, RuntimeError, ValueError, OSError) as exc:
        raise RenderFailed(f"cannot read the music bed {path}: {exc}") from exc
    return scratch


async def write_soundtrack(
    voices: Sequence[VoicePlacement],
    total: float,
    out_path: Path,
    *,
    music: bool,
    workdir: Path,
    seed: int = 0,
    ffmpeg: str | None = None,
    bed: MusicBed | None = None,
) -> Path:
    """Decode, place, mix, duck and normalise (`stream_soundtrack`); write a 16-bit stereo
    48 kHz WAV. Speech that libsndfile cannot read is decoded by ffmpeg first; the passes
    keep their chunks in `workdir`, so memory stays flat however long the cut."""
    sources: list[tuple[VoiceSource, float, float]] = []
    for k, v in enumerate(voices):
        path = await _readable_voice(Path(v.path), workdir / f"voice_{k}.wav", ffmpeg)
        sources.append((path, v.start, v.limit))
    track: LoopedTrack | None = None
    if music and bed is not None and bed.path is not None and bed.volume != 0:
        decoded = await _decode_bed(Path(bed.path), total, workdir / "music_bed.wav", ffmpeg)
        track = LoopedTrack(decoded)

    def render() -> Path:
        with soundfile.SoundFile(
            str(out_path), "w", samplerate=RATE, channels=2, subtype="PCM_16", format="WAV"
        ) as out:

            def sink(x: Audio) -> None:
                # Truncating 16-bit conversion, as `music_bed.write_wav`.
                out.write((np.clip(x, -1.0, 1.0) * 32767.0).astype("<i2"))

            def spill(name: str, channels: int) -> Spill:
                return FileSpill(workdir / f"soundtrack_{name}.f32.wav", channels)

            stream_soundtrack(
                sources, total, sink, music=music, seed=seed, bed=bed, bed_track=track,
                spill=spill,
            )  # fmt: skip
        return out_path

    try:
        return await asyncio.to_thread(render)
    except (soundfile.SoundFileError, RuntimeError, ValueError, OSError) as exc:
        raise RenderFailed(f"cannot mix the soundtrack: {exc}") from exc
    finally:
        if track is not None:
            track.close()
