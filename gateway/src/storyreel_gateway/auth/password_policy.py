"""Which passwords an account may have: NIST SP 800-63B (rev. 3, §5.1.1.2 "Memorized Secrets").

The rules, and only these (no composition rules, no forced periodic change):

- at least 8 characters, at most 256 (NIST: allow at least 64); every character allowed,
  spaces included;
- not a common, expected or breached-style value: the zxcvbn estimator (Dropbox's model: its
  frequency lists of leaked passwords, common words and names, keyboard walks, repeats,
  sequences, dates, l33t substitutions) must score it at least 2 of 4, i.e. about 10^6 guesses
  or more. "password", "12345678", "P@ssw0rd", eight spaces and "qwertyuiop" score 0;
- not made from the account's own name or email, or the service's name (zxcvbn's
  `user_inputs`).

zxcvbn's matching grows fast with length (about 9 s for 256 repeated characters), so only the
first `ESTIMATED_PREFIX` characters are scored: a password whose first 64 characters are
strong is strong, and one that is weak there is refused whatever follows. The estimate runs in
a worker thread so a slow one never holds the event loop.
"""

from __future__ import annotations

import asyncio
import re

from zxcvbn import zxcvbn

from storyreel_core.errors import ValidationFailed

MIN_LENGTH = 8
MAX_LENGTH = 256
MIN_SCORE = 2
ESTIMATED_PREFIX = 64
SERVICE_WORDS = ("storyreel", "story", "reel")
_WORDS = re.compile(r"[^\W_]+")


def weakness(password: str, user_inputs: list[str]) -> str | None:
    """Why `password` is refused (a sentence for the error's `reason`), or None when it passes.

    `user_inputs`: the account's own words (username, email), which the password must not be
    built from."""
    if len(password) < MIN_LENGTH:
        return f"password must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"password must be at most {MAX_LENGTH} characters"
    words = [*SERVICE_WORDS]
    for value in user_inputs:
        words += [value.lower(), *_WORDS.findall(value.lower())]
    result = zxcvbn(password[:ESTIMATED_PREFIX], user_inputs=words, max_length=ESTIMATED_PREFIX)
    if int(result["score"]) >= MIN_SCORE:
        return None
    warning = str(result["feedback"].get("warning") or "").strip()
    if not warning:
        warning = "It is built from common words, names or your own account details."
    return f"password is too easy to guess: {warning}".rstrip(".") + "."


async def check_password(password: str, user_inputs: list[str]) -> None:
    """Raise ValidationFailed (400, code 1001, field `password`) for a refused password."""
    reason = await asyncio.to_thread(weakness, password, user_inputs)
    if reason is not None:
        raise ValidationFailed(reason, field="password", reason=reason)
