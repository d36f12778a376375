"""API keys: their shape, the keyed hash they are stored as, and where its secret comes from."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest

from storyreel_core.settings import Settings
from storyreel_gateway.auth.api_keys import (
    KeyHasher,
    api_key_secret,
    looks_like_key,
    new_api_key,
)
from storyreel_gateway.auth.secrets_file import MissingSecret

SECRET = b"s" * 32


def test_keys_are_prefixed_random_and_recognisable() -> None:
    keys = {new_api_key() for _ in range(200)}
    assert len(keys) == 200
    for key in keys:
        assert key.startswith("sk-sr-") and len(key) == 49 and looks_like_key(key)
    assert not looks_like_key("sk-proj-" + "a" * 43)
    assert not looks_like_key(next(iter(keys)) + "x")
    assert not looks_like_key("")


def test_the_stored_form_is_hmac_sha256_under_the_server_secret() -> None:
    key = new_api_key()
    digest = KeyHasher(SECRET).digest(key)
    assert digest == hmac.new(SECRET, key.encode(), hashlib.sha256).hexdigest()
    assert key not in digest and len(digest) == 64
    # Without the server secret the digest cannot be reproduced: a plain hash differs, and
    # so does the HMAC under any other secret.
    assert digest != hashlib.sha256(key.encode()).hexdigest()
    assert digest != KeyHasher(b"t" * 32).digest(key)


def test_matching_accepts_only_the_same_key() -> None:
    hasher = KeyHasher(SECRET)
    key = new_api_key()
    stored = hasher.digest(key)
    assert hasher.matches(key, stored)
    assert not hasher.matches(new_api_key(), stored)
    assert not hasher.matches(key[:-1] + ("A" if key[-1] != "A" else "B"), stored)
    assert not KeyHasher(b"t" * 32).matches(key, stored)


def test_a_short_secret_is_refused() -> None:
    with pytest.raises(MissingSecret):
        KeyHasher(b"short")


def test_secret_from_setting_file_data_dir_or_derived(tmp_path: Path) -> None:
    jwt = b"j" * 40
    assert api_key_secret(Settings(api_key_secret="x" * 32), jwt) == b"x" * 32
    with pytest.raises(MissingSecret, match="STORYREEL_API_KEY_SECRET"):
        api_key_secret(Settings(api_key_secret="x" * 8), jwt)
    path = tmp_path / "secret"
    path.write_text("y" * 40 + "\n")
    assert api_key_secret(Settings(api_key_secret_file=path), jwt) == b"y" * 40
    with pytest.raises(MissingSecret, match="FILE"):
        api_key_secret(Settings(api_key_secret_file=tmp_path / "missing"), jwt)
    # Embedded: made once under the data folder and kept.
    embedded = Settings(data_dir=tmp_path)
    first = api_key_secret(embedded, jwt)
    assert len(first) >= 32 and api_key_secret(embedded, jwt) == first
    assert (tmp_path / "secrets" / "api_key_secret").stat().st_mode & 0o077 == 0
    # Elsewhere without one: derived from the JWT secret, but never equal to it.
    derived = api_key_secret(Settings(environment="production"), jwt)
    assert derived == api_key_secret(Settings(environment="production"), jwt)
    assert derived != jwt and derived != api_key_secret(
        Settings(environment="production"), b"k" * 40
    )
