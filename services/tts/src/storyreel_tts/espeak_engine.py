"""A ctypes binding to libespeak-ng (shipped by espeakng-loader) that returns int16 PCM.

Why eSpeak NG: it is offline, tiny, fast and speaks both Mandarin (`cmn`) and English,
so a short drama can be voiced with no network and no model weights.

Why a process-wide lock: libespeak-ng keeps *all* its state in C globals (the current
voice, the parameters, the one synth callback). Two threads synthesising at once would
mix voices and interleave samples, so every use of the library holds `_LOCK`.
Several `EspeakEngine` objects may exist; they all drive the same library safely.

Why the library is loaded afresh for every utterance: eSpeak's wave generator keeps
static counters that are never reset (the pitch-flutter phase, the roughness cycle
count, the breath-noise generator), so the same text spoken twice in one process comes
out a few samples different. Loading, initialising, speaking, terminating and unloading
(`dlclose`) per utterance restores every static and makes output bit-identical for the
same voice and text, in every call, process and run; it costs about 5 ms per utterance.

The API used is the classic `speak_lib.h` one:

- `espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, buflength, path, options)` returns the
  sample rate (22050 Hz);
- `espeak_SetSynthCallback(cb)`: in synchronous mode `espeak_Synth` calls `cb` on the
  calling thread with chunks of 16-bit samples until the text is spoken;
- `espeak_SetVoiceByName("cmn+f3")`, then `espeak_SetParameter` for rate, pitch, range;
- `espeak_ng_SetRandSeed(1)` so breathy voices draw the same noise every time;
- `espeak_Synth(text, size, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL)`.
"""

from __future__ import annotations

import _ctypes
import ctypes
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import espeakng_loader
import numpy as np
import numpy.typing as npt

from storyreel_core.errors import AppError, Code
from storyreel_tts.voice_casting import Voice

# speak_lib.h constants.
AUDIO_OUTPUT_SYNCHRONOUS = 2
ESPEAK_INITIALIZE_DONT_EXIT = 0x8000  # report errors instead of calling exit()
POS_CHARACTER = 1
ESPEAK_CHARS_UTF8 = 1
ESPEAK_RATE = 1
ESPEAK_VOLUME = 2
ESPEAK_PITCH = 3
ESPEAK_RANGE = 4
ESPEAK_PUNCTUATION = 5
ESPEAK_CAPITALS = 6
ESPEAK_WORDGAP = 7
EE_OK = 0

# eSpeak's accepted speaking-rate range, in words per minute.
MIN_RATE = 80
MAX_RATE = 450

RAND_SEED = 1  # any fixed value: it only has to be the same every time
_BUFFER_MS = 200  # how much audio eSpeak hands the callback per call

Pcm = npt.NDArray[np.int16]

# int SynthCallback(short *wav, int numsamples, espeak_EVENT *events)
_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class SpeechSynthesisError(AppError):
    """eSpeak could not be loaded, could not find a voice, or failed to speak."""

    code = Code.AI_ERROR


_LOCK = threading.Lock()
_CHUNKS: list[Pcm] = []  # filled by the callback while `_LOCK` is held
_SAMPLE_RATE: int | None = None  # learnt from the first espeak_Initialize


def _collect(wav: ctypes._Pointer[ctypes.c_short], numsamples: int, _events: int) -> int:
    """The synth callback: copy each chunk out of eSpeak's buffer before it is reused."""
    if wav and numsamples > 0:  # a NULL buffer or zero samples marks the end
        _CHUNKS.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).astype(np.int16))
    return 0  # 0 = keep going


# Module-level so the C function pointer outlives every library instance that holds it.
_CALLBACK = _SynthCallback(_collect)


def _declare(lib: ctypes.CDLL) -> None:
    """Give ctypes the C signatures, so arguments are converted, not guessed."""
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
    lib.espeak_ng_SetRandSeed.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p,  # text
        ctypes.c_size_t,  # size in bytes, including the terminating NUL
        ctypes.c_uint,  # position
        ctypes.c_int,  # position_type
        ctypes.c_uint,  # end_position
        ctypes.c_uint,  # flags
        ctypes.c_void_p,  # unique_identifier (unused)
        ctypes.c_void_p,  # user_data (unused)
    ]
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_Terminate.argtypes = []
    lib.espeak_Terminate.restype = ctypes.c_int


