"""`storyreel-video`: the video service on its own, configured by environment."""

from __future__ import annotations

from storyreel_core.service_runtime import run
from storyreel_video.service import NAME, build


def main() -> None:
    run(NAME, build)


if __name__ == "__main__":
    main()
