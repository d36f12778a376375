"""The `storyreel` command: start the platform, sign in, render a story.

Which gateway: `--url`, else `STORYREEL_URL`, else `http://$STORYREEL_HOST:$STORYREEL_PORT`
(the address `storyreel up` listens on, 127.0.0.1:5678 by default). Who: the token
`storyreel login` or `register` stored (see `credentials`), or `STORYREEL_TOKEN`. Errors are
one line on stderr and exit status 1; nothing here creates an account unasked.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from storyreel_cli import credentials
from storyreel_cli.client import ApiError, StoryReelClient, Unreachable
from storyreel_cli.live_progress import follow

app = typer.Typer(
    help="StoryReel: story in, vertical short drama out.",
    no_args_is_help=True,
    epilog="Example: storyreel up, then storyreel register and storyreel render story.txt",
)
console = Console(stderr=True)
out = Console()


def _listen_address() -> tuple[str, int]:
    """Where `storyreel up` listens: STORYREEL_HOST / STORYREEL_PORT, as the platform reads."""
    host = os.environ.get("STORYREEL_HOST", "127.0.0.1")
    try:
        port = int(os.environ.get("STORYREEL_PORT", "5678"))
    except ValueError:
        port = 5678
    return host, port


def default_url() -> str:
    """STORYREEL_URL, else the address a local `storyreel up` listens on."""
    explicit = os.environ.get("STORYREEL_URL")
    if explicit:
        return explicit
    host, port = _listen_address()
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="gateway URL [default: $STORYREEL_URL, else http://$STORYREEL_HOST:$STORYREEL_PORT]",
        show_default=False,
    ),
]


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _api_message(exc: ApiError) -> str:
    error = exc.body.get("error") or {}
    reason = error.get("reason") if isinstance(error, dict) else None
    message = exc.body.get("message") or f"HTTP {exc.status}"
    return f"{message}: {reason}" if reason and reason != message else str(message)


_HOST, _PORT = _listen_address()


@app.command(
    help=f"Start the whole platform in one process (embedded mode) on http://{_HOST}:{_PORT}. "
    "STORYREEL_HOST and STORYREEL_PORT (or --host/--port) change the address; data is kept "
    "under STORYREEL_DATA_DIR (./data). Ctrl-C stops it.",
    epilog="Example: storyreel up --port 5702",
)
def up(
    host: Annotated[str, typer.Option(help="address to listen on")] = _HOST,
    port: Annotated[int, typer.Option(min=1, max=65535, help="HTTP port")] = _PORT,
) -> None:
    from storyreel_cli.embedded import up as run_up
    from storyreel_core.settings import Settings

    run_up(Settings(host=host, port=port))


@app.command(epilog="Example: storyreel login --username mei")
def login(
    username: Annotated[str, typer.Option(prompt=True, help="username or email")],
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, envvar="STORYREEL_PASSWORD")
    ],
    url: UrlOption = None,
) -> None:
    """Sign in and keep the token (mode 0600) in your config directory for later commands."""
    base = url or default_url()
    with StoryReelClient(base) as client:
        try:
            tokens = client.login(username, password)
        except ApiError as exc:
            raise _fail(f"login failed: {_api_message(exc)}") from exc
        except Unreachable as exc:
            raise _fail(f"{exc} (is `storyreel up` running? set --url or STORYREEL_URL)") from exc
    path = credentials.save(base, username, tokens)
    console.print(f"logged in to {base} as {username}; token saved in {path}", highlight=False)


@app.command(epilog="Example: storyreel register --username mei --email mei@example.com")
def register(
    username: Annotated[str, typer.Option(prompt=True, help="3-32 characters")],
    email: Annotated[str, typer.Option(prompt=True)],
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            envvar="STORYREEL_PASSWORD",
            help="at least 8 characters",
        ),
    ],
    url: UrlOption = None,
) -> None:
    """Create an account on the gateway, sign in and keep the token like `login` does."""
    base = url or default_url()
    with StoryReelClient(base) as client:
        try:
            tokens = client.register(username, email, password)
        except ApiError as exc:
            raise _fail(f"register failed: {_api_message(exc)}") from exc
        except Unreachable as exc:
            raise _fail(f"{exc} (is `storyreel up` running? set --url or STORYREEL_URL)") from exc
    path = credentials.save(base, username, tokens)
    console.print(f"registered {username} on {base}; token saved in {path}", highlight=False)


@app.command(epilog="Example: storyreel logout")
def logout(url: UrlOption = None) -> None:
    """Forget the token stored for the gateway (and revoke it there when it answers)."""
    base = url or default_url()
    entry = credentials.load(base)
    if entry and entry.get("refresh_token"):
        # The local token goes whether or not the gateway answers.
        with (
            StoryReelClient(base, token=entry.get("access_token")) as client,
            contextlib.suppress(ApiError, Unreachable),
        ):
            client.request("POST", "/auth/logout", json={"refresh_token": entry["refresh_token"]})
    forgotten = credentials.forget(base)
    console.print(f"logged out of {base}" if forgotten else f"no token stored for {base}")


def _read_story(story: str) -> str:
    if story == "-":
        text = sys.stdin.read()
    else:
        path = Path(story)
        if not path.is_file():
            raise _fail(f"no such file: {story}")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(f"{story} is not UTF-8 text") from exc
    if not text.strip():
        raise _fail("the story is empty")
    return text


def _signed_in(client: StoryReelClient, base: str) -> None:
    """Use STORYREEL_TOKEN, else the stored token (refreshed once if it has expired)."""
    token = os.environ.get("STORYREEL_TOKEN")
    if token:
        client.token = token
        return
    entry = credentials.load(base)
    if not entry:
        raise _fail(
            f"not logged in to {base}: run `storyreel login` (or `storyreel register`) first"
        )
    client.token = entry.get("access_token")
    try:
        client.request("GET", "/users/me")
    except ApiError as exc:
        if exc.status != 401 or not entry.get("refresh_token"):
            raise
        try:
            tokens = client.refresh(entry["refresh_token"])
        except ApiError as again:
            raise _fail("the stored session has expired: run `storyreel login`") from again
        credentials.save(base, str(entry.get("username", "")), tokens)


@app.command(
    epilog="Example: storyreel render story.md -o drama.mp4 --scenes 6 --resolution 1080p; "
    "cat story.txt | storyreel render - -o drama.mp4; "
    "storyreel render story.txt --video-provider seedance --audio-provider elevenlabs"
    " --voice 21m00Tcm4TlvDq8ikWAM"
)
def render(
    story: Annotated[str, typer.Argument(help="a UTF-8 text or Markdown file, or - for stdin")],
    output: Annotated[Path, typer.Option("-o", "--output", help="where the MP4 goes")] = Path(
        "out.mp4"
    ),
    style: Annotated[str, typer.Option(help="visual style, e.g. 赛博朋克 or noir")] = "",
    scenes: Annotated[int | None, typer.Option(min=1, max=30)] = None,
    resolution: Annotated[str, typer.Option(help="720p, 1080p or WxH")] = "720p",
    fps: Annotated[int, typer.Option(min=1, max=60)] = 24,
    music: Annotated[bool, typer.Option()] = True,
    ai_provider: Annotated[
        str | None, typer.Option(help="a text provider of GET /providers for the screenplay")
    ] = None,
    model: Annotated[str | None, typer.Option(help="one of that provider's text models")] = None,
    image_provider: Annotated[
        str | None, typer.Option(help="an image provider of GET /providers for the frames")
    ] = None,
    image_model: Annotated[
        str | None, typer.Option(help="one of that provider's image models")
    ] = None,
    video_provider: Annotated[
        str | None,
        typer.Option(help="a video provider of GET /providers for each shot's motion"),
    ] = None,
    video_model: Annotated[
        str | None, typer.Option(help="one of that provider's video models")
    ] = None,
    audio_provider: Annotated[
        str | None, typer.Option(help="a speech provider of GET /providers for the voices")
    ] = None,
    voice: Annotated[
        str | None, typer.Option(help="the narrator's voice id from GET /voices")
    ] = None,
    url: UrlOption = None,
) -> None:
    """Render STORY through the gateway; saves the MP4, its SRT and thumbnail side by side
    (out.mp4, out.srt, out.jpg) and prints the task id first."""
    base = url or default_url()
    text = _read_story(story)
    with StoryReelClient(base) as client:
        try:
            _signed_in(client, base)
            options: dict[str, Any] = {
                "video": {"resolution": resolution, "fps": fps},
                "music": music,
            }
            if scenes:
                options["scene_count"] = scenes
            if ai_provider:
                options["ai_provider"] = ai_provider
            if model:
                options["model"] = model
            chosen = {
                "image_provider": image_provider,
                "image_model": image_model,
                "video_provider": video_provider,
                "video_model": video_model,
                "audio_provider": audio_provider,
                "voice": voice,
            }
            options.update({name: value for name, value in chosen.items() if value})
            task_id = client.render(text, style, **options)
            out.print(f"task {task_id}", highlight=False)
            task = _follow(client, task_id)
            if task["status"] != "completed":
                error = task.get("error") or {}
                reason = error.get("reason") or error.get("message") or "unknown error"
                raise _fail(f"render {task['status']}: {reason}")
            result = task["result"]
            output.parent.mkdir(parents=True, exist_ok=True)
            saved = [client.download(result["video_url"], output)]
            for key, suffix in (("subtitle_url", ".srt"), ("thumbnail_url", ".jpg")):
                if result.get(key):
                    saved.append(client.download(result[key], output.with_suffix(suffix)))
        except ApiError as exc:
            raise _fail(_api_message(exc)) from exc
        except Unreachable as exc:
            raise _fail(f"{exc} (is `storyreel up` running? set --url or STORYREEL_URL)") from exc
    for path in saved:
        out.print(f"saved {path}", highlight=False)
    out.print(f"duration {float(result.get('duration', 0.0)):.1f} s", highlight=False)


def _follow(client: StoryReelClient, task_id: str) -> dict[str, Any]:
    """Show the task's progress as it is pushed over the WebSocket (polling when that fails):
    a bar, and a `step …` line on stderr each time the stage changes."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>5.1f}%"),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        row = bar.add_task("queued", total=100)
        steps: list[str] = []
        updates = 0

        def show(task: dict[str, Any]) -> None:
            nonlocal updates
            updates += 1
            step = task.get("current_step") or task["status"]
            bar.update(row, completed=task["progress"]["percentage"], description=step)
            if not steps or steps[-1] != step:
                steps.append(step)
                bar.console.print(f"step {step}", highlight=False)

        def notice(message: str) -> None:
            bar.console.print(f"[yellow]{message}[/]", highlight=False)

        task, how = follow(client, task_id, show, notice=notice)
    how = "pushed over WebSocket" if how == "websocket" else "polled"
    console.print(f"progress: {how} ({updates} updates)", highlight=False)
    return task


def main() -> None:
    app()


if __name__ == "__main__":
    main()
