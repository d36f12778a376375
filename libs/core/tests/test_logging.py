"""A logged exception is a plain traceback: no frame locals, short, and quick to write.

structlog's console renderer defaults to rich tracebacks with every frame's locals. One 500
in the schemathesis run wrote 80,000 lines for a single error and held the event loop (in
embedded mode, the whole platform) for about 20 s, and the locals included request bodies.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import structlog

from storyreel_core.logging import configure_logging, get_logger

SECRET = "pass-word-in-a-local-variable"


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def fail_with_big_locals() -> None:
    password = SECRET  # a local the old renderer printed
    payload = {str(i): "x" * 200 for i in range(2000)}
    raise ValueError(f"Value out of range: {len(payload)} {len(password)}")


@pytest.mark.parametrize("as_json", [False, True])
def test_exceptions_are_logged_without_locals(
    capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    configure_logging("INFO", json=as_json)
    log = get_logger("test")
    started = time.monotonic()
    try:
        fail_with_big_locals()
    except ValueError as exc:
        log.exception("gateway.unhandled", error=str(exc))
    elapsed = time.monotonic() - started
    out = capsys.readouterr().out
    text = json.loads(out)["exception"] if as_json else out
    assert "Traceback (most recent call last)" in text
    assert "ValueError: Value out of range" in text
    assert "fail_with_big_locals" in text
    assert SECRET not in out
    assert len(out.splitlines()) < 40
    assert elapsed < 1.0
