"""`storyreel-asset`: the asset service on its own, configured by environment."""

from __future__ import annotations

from storyreel_asset.service import NAME, build
from storyreel_core.service_runtime import run


def main() -> None:
    run(NAME, build)


if __name__ == "__main__":
    main()
