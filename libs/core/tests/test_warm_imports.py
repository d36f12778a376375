"""Start-up imports run in a worker thread and never hold the service's start."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest

from storyreel_core.warm_imports import import_in_background, imports_done


async def test_modules_are_imported_off_the_event_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "warm_probe_heavy.py").write_text(
        "import threading\nIMPORTED_ON = threading.get_ident()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "warm_probe_heavy", raising=False)
    step = import_in_background("warm_probe_heavy", "warm_probe_not_installed")
    await step()  # returns at once; the import goes on in the executor
    await imports_done()
    module = sys.modules["warm_probe_heavy"]
    assert threading.get_ident() != module.IMPORTED_ON
    assert "warm_probe_not_installed" not in sys.modules  # logged, not raised
