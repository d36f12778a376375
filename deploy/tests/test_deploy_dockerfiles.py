"""Lint the essentials of every Dockerfile (no Docker engine needed)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from storyreel_core.settings import DEFAULT_PORTS

REPO = Path(__file__).resolve().parents[2]
SERVICES = tuple(DEFAULT_PORTS)
DOCKERFILES = {"gateway": REPO / "gateway" / "Dockerfile"} | {
    name: REPO / "services" / name / "Dockerfile" for name in SERVICES
}
PINNED_IMAGE = re.compile(
    r"^[a-z0-9./-]+:(?!latest\b)[0-9]+\.[0-9]+\.[0-9]+[A-Za-z0-9._-]*(@sha256:[0-9a-f]{64})?$"
)


class Dockerfile:
    def __init__(self, path: Path) -> None:
        text = path.read_text()
        joined = re.sub(r"\\\n", " ", text)
        self.instructions: list[tuple[str, str]] = []
        for line in joined.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            op, _, rest = line.partition(" ")
            self.instructions.append((op.upper(), rest.strip()))
        self.args = {
            k: v
            for op, rest in self.instructions
            if op == "ARG" and "=" in rest
            for k, v in [rest.split("=", 1)]
        }
        # stages: list of (FROM args, instructions of the stage)
        self.stages: list[tuple[str, list[tuple[str, str]]]] = []
        for op, rest in self.instructions:
            if op == "FROM":
                self.stages.append((rest, []))
            elif self.stages:
                self.stages[-1][1].append((op, rest))

    @property
    def final(self) -> list[tuple[str, str]]:
        return self.stages[-1][1]

    def final_values(self, op: str) -> list[str]:
        return [rest for o, rest in self.final if o == op]

    def env(self) -> dict[str, str]:
        env: dict[str, str] = {}
        for rest in self.final_values("ENV"):
            for key, value in re.findall(r'([A-Z_][A-Z0-9_]*)=("[^"]*"|\S+)', rest):
                env[key] = value.strip('"')
        return env


@pytest.fixture(params=sorted(DOCKERFILES), scope="module")
def name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def dockerfile(name: str) -> Dockerfile:
    return Dockerfile(DOCKERFILES[name])


def _image(ref: str, args: dict[str, str]) -> str:
    ref = ref.split()[0]
    return re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], ref)


def test_multi_stage_with_pinned_base(dockerfile: Dockerfile) -> None:
    assert len(dockerfile.stages) >= 2
    froms = [f for f, _ in dockerfile.stages]
    assert re.search(r"\bAS builder\b", froms[0], re.I)
    assert not re.search(r"\bAS builder\b", froms[-1], re.I)
    for ref in froms:
        image = _image(ref, dockerfile.args)
        assert PINNED_IMAGE.match(image), f"base image not pinned by version tag: {image}"
        assert ":latest" not in image


def test_builder_syncs_the_locked_package_with_uv(name: str, dockerfile: Dockerfile) -> None:
    builder = dockerfile.stages[0][1]
    runs = " ".join(rest for op, rest in builder if op == "RUN")
    assert re.search(r'pip install "?uv==\d+\.\d+\.\d+"?', runs), "uv must come from PyPI, pinned"
    syncs = re.findall(r"uv sync ([^&;]*)", runs)
    assert syncs
    for sync in syncs:
        for flag in ("--frozen", "--no-dev", "--no-editable", f"--package storyreel-{name}"):
            assert flag in sync, f"`uv sync {sync}` lacks {flag}"
    env = " ".join(rest for op, rest in builder if op == "ENV")
    assert "UV_PROJECT_ENVIRONMENT=/app/.venv" in env
    runtime_copies = dockerfile.final_values("COPY")
    assert any("--from=builder" in c and "/app/.venv" in c for c in runtime_copies)


def test_builder_copies_every_workspace_manifest(dockerfile: Dockerfile) -> None:
    """`uv sync --frozen` needs every workspace member's pyproject.toml to exist."""
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    members: set[str] = set()
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        members |= {str(p.parent.relative_to(REPO)) for p in REPO.glob(f"{pattern}/pyproject.toml")}
    copies = " ".join(rest for op, rest in dockerfile.stages[0][1] if op == "COPY")
    for member in members:
        assert f"{member}/pyproject.toml" in copies, (
            f"builder does not copy {member}/pyproject.toml"
        )
    assert "uv.lock" in copies


