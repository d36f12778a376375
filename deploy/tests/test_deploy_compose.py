"""docker-compose.yml: structure, secrets, health-gated start order, and the compose spec.

The compose file is interpolated like `docker compose` does (`${VAR}`, `${VAR:-default}`,
`${VAR:?error}`, `$$`) and then, when the `compose-spec` package (a Rust compose-spec parser,
offline) is installed, validated by it; the structural checks run either way.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from storyreel_core.settings import DEFAULT_PORTS, Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
SERVICES = tuple(DEFAULT_PORTS)
DEPLOYABLES = ("gateway", *SERVICES)
BACKING = ("mongo", "minio", "minio-init", "nats")
REQUIRED_SECRETS = ("STORYREEL_JWT_SECRET", "MINIO_ROOT_PASSWORD", "MONGO_ROOT_PASSWORD")
TEST_ENV = {
    "STORYREEL_JWT_SECRET": "x" * 48,
    "MINIO_ROOT_PASSWORD": "minio-password-for-tests",
    "MONGO_ROOT_PASSWORD": "mongo-password-for-tests",
}
# STORYREEL_* variables the deployment sets that Settings does not read yet (announced).
FORTHCOMING = {"STORYREEL_METRICS_PORT"}

_VAR = re.compile(
    r"\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])((?:[^{}]|\{[^{}]*\})*))?\}"
    r"|([A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(ValueError):
    pass


def interpolate(value: Any, env: dict[str, str]) -> Any:
    """Compose-style interpolation of every string in `value`."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group(1):
            return "$"
        name = m.group(2) or m.group(5)
        op, arg = m.group(3), m.group(4) or ""
        val = env.get(name)
        unset = (not val) if op in (":-", ":?") else val is None
        if op in (":-", "-"):
            return arg if unset else str(val)
        if op in (":?", "?"):
            if unset:
                raise MissingVariable(f"{name}: {arg}")
            return str(val)
        return val or ""

    return _VAR.sub(sub, value)


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = interpolate(raw, TEST_ENV)
    return result


def test_every_service_is_there(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) == set(DEPLOYABLES) | set(BACKING)


def test_compose_spec_validation(compose: dict[str, Any]) -> None:
    compose_spec = pytest.importorskip("compose_spec")
    parsed = compose_spec.PyCompose.from_json(json.dumps(compose))
    parsed.validate()
    assert set(parsed.service_names()) == set(compose["services"])


def test_compose_spec_catches_a_broken_file(compose: dict[str, Any]) -> None:
    """The validator is real: a wrong depends_on condition is refused."""
    compose_spec = pytest.importorskip("compose_spec")
    broken = json.loads(json.dumps(compose))
    broken["services"]["gateway"]["depends_on"]["workflow"]["condition"] = "service_ready"
    with pytest.raises(ValueError):
        compose_spec.PyCompose.from_json(json.dumps(broken)).validate()


def test_required_secrets_use_error_syntax(raw: dict[str, Any]) -> None:
    text = COMPOSE.read_text()
    for name in REQUIRED_SECRETS:
        uses = re.findall(r"(?<!\$)\$\{" + name + r"(:?[-?]?)", text)
        assert uses, f"{name} is not used"
        assert set(uses) == {":?"}, f"{name} must always be ${{{name}:?...}}, never defaulted"
    for name in REQUIRED_SECRETS:
        env = {k: v for k, v in TEST_ENV.items() if k != name}
        with pytest.raises(MissingVariable, match=name):
            interpolate(raw, env)
    gateway_env = raw["services"]["gateway"]["environment"]
    assert gateway_env["STORYREEL_JWT_SECRET"].startswith("${STORYREEL_JWT_SECRET:?")


def test_healthchecks(compose: dict[str, Any]) -> None:
    for name, svc in compose["services"].items():
        if name == "minio-init":
            assert "healthcheck" not in svc
            continue
        if name in DEPLOYABLES:
            # Defined by the image's HEALTHCHECK; compose must not disable it.
            assert not (svc.get("healthcheck") or {}).get("disable"), name
            assert "build" in svc
            continue
        test = svc["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL"), name
    assert any(
        "8222/healthz" in part for part in compose["services"]["nats"]["healthcheck"]["test"]
    )


def test_nats_runs_jetstream_on_a_volume(compose: dict[str, Any]) -> None:
    nats = compose["services"]["nats"]
    command = nats["command"]
    assert "-js" in command and command[command.index("-sd") + 1] == "/data"
    assert "8222" in command
    assert any(v.endswith(":/data") for v in nats["volumes"])


