"""Structured logs: one JSON object per line on stderr, for log shippers (Loki, Elasticsearch,
CloudWatch) to index without parsing free text.

Every line has `time` (UTC, ISO 8601, milliseconds), `level`, `logger` and `message`, then the
record's extra fields as they were passed, e.g.

    log.warning("dead-lettered", extra={"uri": uri, "topic": t, "partition": p, "offset": o, "reason": r})

    {"time":"2026-03-02T06:00:00.123Z","level":"WARNING","logger":"newsclean","message":"dead-lettered",
     "uri":"https://...","topic":"raw","partition":0,"offset":42,"reason":"schema"}

and `exc` (the formatted traceback) when there is one. `configure(level)` installs the formatter
on the root logger, so Faust's, aiokafka's and our own records all come out the same way.
"""

from __future__ import annotations

import logging
import sys
from datetime import datetime, timezone
from typing import IO, Any

import orjson

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class JsonFormatter(logging.Formatter):
    """A record as one line of JSON; values JSON cannot hold are written with `str`."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_") and key not in entry:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def _iso(created: float) -> str:
    return datetime.fromtimestamp(created, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def level_number(level: str | int) -> int:
    """"info", "INFO" or 20 -> 20; anything else is a ValueError naming the accepted levels."""
    if isinstance(level, int) and level in {logging.getLevelName(name) for name in LEVELS}:
        return level
    if isinstance(level, str) and level.upper() in LEVELS:
        return logging.getLevelName(level.upper())
    raise ValueError(f"log level {level!r} is not one of {', '.join(LEVELS)}")


def configure(level: str | int = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Route every logger through one JSON handler on `stream` (stderr); returns the handler.
    Replaces the root logger's handlers, so call it once at start, before the worker runs."""
    number = level_number(level)  # a bad level fails before anything is changed
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(number)
    logging.captureWarnings(True)  # warnings.warn(...) too, as records of the "py.warnings" logger
    return handler