def test_runs_as_non_root(dockerfile: Dockerfile) -> None:
    users = dockerfile.final_values("USER")
    assert users, "final stage has no USER"
    user = users[-1].split(":")[0]
    assert user == "10001"
    # USER must be the last word on the user: nothing after it switches back.
    ops = [op for op, _ in dockerfile.final]
    assert "RUN" not in ops[ops.index("USER") :]


def test_entrypoint_is_the_console_script(name: str, dockerfile: Dockerfile) -> None:
    entry = json.loads(dockerfile.final_values("ENTRYPOINT")[-1])
    assert entry == [f"storyreel-{name}"]
    project_dir = REPO / "gateway" if name == "gateway" else REPO / "services" / name
    scripts = tomllib.loads((project_dir / "pyproject.toml").read_text())["project"]["scripts"]
    assert f"storyreel-{name}" in scripts


def test_ports_env_and_stop_signal(name: str, dockerfile: Dockerfile) -> None:
    env = dockerfile.env()
    exposed = {p for rest in dockerfile.final_values("EXPOSE") for p in rest.split()}
    assert dockerfile.final_values("STOPSIGNAL") == ["SIGTERM"]
    assert env["STORYREEL_ENVIRONMENT"] == "production"
    assert env["STORYREEL_DATA_DIR"].startswith("/tmp/"), "only /tmp is writable"
    assert env["HOME"] == "/tmp"
    if name == "gateway":
        assert exposed == {"5678"}
        assert env["STORYREEL_HOST"] == "0.0.0.0"
        assert env["STORYREEL_PORT"] == "5678"
    else:
        port = str(DEFAULT_PORTS[name])
        assert exposed == {port, "9464"}
        assert env["STORYREEL_GRPC_HOST"] == "0.0.0.0"
        assert env["STORYREEL_GRPC_PORT"] == port
        assert env["STORYREEL_METRICS_PORT"] == "9464"


def healthcheck_code(dockerfile: Dockerfile) -> str:
    checks = dockerfile.final_values("HEALTHCHECK")
    assert len(checks) == 1
    cmd = checks[0].split("CMD", 1)[1].strip()
    argv = json.loads(cmd)
    assert argv[:2] == ["python", "-c"]
    return str(argv[2])


def test_healthcheck(name: str, dockerfile: Dockerfile) -> None:
    code = healthcheck_code(dockerfile)
    compile(code, "HEALTHCHECK", "exec")
    if name == "gateway":
        assert "urllib.request" in code and "/health" in code
    else:
        assert "grpc_health.v1" in code and "service=''" in code and "SERVING" in code
        assert "127.0.0.1" in code and "STORYREEL_GRPC_PORT" in code


def test_cjk_fonts_only_where_needed(name: str, dockerfile: Dockerfile) -> None:
    runs = " ".join(dockerfile.final_values("RUN"))
    if name == "video":
        assert "fonts-noto-cjk" in runs
        assert "--no-install-recommends" in runs and "rm -rf /var/lib/apt/lists" in runs


def test_dockerignore_keeps_context_clean() -> None:
    lines = {
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for entry in ("**/.venv", ".git", "data", "**/__pycache__", "**/.mypy_cache", "**/.ruff_cache"):
        assert entry in lines
    # The builder needs these: never ignore them.
    for needed in ("uv.lock", "pyproject.toml", "libs", "services", "gateway", "cli"):
        assert needed not in lines
