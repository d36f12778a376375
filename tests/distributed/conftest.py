"""Distributed fixtures: the platform as separate OS processes (see `tests/cluster.py`).

One cluster with two video replicas is shared by the tests that only render; a test that kills
processes builds its own, so nothing it breaks leaks into another test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cluster import Cluster, start_cluster


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Gateway, script, storyboard, asset, tts, workflow and two video replicas.

    Each video replica runs one job at a time, so final cuts that overlap must spread over
    both replicas; the workflow runs many renders at once so they overlap."""
    cluster = start_cluster(
        tmp_path_factory.mktemp("cluster"), video_replicas=2, concurrency={"video": 1}
    )
    try:
        yield cluster
    finally:
        cluster.stop()