@contextmanager
def _fresh_library() -> Iterator[ctypes.CDLL]:
    """A newly loaded and initialised eSpeak, terminated and unloaded on exit.

    The caller must hold `_LOCK`. If something else in the process also holds
    libespeak-ng open, `dlclose` only drops our reference: speech still works, but the
    statics then carry over and output is no longer bit-identical between calls.
    """
    global _SAMPLE_RATE
    try:
        lib = ctypes.CDLL(espeakng_loader.get_library_path(), mode=ctypes.RTLD_LOCAL)
    except OSError as exc:
        raise SpeechSynthesisError(f"cannot load libespeak-ng: {exc}") from exc
    try:
        _declare(lib)
        data_path = espeakng_loader.get_data_path().encode()
        sample_rate = lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, _BUFFER_MS, data_path, ESPEAK_INITIALIZE_DONT_EXIT
        )
        if sample_rate <= 0:
            raise SpeechSynthesisError(f"espeak_Initialize failed ({sample_rate})")
        _SAMPLE_RATE = sample_rate
        try:
            lib.espeak_SetSynthCallback(_CALLBACK)
            # Speak punctuation as pauses, not words, and don't announce capitals.
            lib.espeak_SetParameter(ESPEAK_PUNCTUATION, 0, 0)
            lib.espeak_SetParameter(ESPEAK_CAPITALS, 0, 0)
            yield lib
        finally:
            lib.espeak_Terminate()
    finally:
        _ctypes.dlclose(lib._handle)


def _set_voice(lib: ctypes.CDLL, voice: Voice, rate: int) -> None:
    """Select the voice, then its prosody (selecting a voice resets the parameters)."""
    name = voice.espeak_voice_name
    # A missing variant should not silence the story: fall back to the bare language.
    if (
        lib.espeak_SetVoiceByName(name.encode()) != EE_OK
        and lib.espeak_SetVoiceByName(voice.espeak_name.encode()) != EE_OK
    ):
        raise SpeechSynthesisError(f"eSpeak has no voice {name!r}")
    lib.espeak_SetParameter(ESPEAK_RATE, rate, 0)
    lib.espeak_SetParameter(ESPEAK_PITCH, voice.pitch, 0)
    lib.espeak_SetParameter(ESPEAK_RANGE, voice.range, 0)
    lib.espeak_SetParameter(ESPEAK_VOLUME, 100, 0)
    lib.espeak_SetParameter(ESPEAK_WORDGAP, 0, 0)


class EspeakEngine:
    """Speaks text with a `Voice`; all instances share the one process-wide eSpeak."""

    @property
    def sample_rate(self) -> int:
        """The rate of every array `synthesize` returns (22050 Hz for eSpeak NG)."""
        with _LOCK:
            if _SAMPLE_RATE is None:
                with _fresh_library():
                    pass  # initialising is what sets the rate
            if _SAMPLE_RATE is None:
                raise SpeechSynthesisError("eSpeak did not report a sample rate")
            return _SAMPLE_RATE

    def synthesize(self, text: str, voice: Voice, *, speed: float = 1.0) -> Pcm:
        """Speak `text` and return mono int16 samples at `sample_rate`.

        The same text, voice and speed always give the same samples. `speed` multiplies
        the voice's words-per-minute (clamped to what eSpeak accepts), so a caller can
        fit speech to a shot without recasting voices. Blank text gives an empty array.
        """
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        if not text.strip():
            return np.zeros(0, dtype=np.int16)
        rate = min(MAX_RATE, max(MIN_RATE, round(voice.rate * speed)))
        payload = text.encode("utf-8") + b"\0"
        buffer = ctypes.create_string_buffer(payload, len(payload))
        with _LOCK, _fresh_library() as lib:
            _set_voice(lib, voice, rate)
            lib.espeak_ng_SetRandSeed(RAND_SEED)
            _CHUNKS.clear()
            try:
                status = lib.espeak_Synth(
                    buffer, len(payload), 0, POS_CHARACTER, 0, ESPEAK_CHARS_UTF8, None, None
                )
                if status != EE_OK:
                    raise SpeechSynthesisError(f"espeak_Synth failed ({status})")
                if not _CHUNKS:
                    return np.zeros(0, dtype=np.int16)
                return np.concatenate(_CHUNKS)
            finally:
                _CHUNKS.clear()
