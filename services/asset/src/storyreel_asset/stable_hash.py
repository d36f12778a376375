"""Stable hashing: the one source of randomness for the procedural renderer.

Python's built-in ``hash()`` is salted per process, so anything derived from it would change
between runs and a character would look different in every render job. Everything that must
stay the same across shots, processes and machines is derived from SHA-256 of its key parts.
"""

from __future__ import annotations

import hashlib

import numpy as np

_SEPARATOR = "\x1f"  # unit separator: cannot appear in ids, so ("ab", "c") != ("a", "bc")


def stable_digest(*parts: object) -> bytes:
    """SHA-256 of the parts joined unambiguously; identical on every run and machine."""
    text = _SEPARATOR.join(str(part) for part in parts)
    return hashlib.sha256(text.encode("utf-8")).digest()


def stable_seed(*parts: object) -> int:
    """A 64-bit seed for numpy generators, derived from the parts."""
    return int.from_bytes(stable_digest(*parts)[:8], "big")


def stable_rng(*parts: object) -> np.random.Generator:
    """A numpy generator whose stream depends only on the parts (PCG64 is platform-stable)."""
    return np.random.default_rng(stable_seed(*parts))
