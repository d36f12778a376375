"""Fixtures for the deployment tests: paths, the offline kustomize renderer, rendered overlays.

These tests need no Docker, no cluster and no network: compose and Dockerfiles are parsed,
overlays are rendered by `kustomize_render` and validated against the Kubernetes JSON schemas
that the `kubernetes-validate` package ships.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
K8S = REPO / "deploy" / "k8s"
OVERLAYS = ("cpu", "gpu")
SERVICES = ("script", "asset", "storyboard", "tts", "video", "workflow")
DEPLOYABLES = ("gateway", *SERVICES)


def load_local(name: str) -> ModuleType:
    """Import deploy/tests/<name>.py by path (the suite runs with --import-mode=importlib)."""
    key = f"storyreel_deploy_tests_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def kr() -> ModuleType:
    return load_local("kustomize_render")


@pytest.fixture(scope="session")
def rendered(kr: ModuleType) -> dict[str, list[dict[str, Any]]]:
    return {name: kr.render(K8S / "overlays" / name) for name in OVERLAYS}
