"""Log lines: the date and time on every line, as text for a terminal or JSON for a collector."""

from __future__ import annotations

import logging
import sys
from typing import Literal

from pythonjsonlogger.json import JsonFormatter

LogFormat = Literal["text", "json"]
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")

# Library chatter (every request, every job run) drowns the bot's own one-line messages.
_NOISY = ("aiohttp.access", "apscheduler.executors", "apscheduler.scheduler", "alembic")


def setup_logging(level: str, fmt: LogFormat = "text") -> None:
    """Send the bot's log to stderr: ``text`` for people, ``json`` (one object per line, with
    ``time``, ``level``, ``logger`` and ``message``) for a log collector."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_formatter(fmt))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _formatter(fmt: LogFormat) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter(
            "{asctime}{levelname}{name}{message}",
            style="{",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    return logging.Formatter(
        "%(asctime)s %(levelname)-7s %(name)s: %(message)s", datefmt="%Y-%m-%d %H:%M:%S%z"
    )
