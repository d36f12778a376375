"""End-to-end fixtures: one embedded platform subprocess shared by the tests of a session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_client import Api

from storyreel_cli.platform_process import PlatformProcess


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    proc = PlatformProcess(tmp_path_factory.mktemp("platform")).start()
    yield proc
    proc.stop()


@pytest.fixture
def api(platform: PlatformProcess) -> Api:
    return Api(platform.url)


@pytest.fixture
def other_api(platform: PlatformProcess) -> Api:
    return Api(platform.url)
