"""`storyreel-script`: the script service on its own, configured by environment."""

from __future__ import annotations

from storyreel_core.service_runtime import run
from storyreel_script.service import NAME, build


def main() -> None:
    run(NAME, build)


if __name__ == "__main__":
    main()
