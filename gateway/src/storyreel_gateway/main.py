"""`storyreel-gateway`: the gateway on its own, reaching services at configured addresses."""

from __future__ import annotations

import uvicorn

from storyreel_core.logging import configure_logging
from storyreel_core.settings import Settings
from storyreel_gateway.app import create_app


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level, json=settings.log_json)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning")


if __name__ == "__main__":
    main()
