"""The `storyreel` command: `up` starts the embedded platform, `render` makes a video."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from storyreel_cli.client import ApiError, StoryReelClient

app = typer.Typer(help="StoryReel: story in, vertical short drama out.", no_args_is_help=True)
console = Console(stderr=True)


@app.command()
def up() -> None:
    """Start the whole platform in one process (embedded mode) on http://127.0.0.1:5678."""
    from storyreel_cli.embedded import up as run_up

    run_up()


@app.command()
def render(
    story: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("out.mp4"),
    style: Annotated[str, typer.Option(help="visual style, e.g. 赛博朋克 or noir")] = "",
    scenes: Annotated[int | None, typer.Option(min=1, max=30)] = None,
    resolution: Annotated[str, typer.Option(help="720p, 1080p or WxH")] = "720p",
    fps: Annotated[int, typer.Option(min=1, max=60)] = 24,
    music: Annotated[bool, typer.Option()] = True,
    ai_provider: Annotated[
        str | None, typer.Option(help="a text provider of GET /providers for the screenplay")
    ] = None,
    model: Annotated[str | None, typer.Option(help="one of that provider's text models")] = None,
    url: Annotated[str, typer.Option(envvar="STORYREEL_URL")] = "http://127.0.0.1:5678",
    username: Annotated[str, typer.Option(envvar="STORYREEL_USERNAME")] = "storyreel",
    password: Annotated[str | None, typer.Option(envvar="STORYREEL_PASSWORD")] = None,
) -> None:
    """Render STORY (a text or Markdown file) through a running gateway and save the MP4."""
    client = StoryReelClient(url, token=os.environ.get("STORYREEL_TOKEN"))
    try:
        if client.token is None:
            client.login_or_register(username, password or "storyreel-local-pass")
        options: dict[str, Any] = {"video": {"resolution": resolution, "fps": fps}, "music": music}
        if scenes:
            options["scene_count"] = scenes
        if ai_provider:
            options["ai_provider"] = ai_provider
        if model:
            options["model"] = model
        task_id = client.render(story.read_text(encoding="utf-8"), style, **options)
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TimeElapsedColumn(),
            console=console,
        ) as bar:
            row = bar.add_task("queued", total=100)

            def show(task: dict[str, Any]) -> None:
                bar.update(
                    row,
                    completed=task["progress"]["percentage"],
                    description=task.get("current_step") or task["status"],
                )

            task = client.wait(task_id, show)
        if task["status"] != "completed":
            console.print(f"[red]render {task['status']}:[/] {task.get('error')}")
            raise typer.Exit(1)
        client.download(task["result"]["video_url"], output)
        console.print(f"saved {output} ({task['result']['duration']:.1f} s)")
    except ApiError as exc:
        console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from exc
    finally:
        client.close()


if __name__ == "__main__":
    app()
