"""The offline kustomize renderer against output of real kustomize.

fixtures/kustomize/expected.yaml was produced by Go kustomize v5 (through pykustomize 0.1.4)
from fixtures/kustomize/ov: resources, a component with an inline patch and `labels`,
commonLabels, commonAnnotations, namespace (incl. a Namespace object), replicas, images
(newName/newTag/digest) and strategic-merge patches (merge by name/containerPort, list
reordering, `null` deletion). When pykustomize is importable (it needs Python >= 3.14), every
overlay of deploy/k8s is compared with real kustomize too.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures" / "kustomize"
K8S = HERE.parent / "k8s"


def _by_key(kr: ModuleType, docs: list[dict[str, Any]]) -> dict[Any, Any]:
    return {kr.object_key(d): json.loads(json.dumps(d)) for d in docs}


def test_matches_real_kustomize_on_the_fixture(kr: ModuleType) -> None:
    expected = [d for d in yaml.safe_load_all((FIXTURES / "expected.yaml").read_text()) if d]
    assert _by_key(kr, kr.render(FIXTURES / "ov")) == _by_key(kr, expected)


def test_strategic_merge(kr: ModuleType) -> None:
    original = {
        "containers": [{"name": "a", "env": [{"name": "X", "value": "1"}]}, {"name": "b"}],
        "tolerations": [{"key": "old"}],
        "drop": 1,
    }
    patch = {
        "containers": [{"name": "a", "env": [{"name": "Y", "value": "2"}]}],
        "tolerations": [{"key": "new"}],
        "drop": None,
    }
    assert kr.strategic_merge(original, patch) == {
        "containers": [
            {"name": "a", "env": [{"name": "Y", "value": "2"}, {"name": "X", "value": "1"}]},
            {"name": "b"},
        ],
        "tolerations": [{"key": "new"}],
    }


def test_split_image(kr: ModuleType) -> None:
    assert kr.split_image("reg.io:5000/a/b:1.2@sha256:ab") == (
        "reg.io:5000/a/b",
        "1.2",
        "sha256:ab",
    )
    assert kr.split_image("reg.io:5000/a/b") == ("reg.io:5000/a/b", None, None)
    assert kr.split_image("b:1") == ("b", "1", None)


def _write(directory: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return directory


DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web}]}
"""


@pytest.mark.parametrize(
    "kustomization",
    [
        "resources: [d.yaml]\nconfigMapGenerator: [{name: x, literals: [a=b]}]\n",
        "resources: [d.yaml]\nnamePrefix: p-\n",
        "resources: [d.yaml]\npatches: [{path: p.yaml, target: {kind: Deployment}}]\n",
        "resources: [d.yaml]\npatches: [{patch: '[{op: add, path: /a, value: 1}]'}]\n",
        "resources: [d.yaml]\nimages: [{name: web, newTag: '1', tagSuffix: x}]\n",
    ],
)
def test_refuses_what_it_does_not_implement(
    kr: ModuleType, tmp_path: Path, kustomization: str
) -> None:
    _write(tmp_path, {"kustomization.yaml": kustomization, "d.yaml": DEPLOYMENT, "p.yaml": ""})
    with pytest.raises(kr.Unsupported):
        kr.render(tmp_path)


@pytest.mark.parametrize(
    "kustomization",
    [
        "resources: [missing.yaml]\n",
        "resources: [d.yaml, d.yaml]\n",
        "resources: [d.yaml]\nreplicas: [{name: nope, count: 2}]\n",
        "resources: [d.yaml]\npatches: [{path: p.yaml}]\n",
        "resources: [d.yaml]\ncomponents: [comp]\n",
    ],
)
def test_reports_broken_kustomizations(kr: ModuleType, tmp_path: Path, kustomization: str) -> None:
    patch = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: other}\nspec: {replicas: 2}\n"
    _write(
        tmp_path,
        {
            "kustomization.yaml": kustomization,
            "d.yaml": DEPLOYMENT,
            "p.yaml": patch,
            "comp/kustomization.yaml": "kind: Kustomization\n",
        },
    )
    with pytest.raises(kr.RenderError):
        kr.render(tmp_path)


@pytest.mark.parametrize("overlay", ["cpu", "gpu"])
def test_overlays_match_real_kustomize_when_available(kr: ModuleType, overlay: str) -> None:
    pykustomize = pytest.importorskip("pykustomize")
    result = asyncio.run(pykustomize.build(K8S / "overlays" / overlay))
    real = [d for d in yaml.safe_load_all(result.yaml) if d]
    assert _by_key(kr, kr.render(K8S / "overlays" / overlay)) == _by_key(kr, real)
