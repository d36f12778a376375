"""`usable_cores`: what sizes the frames job's draws and the video workers' segment slots."""

from __future__ import annotations

import os
from pathlib import Path

from storyreel_core.cores import usable_cores


def test_cores_follow_affinity_and_a_cgroup_quota(tmp_path: Path) -> None:
    """A pod limited to 1.5 CPUs keeps two draws busy, however many cores the node has."""
    affinity = len(os.sched_getaffinity(0))
    cpu_max = tmp_path / "cpu.max"
    assert usable_cores(cpu_max) == affinity  # no cgroup file
    cpu_max.write_text("max 100000\n")
    assert usable_cores(cpu_max) == affinity
    cpu_max.write_text("150000 100000\n")
    assert usable_cores(cpu_max) == min(affinity, 2)
    cpu_max.write_text("20000 100000\n")
    assert usable_cores(cpu_max) == 1
    cpu_max.write_text("garbage\n")
    assert usable_cores(cpu_max) == affinity
