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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from storyreel_video.errors import RenderFailed
from storyreel_video.ffmpeg_runner import run_ffmpeg
from storyreel_video.interpolation import upsample_linear
from storyreel_video.loudness import Audio, integrated_loudness, normalize
from storyreel_video.music_bed import ambient_pad, write_wav

RATE = 48_000
TARGET_LUFS = -16.0
PEAK_CEILING_DB = -2.0
PAD_BELOW_VOICE_LU = 15.0  # pad loudness relative to the speech before ducking


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


def duck(
    music: Audio,
    key: Audio,
    *,
    threshold_db: float = -30.0,
    ratio: float = 6.0,
    attack: float = 0.03,
    release: float = 0.5,
    max_reduction_db: float = 14.0,
    block: int = 480,
) -> Audio:
    """Compress `music` (n, ch) by the level of `key` (n,): a sidechain compressor.

    Level is the key's RMS per 10 ms block; gain reduction above the threshold follows the
    ratio and is smoothed with one-pole attack/release, then interpolated per sample.
    """
    n = key.shape[0]
    nb = -(-n // block)
    padded = np.zeros(nb * block, dtype=np.float32)
    padded[:n] = key
    rms = np.sqrt(np.mean(padded.reshape(nb, block) ** 2, axis=1) + 1e-12)
    level = 20.0 * np.log10(rms)
    target = np.minimum(
        np.maximum(level - threshold_db, 0.0) * (1.0 - 1.0 / ratio), max_reduction_db
    )
    a_att = 1.0 - math.exp(-block / (RATE * attack))
    a_rel = 1.0 - math.exp(-block / (RATE * release))
    reduction = np.empty(nb)
    current = 0.0
    for i, want in enumerate(target.tolist()):
        current += (want - current) * (a_att if want > current else a_rel)
        reduction[i] = current
    gain = upsample_linear(10.0 ** (-reduction / 20.0), block, n, offset=block // 2)
    out: Audio = music * gain[:, None]
    return out


def _fades(x: Audio, fade_in: float, fade_out: float) -> None:
    n = x.shape[0]
    k_in, k_out = min(n, round(fade_in * RATE)), min(n, round(fade_out * RATE))
    if k_in:
        x[:k_in] *= (0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, k_in, dtype=np.float32)))[:, None]
    if k_out:
        x[n - k_out :] *= (0.5 + 0.5 * np.cos(np.linspace(0.0, np.pi, k_out, dtype=np.float32)))[
            :, None
        ]


