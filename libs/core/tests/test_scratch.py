"""Per-task scratch folders: under the data dir, emptied for a redelivery, removed after the
job, and what a SIGKILLed process left is cleared when the next one starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from storyreel_core.scratch import ScratchSpace

# A worker that fills its task's scratch folder, says so, and waits to be killed.
DYING_WORKER = """
import sys, time
from pathlib import Path
from storyreel_core.scratch import ScratchSpace
with ScratchSpace(Path(sys.argv[1]), "video").for_task("task_crash") as scratch:
    (scratch / "frame.png").write_bytes(b"x" * 100_000)
    print("ready", flush=True)
    time.sleep(60)
"""


def test_a_task_folder_lives_under_the_data_dir_and_is_removed_after(tmp_path: Path) -> None:
    space = ScratchSpace(tmp_path, "video")
    with space.for_task("task_1") as scratch:
        assert scratch == (tmp_path / "scratch" / "video" / "task_1").resolve()
        (scratch / "out.mp4").write_bytes(b"partial")
    assert not scratch.exists()
    # A redelivered job starts from an empty folder, not from the last attempt's leftovers.
    scratch.mkdir(parents=True)
    (scratch / "stale.mp4").write_bytes(b"old")
    with space.for_task("task_1") as again:
        assert list(again.iterdir()) == []
    assert space.path_for("../../etc").parent == space.root  # an id never escapes the root


def test_what_a_sigkilled_worker_left_is_cleared_at_the_next_start(tmp_path: Path) -> None:
    worker = subprocess.Popen(
        [sys.executable, "-c", DYING_WORKER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    os.kill(worker.pid, signal.SIGKILL)  # no `finally` runs
    worker.wait(10)
    worker.stdout.close()
    space = ScratchSpace(tmp_path, "video")
    left = space.path_for("task_crash")
    assert (left / "frame.png").stat().st_size == 100_000
    other = ScratchSpace(tmp_path, "asset")
    with other.for_task("task_busy") as busy:
        assert space.clear() == 1  # the next start of the video service
        assert not left.exists() and busy.exists()  # another service's folder is not touched
    assert space.clear() == 0
