"""StoryReel speech: every voice speaks through the `SpeechModel` port.

The public surface: `SpeechBackend` picks the provider a request names (built in: `offline` =
Piper for English + eSpeak NG for Mandarin, `piper`, `espeak`; configured vendors: OpenAI
`audio.speech`, ElevenLabs), `cast_voices`/`cast_from_list` decide who sounds like what,
`assemble_shot` lays one shot's utterances out with timed segments, `median_pitch` measures
how far apart two voices are, and `wav_bytes` packs audio for the object store.
"""

from storyreel_tts.espeak_engine import EspeakEngine, SpeechSynthesisError
from storyreel_tts.offline_speech import OfflineSpeech
from storyreel_tts.pitch import median_pitch
from storyreel_tts.shot_speech import ShotSpeech, Spoken, assemble_shot, shot_duration
from storyreel_tts.speech_backend import SpeechBackend
from storyreel_tts.voice_casting import (
    NARRATOR,
    Voice,
    cast_from_list,
    cast_voices,
    list_voices,
    narrator_voice,
)
from storyreel_tts.wav import read_wav, wav_bytes

__all__ = [
    "NARRATOR",
    "EspeakEngine",
    "OfflineSpeech",
    "ShotSpeech",
    "SpeechBackend",
    "SpeechSynthesisError",
    "Spoken",
    "Voice",
    "assemble_shot",
    "cast_from_list",
    "cast_voices",
    "list_voices",
    "median_pitch",
    "narrator_voice",
    "read_wav",
    "shot_duration",
    "wav_bytes",
]
