"""How long a shot must last for its words to be spoken.

Shots are planned before any audio exists, so the planner estimates speech time from the
text: about 4.5 Chinese characters or 2.6 English words per second, plus a short breath.
The tts stage may still lengthen a shot to fit the real audio.
"""

from __future__ import annotations

import math
import re

ZH_CHARS_PER_SECOND = 4.5
EN_WORDS_PER_SECOND = 2.6
BREATH_SECONDS = 0.6

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")


def speech_seconds(text: str) -> float:
    """Reading time of mixed text; 0 for text with nothing to say."""
    cjk = len(_CJK.findall(text))
    words = len(_LATIN_WORD.findall(_CJK.sub(" ", text)))
    if cjk == 0 and words == 0:
        return 0.0
    return cjk / ZH_CHARS_PER_SECOND + words / EN_WORDS_PER_SECOND + BREATH_SECONDS


def shot_duration(texts: list[str], base_duration: float) -> float:
    """`max(base_duration, reading time)`, rounded up to the centisecond."""
    spoken = speech_seconds(" ".join(t for t in texts if t))
    return max(base_duration, math.ceil(spoken * 100) / 100)
