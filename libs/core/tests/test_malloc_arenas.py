"""The malloc arena cap: set from the usable cores, and never over an operator's own value."""

from __future__ import annotations

import os
import sys

import pytest

from storyreel_core.malloc_arenas import limit_malloc_arenas


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_the_cap_follows_the_usable_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    assert limit_malloc_arenas() == max(2, len(os.sched_getaffinity(0)))
    assert limit_malloc_arenas(3) == 3


def test_an_operators_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "8")
    assert limit_malloc_arenas() is None