def test_depends_on_conditions(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in DEPLOYABLES:
        deps = services[name]["depends_on"]
        assert deps["minio-init"]["condition"] == "service_completed_successfully"
        for backing in ("mongo", "minio", "nats"):
            assert deps[backing]["condition"] == "service_healthy", (name, backing)
        for dep, cond in deps.items():
            assert dep in services, f"{name} depends on unknown {dep}"
            assert cond["condition"] in ("service_healthy", "service_completed_successfully")
    gateway_deps = services["gateway"]["depends_on"]
    for callee in ("script", "workflow", "tts"):
        assert gateway_deps[callee]["condition"] == "service_healthy"
    for callee in ("script", "storyboard", "asset", "tts", "video"):
        assert services["workflow"]["depends_on"][callee]["condition"] == "service_healthy"
    assert services["minio-init"]["depends_on"]["minio"]["condition"] == "service_healthy"
    assert services["minio-init"]["restart"] == "no"


def test_only_gateway_and_minio_publish_ports(compose: dict[str, Any]) -> None:
    published = {name for name, svc in compose["services"].items() if svc.get("ports")}
    assert published == {"gateway", "minio"}
    assert compose["services"]["gateway"]["ports"] == ["5678:5678"]
    assert compose["services"]["minio"]["ports"] == ["9000:9000"]
    for name in DEPLOYABLES:
        env = compose["services"][name]["environment"]
        assert env["STORYREEL_S3_PUBLIC_ENDPOINT"] == "localhost:9000"


def test_named_volumes(compose: dict[str, Any]) -> None:
    declared = set(compose["volumes"])
    assert declared == {"mongo-data", "minio-data", "nats-data"}
    used = set()
    for svc in compose["services"].values():
        for volume in svc.get("volumes") or []:
            source = volume.split(":", 1)[0]
            assert not source.startswith((".", "/")), f"bind mount {volume}: use a named volume"
            used.add(source)
    assert used == declared


def test_deployables_are_hardened_and_wired(compose: dict[str, Any]) -> None:
    for name in DEPLOYABLES:
        svc = compose["services"][name]
        dockerfile = "gateway/Dockerfile" if name == "gateway" else f"services/{name}/Dockerfile"
        assert svc["build"] == {"context": ".", "dockerfile": dockerfile}
        assert (REPO / dockerfile).is_file()
        assert svc["read_only"] is True
        assert any(t.startswith("/tmp") for t in svc["tmpfs"])
        assert svc["cap_drop"] == ["ALL"]
        assert svc["stop_signal"] == "SIGTERM"
        env = svc["environment"]
        assert env["STORYREEL_ENVIRONMENT"] == "production"
        assert env["STORYREEL_NATS_URL"] == "nats://nats:4222"
        assert env["STORYREEL_S3_ENDPOINT"] == "minio:9000"
        assert env["STORYREEL_MONGODB_URL"].startswith("mongodb://")
        for callee, port in DEFAULT_PORTS.items():
            assert env[f"STORYREEL_{callee.upper()}_ADDR"] == f"{callee}:{port}"
        if name == "gateway":
            assert env["STORYREEL_HOST"] == "0.0.0.0"
            assert env["STORYREEL_PORT"] == "5678"
            assert len(env["STORYREEL_JWT_SECRET"]) >= 32
        else:
            assert env["STORYREEL_GRPC_HOST"] == "0.0.0.0"
            assert env["STORYREEL_GRPC_PORT"] == str(DEFAULT_PORTS[name])


def test_environment_names_are_real_settings(compose: dict[str, Any]) -> None:
    known = {f"STORYREEL_{field.upper()}" for field in Settings.model_fields} | FORTHCOMING
    for name in DEPLOYABLES:
        for key in compose["services"][name]["environment"]:
            if key.startswith("STORYREEL_"):
                assert key in known, f"{name}: {key} is not a Settings field"


def test_minio_init_creates_the_bucket(compose: dict[str, Any]) -> None:
    init = compose["services"]["minio-init"]
    assert init["image"].startswith("minio/mc:RELEASE.")
    script = " ".join(init["command"])
    assert "mc mb --ignore-existing" in script
    # `$$` in the file reaches the container as `$`: variables expand there, not in compose.
    assert "${BUCKET}" in script


def test_images_are_pinned(compose: dict[str, Any]) -> None:
    for name in BACKING:
        image = compose["services"][name]["image"]
        assert ":" in image and not image.endswith(":latest"), image


def test_interpolation_semantics() -> None:
    env = {"SET": "v", "EMPTY": ""}
    assert interpolate("${SET:-d}|${EMPTY:-d}|${EMPTY-d}|${UNSET-d}|$$X|$SET", env) == "v|d||d|$X|v"
    with pytest.raises(MissingVariable):
        interpolate("${EMPTY:?no}", env)
    assert interpolate("${EMPTY?no}", env) == ""
