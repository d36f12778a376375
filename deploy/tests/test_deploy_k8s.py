"""Every kustomize overlay, rendered offline, validated against Kubernetes' JSON schemas.

Built-in kinds are validated strictly (unknown fields fail) with the schemas that the
`kubernetes-validate` package ships, for the oldest and newest Kubernetes versions we target.
KEDA's ScaledObject is a CRD those schemas lack: it is validated with
schemas/keda-scaledobject.schema.json, a hand-written subset of KEDA's CRD.
Then the properties the platform depends on are checked object by object.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from storyreel_core.bus.jetstream import JOBS_STREAM
from storyreel_core.service_runtime import consumer_spec
from storyreel_core.settings import DEFAULT_PORTS, Settings

HERE = Path(__file__).resolve().parent
K8S = HERE.parent / "k8s"
OVERLAYS = ("cpu", "gpu")
SERVICES = tuple(DEFAULT_PORTS)
DEPLOYABLES = ("gateway", *SERVICES)
GPU_WORKERS = ("asset", "video", "tts")
K8S_VERSIONS = ("1.29", "1.37")  # grpc probes are GA from 1.27
SECRET_KEYS = {"jwt-secret", "mongodb-url", "s3-access-key", "s3-secret-key"}
CALLERS = {  # who may open each service's gRPC port
    "script": {"gateway", "workflow", "storyboard", "video"},
    "workflow": {"gateway"},
    "tts": {"gateway", "workflow", "storyboard"},
    "storyboard": {"gateway", "workflow", "video"},
    "asset": {"gateway", "workflow", "storyboard", "video"},
    "video": {"gateway", "workflow"},
}
FORTHCOMING = {"STORYREEL_METRICS_PORT"}

Obj = dict[str, Any]


def _kubernetes_validate() -> Any:
    """Required, not optional: without it the manifests would go unvalidated."""
    try:
        import kubernetes_validate
    except ImportError:  # pragma: no cover
        pytest.fail("dev dependency kubernetes-validate is missing (offline Kubernetes schemas)")
    return kubernetes_validate


def _find(objs: list[Obj], kind: str, name: str | None = None) -> list[Obj]:
    return [
        o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)
    ]


def _one(objs: list[Obj], kind: str, name: str) -> Obj:
    found = _find(objs, kind, name)
    assert len(found) == 1, f"{kind}/{name}: {len(found)} objects"
    return found[0]


def _container(objs: list[Obj], name: str) -> Obj:
    containers = _one(objs, "Deployment", name)["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: Obj = containers[0]
    return container


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def objs(rendered: dict[str, list[Obj]], overlay: str) -> list[Obj]:
    return rendered[overlay]


# ---- schemas --------------------------------------------------------------------------------


def test_builtin_objects_validate_against_kubernetes_schemas(objs: list[Obj]) -> None:
    kubernetes_validate = _kubernetes_validate()
    checked = 0
    for obj in objs:
        if obj["apiVersion"].startswith("keda.sh/"):
            continue
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                pytest.fail(
                    f"{obj['kind']}/{obj['metadata']['name']} @ {version}: {path}: {e.message}"
                )
        checked += 1
    assert checked >= 40


def test_validation_is_strict() -> None:
    """The schemas really bite: a misspelled field is rejected."""
    kubernetes_validate = _kubernetes_validate()
    bad = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "x"},
        "spec": {"ports": [{"port": 80}], "selectr": {"a": "b"}},
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(bad, K8S_VERSIONS[-1], strict=True)


def _keda_schema() -> Obj:
    schema: Obj = json.loads((HERE / "schemas" / "keda-scaledobject.schema.json").read_text())
    return schema


def test_scaled_objects_validate_against_keda_schema(objs: list[Obj]) -> None:
    validator = jsonschema.Draft202012Validator(_keda_schema())
    scaled = _find(objs, "ScaledObject")
    assert scaled
    for obj in scaled:
        errors = sorted(validator.iter_errors(obj), key=str)
        assert not errors, f"ScaledObject/{obj['metadata']['name']}: {errors[0].message}"


def test_keda_schema_rejects_mistakes(rendered: dict[str, list[Obj]]) -> None:
    validator = jsonschema.Draft202012Validator(_keda_schema())
    good = _find(rendered["cpu"], "ScaledObject")[0]
    missing_consumer = json.loads(json.dumps(good))
    del missing_consumer["spec"]["triggers"][0]["metadata"]["consumer"]
    numeric_threshold = json.loads(json.dumps(good))
    numeric_threshold["spec"]["triggers"][0]["metadata"]["lagThreshold"] = 10
    for bad in (missing_consumer, numeric_threshold):
        assert list(validator.iter_errors(bad))


# ---- what the platform relies on --------------------------------------------------------------


def test_inventory(objs: list[Obj]) -> None:
    for name in DEPLOYABLES:
        for kind in ("Deployment", "Service", "ServiceAccount", "PodDisruptionBudget"):
            _one(objs, kind, name)
    assert {o["metadata"]["name"] for o in _find(objs, "ScaledObject")} == set(SERVICES)
    _one(objs, "ConfigMap", "storyreel-config")
    _one(objs, "Namespace", "storyreel")
    assert not _find(objs, "Secret"), "the Secret must not be part of any kustomization"


def test_namespace_and_labels(objs: list[Obj]) -> None:
    for obj in objs:
        meta = obj["metadata"]
        if obj["kind"] != "Namespace":
            assert meta.get("namespace") == "storyreel", f"{obj['kind']}/{meta['name']}"
        assert meta["labels"]["app.kubernetes.io/part-of"] == "storyreel"


def test_pod_security(objs: list[Obj]) -> None:
    for name in DEPLOYABLES:
        pod = _one(objs, "Deployment", name)["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        assert pod["serviceAccountName"] == name
        assert pod["terminationGracePeriodSeconds"] == 60
        container = _container(objs, name)
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True
        assert sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"]["drop"] == ["ALL"]
        assert "add" not in sc["capabilities"]
        tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
        assert len(tmp) == 1
        volume = next(v for v in pod["volumes"] if v["name"] == tmp[0]["name"])
        assert "emptyDir" in volume
        account = _one(objs, "ServiceAccount", name)
        assert account["automountServiceAccountToken"] is False


def test_resources_and_images(objs: list[Obj], overlay: str) -> None:
    for name in DEPLOYABLES:
        container = _container(objs, name)
        resources = container["resources"]
        for part in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(resources[part]), f"{name} {part}"
        image = container["image"]
        repo, _, tag = image.rpartition(":")
        assert repo == f"storyreel/{name}" and tag and tag != "latest"
        if overlay == "gpu" and name in GPU_WORKERS:
            assert tag.endswith("-gpu")
        else:
            assert not tag.endswith("-gpu")


def test_probes(objs: list[Obj]) -> None:
    for name in DEPLOYABLES:
        container = _container(objs, name)
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            spec = container[probe]
            if name == "gateway":
                assert spec["httpGet"] == {"path": "/health/live", "port": "http"}
            else:
                assert spec["grpc"] == {"port": DEFAULT_PORTS[name]}, f"{name} {probe}"
        ports = {p["name"]: p["containerPort"] for p in container["ports"]}
        if name == "gateway":
            assert ports == {"http": 5678}
        else:
            assert ports == {"grpc": DEFAULT_PORTS[name], "metrics": 9464}


def test_environment(objs: list[Obj], overlay: str) -> None:
    known = {f"STORYREEL_{field.upper()}" for field in Settings.model_fields} | FORTHCOMING
    config = _one(objs, "ConfigMap", "storyreel-config")["data"]
    assert set(config) <= known, set(config) - known
    assert config["STORYREEL_ENVIRONMENT"] == "production"
    for callee, port in DEFAULT_PORTS.items():
        assert config[f"STORYREEL_{callee.upper()}_ADDR"].endswith(f":{port}")
    for name in DEPLOYABLES:
        container = _container(objs, name)
        env_from: list[Obj] = [{"configMapRef": {"name": "storyreel-config"}}]
        if overlay == "gpu":  # the provider keys, as the variables the providers file names
            env_from.append({"secretRef": {"name": "storyreel-provider-keys", "optional": True}})
        assert container["envFrom"] == env_from
        env = {e["name"]: e for e in container["env"]}
        assert set(env) <= known
        refs = {
            e["valueFrom"]["secretKeyRef"]["key"]
            for e in env.values()
            if "valueFrom" in e and e["valueFrom"]["secretKeyRef"]["name"] == "storyreel-secrets"
        }
        expected = SECRET_KEYS if name == "gateway" else SECRET_KEYS - {"jwt-secret"}
        assert refs == expected, name
        if name == "gateway":
            assert env["STORYREEL_HOST"]["value"] == "0.0.0.0"
        else:
            assert env["STORYREEL_GRPC_HOST"]["value"] == "0.0.0.0"
            assert env["STORYREEL_GRPC_PORT"]["value"] == str(DEFAULT_PORTS[name])


def test_services_select_their_pods(objs: list[Obj]) -> None:
    for name in DEPLOYABLES:
        deployment = _one(objs, "Deployment", name)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod_labels.items()
        service = _one(objs, "Service", name)
        assert service["spec"]["type"] == "ClusterIP"
        assert service["spec"]["selector"].items() <= pod_labels.items()
        ports = {p["name"]: p for p in service["spec"]["ports"]}
        if name == "gateway":
            assert ports["http"]["port"] == 5678
        else:
            assert ports["grpc"]["port"] == DEFAULT_PORTS[name]
            assert ports["grpc"]["targetPort"] == "grpc"
            assert ports["metrics"]["port"] == 9464
        pdb = _one(objs, "PodDisruptionBudget", name)
        assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        assert pdb["spec"].get("maxUnavailable") == 1 or pdb["spec"].get("minAvailable") == 1
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/path"] == "/metrics"
        assert annotations["prometheus.io/port"] == ("5678" if name == "gateway" else "9464")


def _pod_labels(objs: list[Obj], name: str) -> dict[str, str]:
    labels: dict[str, str] = _one(objs, "Deployment", name)["spec"]["template"]["metadata"][
        "labels"
    ]
    return labels


def _selects(selector: Obj, labels: dict[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expr in selector.get("matchExpressions", []):
        value = labels.get(expr["key"])
        if expr["operator"] == "In" and value not in expr["values"]:
            return False
        if expr["operator"] == "NotIn" and value in expr["values"]:
            return False
        if expr["operator"] == "Exists" and value is None:
            return False
        if expr["operator"] == "DoesNotExist" and value is not None:
            return False
    return True


def _allowed_sources(objs: list[Obj], target: str, port: int) -> list[Obj]:
    """The `from` peers of every ingress rule that opens `port` on `target`'s pods."""
    peers: list[Obj] = []
    labels = _pod_labels(objs, target)
    for policy in _find(objs, "NetworkPolicy"):
        if not _selects(policy["spec"]["podSelector"], labels):
            continue
        for rule in policy["spec"].get("ingress", []):
            ports = rule.get("ports")
            if ports is not None and not any(p.get("port") == port for p in ports):
                continue
            peers.extend(rule.get("from") or [{"anywhere": True}])
    return peers


