"""Where `storyreel login` keeps its tokens: one JSON file in the user's config directory.

The directory is platformdirs' user config dir (`$XDG_CONFIG_HOME/storyreel` on Linux,
`~/Library/Application Support/storyreel` on macOS, `%APPDATA%\\storyreel` on Windows);
`STORYREEL_CONFIG_DIR` overrides it. The file holds one entry per gateway URL
(`{url: {username, access_token, refresh_token}}`) and is created with mode 0600 inside a
0700 directory, since a token is as good as the password for as long as it lives.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import platformdirs

FILE_NAME = "credentials.json"


def config_dir() -> Path:
    override = os.environ.get("STORYREEL_CONFIG_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("storyreel", appauthor=False))


def credentials_path() -> Path:
    return config_dir() / FILE_NAME


def _key(url: str) -> str:
    return url.rstrip("/")


def _read_all() -> dict[str, Any]:
    path = credentials_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_all(data: dict[str, Any]) -> Path:
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.tmp")
    # Created 0600 from the start (no window where another user could read it), then
    # renamed over the old file atomically.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def load(url: str) -> dict[str, Any] | None:
    """The stored entry for the gateway at `url` (username, access and refresh token)."""
    entry = _read_all().get(_key(url))
    return entry if isinstance(entry, dict) else None


def save(url: str, username: str, tokens: dict[str, Any]) -> Path:
    """Store the tokens for `url`, keeping other gateways' entries; returns the file path."""
    data = _read_all()
    data[_key(url)] = {
        "username": username,
        "access_token": tokens["access_token"],
        "refresh_token": tokens.get("refresh_token"),
    }
    return _write_all(data)


def forget(url: str) -> bool:
    """Remove the entry for `url`; whether there was one."""
    data = _read_all()
    if data.pop(_key(url), None) is None:
        return False
    _write_all(data)
    return True