def _fit(track: Audio, n: int) -> Audio:
    """`track` (m, 2) looped or cut to exactly n samples."""
    if track.shape[0] == 0:
        return np.zeros((n, 2), dtype=np.float32)
    if track.shape[0] < n:
        track = np.tile(track, (-(-n // track.shape[0]), 1))
    fitted: Audio = np.array(track[:n], dtype=np.float32)  # a copy: the mix scales it in place
    return fitted


def mix_soundtrack(
    voices: Sequence[tuple[Audio, float, float]],
    total: float,
    *,
    music: bool,
    seed: int = 0,
    bed: MusicBed | None = None,
    bed_track: Audio | None = None,
) -> Audio:
    """(n, 2) float32 at 48 kHz: voices (48 kHz mono, start, limit) + ducked bed, normalised.

    The bed is `bed_track` ((m, 2) at 48 kHz, looped to length) when given, else the pad."""
    n = max(1, round(total * RATE))
    bus = np.zeros(n, dtype=np.float32)
    edge = round(0.004 * RATE)  # 4 ms fades at the cut points: no clicks where speech is trimmed
    ramp = np.linspace(0.0, 1.0, edge, dtype=np.float32)
    for samples, start, limit in voices:
        at = round(start * RATE)
        clip = samples[: max(0, min(round(limit * RATE), n - at))].copy()
        if clip.size > 2 * edge:
            clip[:edge] *= ramp
            clip[-edge:] *= ramp[::-1]
        bus[at : at + clip.size] += clip
    mix = np.repeat(bus[:, None], 2, axis=1)
    bed = bed or MusicBed()
    if music and bed.volume != 0:
        if bed_track is not None:
            pad = _fit(bed_track, n)
            # Music is not stationary: measure (up to) its first minute, as mono like the voice
            # bus it is balanced against.
            pad_lufs = integrated_loudness(pad[: 60 * RATE].mean(axis=1, keepdims=True))
        else:
            pad = _fit(ambient_pad(total, seed=seed), n)
            # Mono measurements are enough to balance the two (the pad is stationary, so a few
            # seconds of it tell its loudness); only the final mix is measured in full stereo.
            pad_lufs = integrated_loudness(pad[: 6 * RATE, :1])
        voice_lufs = integrated_loudness(bus[:, None])
        below = PAD_BELOW_VOICE_LU if bed.volume is None else -20.0 * math.log10(bed.volume)
        if math.isfinite(voice_lufs) and math.isfinite(pad_lufs):
            pad *= np.float32(10.0 ** ((voice_lufs - below - pad_lufs) / 20.0))
            pad = duck(pad, bus)
        elif bed.volume is not None and math.isfinite(pad_lufs):
            # No speech to sit under: the bed is the soundtrack, scaled by its volume.
            pad *= np.float32(10.0 ** ((TARGET_LUFS - below - pad_lufs) / 20.0))
        fade_in = min(1.5, total / 4) if bed.fade_in is None else min(bed.fade_in, total / 2)
        fade_out = min(2.5, total / 3) if bed.fade_out is None else min(bed.fade_out, total / 2)
        _fades(pad, fade_in, fade_out)
        mix += pad
    return normalize(mix, TARGET_LUFS, PEAK_CEILING_DB)


async def _load_voice(path: Path, scratch: Path, ffmpeg: str | None) -> Audio:
    """Speech as 48 kHz mono float32: plain PCM WAV directly, anything else via ffmpeg."""
    try:
        samples, rate = read_wav(path)
    except (soundfile.SoundFileError, RuntimeError, ValueError):
        # Not a WAV libsndfile reads (MP3, a broken header, ...): let ffmpeg decode it.
        # A broken file fails here with ffmpeg's own diagnosis in RenderFailed.
        await run_ffmpeg(
            ["-i", str(path), "-vn", "-ac", "1", "-ar", str(RATE), "-c:a", "pcm_s16le",
             "-f", "wav", "-y", str(scratch)],
            ffmpeg=ffmpeg,
        )  # fmt: skip
        samples, rate = read_wav(scratch)
    except OSError as exc:
        raise RenderFailed(f"cannot read speech audio {path}: {exc}") from exc
    return resample(samples, rate, RATE)


async def _load_bed(path: Path, total: float, scratch: Path, ffmpeg: str | None) -> Audio:
    """A music file as (n, 2) float32 at 48 kHz, decoded (and looped) by ffmpeg to `total` s."""
    await run_ffmpeg(
        ["-stream_loop", "-1", "-i", str(path), "-t", f"{total:.3f}", "-vn", "-ac", "2",
         "-ar", str(RATE), "-c:a", "pcm_s16le", "-f", "wav", "-y", str(scratch)],
        ffmpeg=ffmpeg,
    )  # fmt: skip
    try:
        frames, _rate = read_wav_channels(scratch)
    except (soundfile.SoundFileError, RuntimeError, ValueError, OSError) as exc:
        raise RenderFailed(f"cannot read the music bed {path}: {exc}") from exc
    return frames


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
    """Decode, place, mix, duck and normalise; write a 16-bit stereo 48 kHz WAV."""
    loaded: list[tuple[Audio, float, float]] = []
    for k, v in enumerate(voices):
        samples = await _load_voice(Path(v.path), workdir / f"voice_{k}.wav", ffmpeg)
        loaded.append((samples, v.start, v.limit))
    track: Audio | None = None
    if music and bed is not None and bed.path is not None:
        track = await _load_bed(Path(bed.path), total, workdir / "music_bed.wav", ffmpeg)

    def render() -> Path:
        mixed = mix_soundtrack(loaded, total, music=music, seed=seed, bed=bed, bed_track=track)
        return write_wav(mixed, out_path, RATE)

    return await asyncio.to_thread(render)
