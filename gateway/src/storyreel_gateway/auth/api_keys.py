"""API keys (seed 003 `X-API-Key`): made from `secrets`, shown once, stored as a keyed hash.

A key is `sk-sr-` followed by 43 URL-safe characters (32 random bytes from `secrets`), so a
leaked one is recognisable (secret scanners can match the prefix). The platform keeps only
`HMAC-SHA256(server secret, key)` as hex: a stolen `api_users` collection gives no usable key,
and without the server secret not even a guess can be checked offline. Keys carry 256 bits of
entropy, so a slow password hash (Argon2) would add nothing but latency to every request.

The stored digest is looked up by equality (a unique index) and then compared with
`hmac.compare_digest`; any timing the lookup shows is about the keyed digest, which tells an
attacker nothing about other keys.

The server secret (`api_key_secret`), in order: `STORYREEL_API_KEY_SECRET`, the file
`STORYREEL_API_KEY_SECRET_FILE`, in embedded mode `data/secrets/api_key_secret` (made once),
else derived from the JWT signing secret (HMAC with a fixed label, so the two never coincide;
rotating the JWT secret then invalidates every API key).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from storyreel_core.settings import Settings
from storyreel_gateway.auth.secrets_file import MissingSecret

PREFIX = "sk-sr-"
KEY_PATTERN = re.compile(r"^sk-sr-[A-Za-z0-9_-]{43}$")
_DERIVATION_LABEL = b"storyreel api-key hmac v1"
MIN_SECRET_BYTES = 32


def new_api_key() -> str:
    """A fresh key: `sk-sr-` + 32 random bytes, URL-safe base64 without padding (49 chars)."""
    return PREFIX + secrets.token_urlsafe(32)


def looks_like_key(value: str) -> bool:
    """True for something shaped like a key (cheap check before any store access)."""
    return bool(KEY_PATTERN.fullmatch(value))


class KeyHasher:
    """HMAC-SHA256 of keys under one server secret (≥ 32 bytes)."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < MIN_SECRET_BYTES:
            raise MissingSecret(f"the API key secret must be at least {MIN_SECRET_BYTES} bytes")
        self._secret = secret

    def digest(self, key: str) -> str:
        """The stored form of `key`: 64 lowercase hex digits."""
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()

    def matches(self, key: str, stored: str) -> bool:
        """Whether `key` hashes to `stored`, compared in constant time."""
        return hmac.compare_digest(self.digest(key), stored)


def api_key_secret(settings: Settings, signing_secret: bytes) -> bytes:
    """The HMAC key for API keys (see the module docstring for where it comes from)."""
    if settings.api_key_secret is not None:
        value = settings.api_key_secret.get_secret_value().encode()
        if len(value) < MIN_SECRET_BYTES:
            raise MissingSecret("STORYREEL_API_KEY_SECRET must be at least 32 characters")
        return value
    if settings.api_key_secret_file is not None:
        try:
            value = settings.api_key_secret_file.read_text().strip().encode()
        except OSError as exc:
            raise MissingSecret(f"STORYREEL_API_KEY_SECRET_FILE cannot be read: {exc}") from None
        if len(value) < MIN_SECRET_BYTES:
            raise MissingSecret("STORYREEL_API_KEY_SECRET_FILE must hold at least 32 characters")
        return value
    if settings.embedded:
        path = Path(settings.data_dir) / "secrets" / "api_key_secret"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()
    return hmac.new(signing_secret, _DERIVATION_LABEL, hashlib.sha256).hexdigest().encode()
