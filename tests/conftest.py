"""End-to-end fixtures: one embedded platform subprocess shared by the tests of a session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_client import ADMIN_PASSWORD, ADMIN_USERNAME, Api

from storyreel_cli.platform_process import PlatformProcess


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    # With the first admin configured, as a deployment would have it (tests/test_api_keys_e2e.py).
    admin = {"STORYREEL_ADMIN_USERNAME": ADMIN_USERNAME, "STORYREEL_ADMIN_PASSWORD": ADMIN_PASSWORD}
    proc = PlatformProcess(tmp_path_factory.mktemp("platform"), env=admin).start(timeout=180)
    yield proc
    proc.stop()


@pytest.fixture
def api(platform: PlatformProcess) -> Api:
    return Api(platform.url)


@pytest.fixture
def other_api(platform: PlatformProcess) -> Api:
    return Api(platform.url)
