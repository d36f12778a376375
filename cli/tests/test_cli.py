"""The `storyreel` command as a user meets it: addresses, one-line errors, login, render.

The commands run in-process through Typer's runner where the environment they read at call
time is enough, and as real subprocesses where it is read at import (`up --help`). Login,
register and render talk to a real embedded platform on a free port.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyreel_cli import credentials
from storyreel_cli.main import app
from storyreel_cli.platform_process import PlatformProcess
from storyreel_core.bus.nats_server import free_port

STORYREEL = str(Path(sys.executable).parent / "storyreel")
COMMANDS = ["up", "login", "register", "logout", "render"]


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private config dir through XDG_CONFIG_HOME, as platformdirs reads it on Linux."""
    monkeypatch.delenv("STORYREEL_CONFIG_DIR", raising=False)
    monkeypatch.delenv("STORYREEL_TOKEN", raising=False)
    monkeypatch.delenv("STORYREEL_URL", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "storyreel"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformProcess]:
    # A machine too busy for JetStream's 5 s API timeouts makes the platform exit at start-up;
    # that is the machine, not the CLI, so try again before giving up.
    for attempt in range(3):
        try:
            proc = PlatformProcess(tmp_path_factory.mktemp("cli-platform")).start(timeout=240)
            break
        except RuntimeError:
            if attempt == 2:
                raise
    yield proc
    proc.stop()


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    done = subprocess.run(
        [STORYREEL, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert f"Example: storyreel {command}" in result.output


def test_up_help_shows_the_port_it_will_listen_on() -> None:
    code, stdout, _ = _run("up", "--help", env={"STORYREEL_PORT": "5702"})
    assert code == 0
    assert "http://127.0.0.1:5702" in stdout
    assert "5678" not in stdout


def test_storyreel_port_and_url_pick_the_gateway_and_a_dead_one_is_one_line(
    tmp_path: Path,
) -> None:
    """With nothing listening, the error names the address it tried, in one line."""
    story = tmp_path / "story.txt"
    story.write_text("一个人走进了雨夜。", encoding="utf-8")
    runner = CliRunner()
    dead, other = free_port(), free_port()
    env = {"STORYREEL_PORT": str(dead), "STORYREEL_TOKEN": "t", "STORYREEL_URL": ""}
    cases = [
        ([], env, f"http://127.0.0.1:{dead}"),
        ([], {**env, "STORYREEL_URL": f"http://127.0.0.1:{other}"}, f"http://127.0.0.1:{other}"),
        (["--url", f"http://localhost:{dead}"], env, f"http://localhost:{dead}"),
    ]
    for extra, case_env, address in cases:
        result = runner.invoke(app, ["render", str(story), *extra], env=case_env)
        assert result.exit_code == 1
        assert result.output.strip().count("\n") == 0 and "Traceback" not in result.output
        assert f"cannot reach StoryReel at {address}" in result.output


def test_render_without_login_says_so_and_creates_no_account(
    config_dir: Path, platform: PlatformProcess
) -> None:
    result = CliRunner().invoke(app, ["render", "-", "--url", platform.url], input="雨夜。")
    assert result.exit_code == 1
    assert "not logged in" in result.output and "storyreel login" in result.output
    assert not config_dir.exists()


def test_login_keeps_the_token_private_and_render_saves_srt_and_thumbnail(
    config_dir: Path, platform: PlatformProcess, tmp_path: Path
) -> None:
    runner = CliRunner()
    url = platform.url
    registered = runner.invoke(
        app,
        ["register", "--url", url, "--username", "mei", "--email", "mei@example.com"],
        input="a-long-password\na-long-password\n",
    )
    assert registered.exit_code == 0, registered.output
    path = config_dir / credentials.FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert "a-long-password" not in path.read_text()

    bad = runner.invoke(app, ["login", "--url", url, "--username", "mei"], input="wrong-pass\n")
    assert bad.exit_code == 1 and "login failed" in bad.output

    good = runner.invoke(
        app, ["login", "--url", url, "--username", "mei"], input="a-long-password\n"
    )
    assert good.exit_code == 0, good.output
    stored = credentials.load(url)
    assert stored and stored["username"] == "mei" and stored["access_token"]

    story = "林晚秋站在桥上等人。沈清远骑马回来，说：“晚秋，我回来了。”"
    target = tmp_path / "out" / "drama.mp4"
    args = ["render", "-", "--url", url, "-o", str(target), "--scenes", "1"]
    args += ["--resolution", "360p", "--fps", "12", "--no-music"]
    # The provider choices reach /pipeline/render: an unknown one is the gateway's 400 naming
    # the configured providers, before any task.
    for flag in ("--video-provider", "--image-provider", "--audio-provider"):
        refused = runner.invoke(app, [*args, flag, "nope"], input=story)
        assert refused.exit_code == 1 and "nope" in refused.output, refused.output
        assert "offline" in refused.output and "task " not in refused.output, refused.output
    refused = runner.invoke(app, [*args, "--voice", "no-such-voice"], input=story)
    assert refused.exit_code == 1 and "no-such-voice" in refused.output, refused.output
    args += ["--video-provider", "offline", "--image-provider", "offline"]
    args += ["--audio-provider", "offline", "--voice", "narrator-zh"]
    rendered = runner.invoke(app, args, input=story)
    assert rendered.exit_code == 0, rendered.output
    assert rendered.output.splitlines()[0].startswith("task task_")
    assert target.stat().st_size > 1000
    srt = target.with_suffix(".srt").read_text(encoding="utf-8")
    assert "晚秋" in srt and "-->" in srt
    assert target.with_suffix(".jpg").read_bytes()[:3] == b"\xff\xd8\xff"

    logged_out = runner.invoke(app, ["logout", "--url", url])
    assert logged_out.exit_code == 0 and credentials.load(url) is None
