"""English personal names from well-kept libraries: gender by first name, name particles.

`gender-guesser` ships its list of about 40,000 first names with their usage by gender, so a
name such as "Marcus" or "Lucy" is known without a hand-written list, and a name it does not
know stays unknown. `nameparser` knows the particles of surnames ("van der", "de la"), so
"Van der Berg" is read as one name instead of stopping at the lowercase word.

The guesser reads its list on first use (a few seconds on a small machine); `warm_up` does it
ahead of the first English job, as `zh_tokens.warm_up` does for jieba.
"""

from __future__ import annotations

import threading
from functools import cache
from typing import Any, Literal

NameGender = Literal["male", "female", "mostly_male", "mostly_female", "unknown"]

# Particles that are also everyday English words would glue unrelated words into one name
# ("let Anna do Mark's job"); they are left out.
_ENGLISH_WORDS = frozenset({"do", "bar", "bat", "bon", "dem", "den", "het", "heer", "op", "st"})


@cache
def name_particles() -> frozenset[str]:
    """Lowercase surname particles ("van", "der", "de", "la") from nameparser's table.

    Imported on first use: nameparser's tables take a noticeable share of a service start.
    """
    from nameparser.config import CONSTANTS

    return frozenset(
        p
        for p in CONSTANTS.prefixes
        if p.isascii() and p.isalpha() and len(p) <= 5 and p not in _ENGLISH_WORDS
    )


_lock = threading.Lock()
_detector: Any = None


def _get_detector() -> Any:
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                import gender_guesser.detector as detector

                _detector = detector.Detector(case_sensitive=False)
    return _detector


def warm_up() -> None:
    """Load the first-name list and the particle table now (blocking; call it in a thread)."""
    _get_detector()
    name_particles()


def first_name_gender(name: str) -> NameGender:
    """How `name` (a first name) is used: "male", "female", "mostly_…" or "unknown".

    The guesser's "andy" (used for both) is reported as "unknown".
    """
    word = name.strip()
    if not word or not word.isalpha():
        return "unknown"
    found = str(_get_detector().get_gender(word))
    if found in ("male", "female", "mostly_male", "mostly_female"):
        return found  # type: ignore[return-value]
    return "unknown"


def is_known_first_name(word: str) -> bool:
    """Whether `word` is in the guesser's list of first names (any gender)."""
    return first_name_gender(word) != "unknown" or _is_andy(word)


def _is_andy(word: str) -> bool:
    return word.isalpha() and str(_get_detector().get_gender(word)) == "andy"


def given_name(full_name: str) -> str:
    """The first name of a full name ("Dr. Mary Jane Watson" → "Mary"); "" when none."""
    from nameparser import HumanName

    parsed = HumanName(full_name)
    return str(parsed.first or "")


def title_of(full_name: str) -> str:
    """The title of a full name ("Mr. Smith" → "Mr"), without its full stop; "" when none."""
    from nameparser import HumanName

    parsed = HumanName(full_name)
    return str(parsed.title or "").rstrip(".")
