"""Logging through structlog: key-value pairs on a terminal, JSON lines everywhere else.

One stream for everything the process logs: structlog's loggers and, through the standard
library's root logger, the protocol libraries' own (asyncua, pymodbus, aiomqtt/paho, httpx,
uvicorn) and Python warnings (SQLAlchemy's included), all rendered alike, with the context
bound by `log_context` (line, batch, unit) and with secrets redacted
(`gateway.observability.redaction`). The libraries log at WARNING and above unless the
gateway's level is stricter: at INFO asyncua alone would log every connection and request.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Final, TextIO

import structlog

from gateway.observability.redaction import redact_secrets

LIBRARY_LOGGERS: Final = (
    "asyncua",
    "pymodbus",
    "aiomqtt",
    "paho",
    "httpx",
    "httpcore",
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "sqlalchemy",
    "alembic",
)
LIBRARY_FLOOR: Final = logging.WARNING


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is when a line is logged, not when logging was set up
    (a replaced or closed stderr must never break the code that logs)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


class _BridgeHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root logger's handler this module installs (and replaces when called again)."""


def _shared_processors() -> list[structlog.typing.Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def configure_logging(*, level: str = "INFO", stream: TextIO | None = None) -> None:
    out: TextIO = stream or _CurrentStderr()  # type: ignore[assignment]
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(colors=False)
        if out.isatty()
        else structlog.processors.JSONRenderer(ensure_ascii=False)
    )
    numeric = logging.getLevelName(level)
    structlog.configure(
        processors=[*_shared_processors(), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared_processors(), structlog.stdlib.ExtraAdder()],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,
            renderer,
        ],
    )
    handler = _BridgeHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _BridgeHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, LIBRARY_FLOOR))
    logging.captureWarnings(True)


def get_logger(name: str) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(name)
    return logger


@contextlib.contextmanager
def log_context(**values: object) -> Iterator[None]:
    """Every line logged inside the block (and in the tasks it starts) carries `values`, e.g.
    `line`, `batch`, `unit`; nested blocks add to it and restore it on exit."""
    with structlog.contextvars.bound_contextvars(**values):
        yield
