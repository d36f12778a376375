"""The signing secret: from the environment, or made once and kept under the data folder.

Outside embedded mode a missing secret stops the gateway at start-up: a default secret that
boots silently is how tokens get forged.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from storyreel_core.settings import Settings


class MissingSecret(RuntimeError):
    pass


def signing_secret(settings: Settings) -> bytes:
    if settings.jwt_secret is not None:
        value = settings.jwt_secret.get_secret_value()
        if len(value) < 32:
            raise MissingSecret("STORYREEL_JWT_SECRET must be at least 32 characters")
        return value.encode()
    if not settings.embedded:
        raise MissingSecret("STORYREEL_JWT_SECRET is required outside embedded mode")
    path = Path(settings.data_dir) / "secrets" / "jwt_secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip().encode()
