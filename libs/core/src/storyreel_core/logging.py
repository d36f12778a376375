"""structlog set up once per process: dotted event names with keyword fields."""

from __future__ import annotations

import logging
import sys

import structlog

from storyreel_core.telemetry.error_log import capture_errors


def configure_logging(level: str = "INFO", *, json: bool = False) -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stderr, level=level.upper())
    # httpx logs every request's full URL at INFO: a provider's base URL (and whatever a
    # studio put in it) must not reach the log, so its request lines stay below INFO.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    # Plain tracebacks, never rich's default with every frame's locals: that dump runs to tens of
    # thousands of lines for one error, stalls the event loop (in embedded mode the whole
    # platform) for seconds, and writes request bodies and secrets into the log.
    renderers: list[structlog.types.Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if json
        else [
            structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback
            )
        ]
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            capture_errors,  # GET /monitoring/logs/errors reads what this keeps
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            *renderers,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
