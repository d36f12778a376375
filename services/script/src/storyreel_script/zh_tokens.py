"""Lazy, once-only access to jieba's part-of-speech tagger.

jieba builds its dictionary on first use (about a second) and logs to stderr while doing
so; loading it at import time would slow every service start and English-only request.
"""

from __future__ import annotations

import logging
import threading
import warnings
from functools import lru_cache
from typing import NamedTuple

_lock = threading.Lock()
_ready = False


class Token(NamedTuple):
    """One segmented word and its jieba part-of-speech flag (`nr` = person name)."""

    word: str
    flag: str


def _ensure_loaded() -> None:
    global _ready
    if _ready:
        return
    with _lock:
        if _ready:
            return
        with warnings.catch_warnings():
            # jieba's regexes use invalid escapes; Python warns once when compiling them.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", SyntaxWarning)
            import jieba
            import jieba.posseg  # compiled here too, under the same filter

        jieba.setLogLevel(logging.WARNING)
        jieba.initialize()
        _ready = True


def warm_up() -> None:
    """Build the dictionary now (blocking; call it in a thread), not on the first Chinese job."""
    _ensure_loaded()


@lru_cache(maxsize=512)
def _cut(text: str) -> tuple[Token, ...]:
    _ensure_loaded()
    import jieba.posseg as pseg

    return tuple(Token(str(pair.word), str(pair.flag)) for pair in pseg.cut(text))


def pos_tokens(text: str) -> list[Token]:
    """Segment Chinese text into (word, flag) tokens; cached because scenes re-read text."""
    return list(_cut(text))


def word_tags() -> dict[str, str]:
    """jieba's dictionary: word → part-of-speech tag (`拉住` → `v`), for words it knows."""
    _ensure_loaded()
    import jieba.posseg as pseg

    tags: dict[str, str] = pseg.dt.word_tag_tab
    return tags
