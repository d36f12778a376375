"""Shared fixtures: one engine for the whole run (it is cheap, but there is no need for more)."""

from __future__ import annotations

import pytest

from storyreel_tts.espeak_engine import EspeakEngine


@pytest.fixture(scope="session")
def engine() -> EspeakEngine:
    return EspeakEngine()
