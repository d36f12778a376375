"""End-to-end fixtures: one embedded platform subprocess shared by the tests of a session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_client import ADMIN_PASSWORD, ADMIN_USERNAME, Api

from storyreel_cli.platform_process import PlatformProcess

# The files that take minutes, longest first (figures from `make test --durations`): `make
# test` runs two workers that each take a whole file at a time in collection order (pytest-xdist
# --dist loadfile --no-loadscope-reorder), so these start at once and the many short files fill
# in around them, instead of the fuzzing (~6 min) starting last and running alone.
SLOW_FIRST = (
    "tests/test_schemathesis.py",
    "tests/distributed/test_chaos.py",
    "tests/distributed/test_worker_crash.py",
    "tests/test_providers_e2e.py",
    "tests/distributed/test_cluster_render.py",
    "tests/test_embedded_lifecycle.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every collected test (this hook sees the whole session), the slow files first; the rest
    keep their order."""
    rank = {path: i for i, path in enumerate(SLOW_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::", 1)[0], len(rank)))


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