def test_network_policies(objs: list[Obj]) -> None:
    deny = _one(objs, "NetworkPolicy", "default-deny-ingress")["spec"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress"]
    assert "ingress" not in deny
    assert _allowed_sources(objs, "gateway", 5678) == [{"anywhere": True}]
    for name, callers in CALLERS.items():
        peers = _allowed_sources(objs, name, DEFAULT_PORTS[name])
        allowed = set()
        for peer in peers:
            assert set(peer) == {"podSelector"}, f"{name}: gRPC open to {peer}"
            allowed |= {
                c for c in DEPLOYABLES if _selects(peer["podSelector"], _pod_labels(objs, c))
            }
        assert allowed == callers, name
        metrics = _allowed_sources(objs, name, 9464)
        assert metrics == [
            {"namespaceSelector": {"matchLabels": {"storyreel.io/monitoring": "true"}}}
        ], name


def test_autoscaling_on_jetstream_lag(objs: list[Obj]) -> None:
    settings = Settings()
    for obj in _find(objs, "ScaledObject"):
        name = obj["metadata"]["name"]
        spec = obj["spec"]
        assert spec["scaleTargetRef"]["name"] == name
        _one(objs, "Deployment", name)
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
        (trigger,) = spec["triggers"]
        assert trigger["type"] == "nats-jetstream"
        meta = trigger["metadata"]
        assert meta["natsServerMonitoringEndpoint"] == "nats.storyreel.svc:8222"
        assert meta["account"] == "$G"
        # Same stream and durable consumer the service's JobRunner pulls from.
        assert meta["stream"] == JOBS_STREAM
        assert meta["consumer"] == consumer_spec(settings, name).durable
        assert int(meta["lagThreshold"]) >= 1


def test_gpu_overlay_places_gpu_workers(rendered: dict[str, list[Obj]]) -> None:
    for overlay, objs in rendered.items():
        for name in DEPLOYABLES:
            pod = _one(objs, "Deployment", name)["spec"]["template"]["spec"]
            limits = _container(objs, name)["resources"]["limits"]
            if overlay == "gpu" and name in GPU_WORKERS:
                assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
                assert {
                    "key": "nvidia.com/gpu",
                    "operator": "Exists",
                    "effect": "NoSchedule",
                } in pod["tolerations"]
                assert limits["nvidia.com/gpu"] == 1
                assert {"cpu", "memory"} <= set(limits)
            else:
                assert "nodeSelector" not in pod and "tolerations" not in pod
                assert "nvidia.com/gpu" not in limits


def test_gpu_overlay_runs_comfyui_for_asset_and_video(rendered: dict[str, list[Obj]]) -> None:
    """ComfyUI on a GPU node with its model volume, reachable only from asset and video; the
    providers file (a ConfigMap) points every deployable at it; keys come from a Secret."""
    from storyreel_core.providers.config import parse_providers

    assert not _find(rendered["cpu"], "Deployment", "comfyui")
    objs = rendered["gpu"]
    deployment = _one(objs, "Deployment", "comfyui")
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    assert container["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert container["image"] == "storyreel/comfyui:0.1.0-gpu"
    assert "initContainers" not in pod  # nothing fetches weights before (or when) it starts
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    models = next(m for m in container["volumeMounts"] if m["mountPath"] == "/opt/comfyui/models")
    assert models["readOnly"] is True
    claim = volumes[models["name"]]["persistentVolumeClaim"]["claimName"]
    _one(objs, "PersistentVolumeClaim", claim)
    service = _one(objs, "Service", "comfyui")
    assert service["spec"]["selector"].items() <= _pod_labels(objs, "comfyui").items()
    (port,) = service["spec"]["ports"]
    assert port["port"] == 8188
    # Only asset and video pods may open it (the namespace denies everything else).
    allowed = set()
    for peer in _allowed_sources(objs, "comfyui", 8188):
        assert set(peer) == {"podSelector"}, peer
        allowed |= {c for c in DEPLOYABLES if _selects(peer["podSelector"], _pod_labels(objs, c))}
    assert allowed == {"asset", "video"}
    # The providers file: valid, and its comfyui provider is that Service.
    text = _one(objs, "ConfigMap", "storyreel-providers")["data"]["providers.toml"]
    providers = {p.name: p.config for p in parse_providers(text, environ={})}
    assert providers["comfyui"].base_url == f"http://comfyui:{port['port']}"
    assert providers["comfyui"].models("video") and providers["comfyui"].models("image")
    config = _one(objs, "ConfigMap", "storyreel-config")["data"]
    path = Path(config["STORYREEL_PROVIDERS"])
    for name in DEPLOYABLES:
        mounts = {m["mountPath"]: m for m in _container(objs, name)["volumeMounts"]}
        mount = mounts[str(path.parent)]
        volume = next(
            v
            for v in _one(objs, "Deployment", name)["spec"]["template"]["spec"]["volumes"]
            if v["name"] == mount["name"]
        )
        assert volume["configMap"]["name"] == "storyreel-providers", name
        assert path.name == "providers.toml"
    example = yaml.safe_load((K8S / "provider-keys.example.yaml").read_text())
    assert example["metadata"]["name"] == "storyreel-provider-keys"
    assert not _find(objs, "Secret")


def test_replicas_set_by_overlays(objs: list[Obj]) -> None:
    for name in DEPLOYABLES:
        replicas = _one(objs, "Deployment", name)["spec"]["replicas"]
        assert replicas >= (2 if name in ("gateway", "workflow") else 1)


def test_autoscaling_is_a_component_of_both_overlays() -> None:
    component = yaml.safe_load(
        (K8S / "components" / "autoscaling" / "kustomization.yaml").read_text()
    )
    assert component["kind"] == "Component"
    for overlay in OVERLAYS:
        k = yaml.safe_load((K8S / "overlays" / overlay / "kustomization.yaml").read_text())
        assert "../../components/autoscaling" in k["components"]
        assert k["namespace"] == "storyreel"
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    assert base["namespace"] == "storyreel"
    assert {i["name"] for i in base["images"]} == {f"storyreel/{n}" for n in DEPLOYABLES}


def test_example_secret_is_outside_every_kustomization(rendered: dict[str, list[Obj]]) -> None:
    example = yaml.safe_load((K8S / "secret.example.yaml").read_text())
    assert example["kind"] == "Secret" and example["metadata"]["name"] == "storyreel-secrets"
    assert set(example["stringData"]) == SECRET_KEYS
    for path in K8S.rglob("kustomization.yaml"):
        k = yaml.safe_load(path.read_text())
        entries = [*k.get("resources", []), *(p.get("path", "") for p in k.get("patches", []))]
        assert not any(e.endswith("secret.example.yaml") for e in entries), path
    kubernetes_validate = _kubernetes_validate()
    kubernetes_validate.validate(example, K8S_VERSIONS[-1], strict=True)
