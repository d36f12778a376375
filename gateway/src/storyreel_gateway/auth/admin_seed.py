"""The first admin, from configuration (issue 12, seed 003 "管理员JWT认证").

`STORYREEL_ADMIN_USERNAME` with `STORYREEL_ADMIN_PASSWORD` or `STORYREEL_ADMIN_PASSWORD_FILE`
(a secret file, its content stripped of surrounding whitespace) name an account with
`role: "admin"` that the gateway creates at start-up when no account has that username. Its
password is held to everyone's policy (`password_policy`); `STORYREEL_ADMIN_EMAIL` is optional
(default `<username>@admin.invalid`, a reserved domain that receives no mail).

A misconfiguration stops the process before it serves anything, with one line saying what is
wrong (`AdminConfigError`; `check_admin_at_start_up` exits with status 2): a username without a
password or the reverse, both password sources, an unreadable file, a refused password, or a
username already held by an account that is not an admin (promoting it would hand the admin
role to whoever registered that name first).

An existing admin is left as it is: its password is not reset from the configuration.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from storyreel_core.errors import AlreadyExists, ValidationFailed
from storyreel_core.logging import get_logger
from storyreel_core.settings import Settings
from storyreel_gateway.auth.password_policy import weakness
from storyreel_gateway.auth.roles import ADMIN
from storyreel_gateway.auth.user_store import UserStore

log = get_logger("storyreel.gateway")


class AdminConfigError(RuntimeError):
    """The first-admin settings cannot be used; the message names the setting and why."""


@dataclass(frozen=True)
class AdminCredentials:
    username: str
    email: str
    password: str

    def __repr__(self) -> str:  # never the password, whatever prints this
        return f"AdminCredentials(username={self.username!r}, email={self.email!r})"


def admin_credentials(settings: Settings) -> AdminCredentials | None:
    """The configured first admin, None when none is configured; AdminConfigError when the
    settings are incomplete, contradictory, unreadable or the password is refused."""
    # An empty variable (compose's `${VAR:-}`) counts as unset.
    username = (settings.admin_username or "").strip()
    value = settings.admin_password.get_secret_value() if settings.admin_password else ""
    file = settings.admin_password_file
    has_value, has_file = value != "", file is not None and str(file) not in ("", ".")
    if not username and not (has_value or has_file):
        return None
    if not username:
        raise AdminConfigError(
            "STORYREEL_ADMIN_PASSWORD(_FILE) is set but STORYREEL_ADMIN_USERNAME is not"
        )
    if has_value and has_file:
        raise AdminConfigError(
            "set STORYREEL_ADMIN_PASSWORD or STORYREEL_ADMIN_PASSWORD_FILE, not both"
        )
    if has_value:
        password = value
    elif has_file and file is not None:
        try:
            password = file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise AdminConfigError(
                f"STORYREEL_ADMIN_PASSWORD_FILE cannot be read: {type(exc).__name__}"
            ) from None
    else:
        raise AdminConfigError(
            "STORYREEL_ADMIN_USERNAME is set but neither STORYREEL_ADMIN_PASSWORD nor "
            "STORYREEL_ADMIN_PASSWORD_FILE is"
        )
    email = (settings.admin_email or f"{username.lower()}@admin.invalid").strip()
    reason = weakness(password, [username, email])
    if reason is not None:
        raise AdminConfigError(f"the admin password is refused: {reason}")
    return AdminCredentials(username=username, email=email, password=password)


def check_admin_at_start_up(settings: Settings) -> None:
    """Stop the process (exit status 2) with the reason when the first-admin settings are
    unusable. Called by the entry points before any server starts."""
    try:
        admin_credentials(settings)
    except AdminConfigError as exc:
        sys.stderr.write(f"storyreel: {exc}\n")
        raise SystemExit(2) from None


async def ensure_admin(users: UserStore, settings: Settings) -> dict[str, Any] | None:
    """Create the configured admin when missing; the admin's document, or None when no admin
    is configured. AdminConfigError as `admin_credentials`, or when the username belongs to an
    account that is not an admin."""
    creds = admin_credentials(settings)
    if creds is None:
        return None
    existing = await users.find_by_login(creds.username)
    if existing is None:
        try:
            created = await users.register(creds.username, creds.email, creds.password, role=ADMIN)
        except AlreadyExists:  # another replica made it first, or the email is taken
            existing = await users.find_by_login(creds.username)
            if existing is None:
                raise AdminConfigError(
                    "the admin's email is already used by another account; set "
                    "STORYREEL_ADMIN_EMAIL"
                ) from None
        except ValidationFailed as exc:
            raise AdminConfigError(f"STORYREEL_ADMIN_USERNAME: {exc.message}") from None
        else:
            log.info("auth.admin_created", user_id=created["_id"], username=creds.username)
            return created
    if existing.get("role") != ADMIN:
        raise AdminConfigError(
            f"STORYREEL_ADMIN_USERNAME {creds.username!r} belongs to an account that is not "
            "an admin; choose another username"
        )
    return existing
