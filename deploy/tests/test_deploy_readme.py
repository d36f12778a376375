"""The README's "Run distributed" section keeps one environment table row per Settings field."""

from __future__ import annotations

import re
from pathlib import Path

from storyreel_core.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_environment_table_covers_every_setting() -> None:
    rows = re.findall(r"^\| `(STORYREEL_[A-Z0-9_]+)` \|", README.read_text(), re.M)
    assert len(rows) == len(set(rows)), "one row per variable"
    expected = {f"STORYREEL_{field.upper()}" for field in Settings.model_fields}
    missing = expected - set(rows)
    assert not missing, f"README.md lacks {sorted(missing)}"
    assert set(rows) - expected <= {"STORYREEL_METRICS_PORT"}


def test_documents_both_ways_to_run() -> None:
    text = README.read_text()
    for needle in (
        "make up",
        "docker compose up --build -d",
        "kubectl apply -k deploy/k8s/overlays/cpu",
        "deploy/k8s/overlays/gpu",
        "create secret generic storyreel-secrets",
        "KEDA",
    ):
        assert needle in text, needle
