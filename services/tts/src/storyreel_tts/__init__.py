"""StoryReel speech: offline eSpeak NG voices for narration and dialogue.

The public surface: `EspeakEngine` speaks text, `cast_voices`/`narrator_voice` decide who
sounds like what, `speak_shot` voices one storyboard shot with timed segments, and
`wav_bytes` packs the result for the object store.
"""

from storyreel_tts.espeak_engine import EspeakEngine, SpeechSynthesisError
from storyreel_tts.shot_speech import ShotSpeech, shot_duration, speak_shot
from storyreel_tts.voice_casting import NARRATOR, Voice, cast_voices, list_voices, narrator_voice
from storyreel_tts.wav import read_wav, wav_bytes

__all__ = [
    "NARRATOR",
    "EspeakEngine",
    "ShotSpeech",
    "SpeechSynthesisError",
    "Voice",
    "cast_voices",
    "list_voices",
    "narrator_voice",
    "read_wav",
    "shot_duration",
    "speak_shot",
    "wav_bytes",
]
