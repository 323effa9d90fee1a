"""Logging: plain text by default (what `make run` shows), one JSON object per line with LOG_FORMAT=json
(what log shippers want). `event()` logs one operational event (submit, start, progress, finish,
failure, reconcile, cancel) with its fields as JSON keys, or as `key=value` pairs in text."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import UTC, datetime
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One line per record: time, level, logger, message, and an event's fields as top-level keys."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        doc.update(getattr(record, "fields", {}))
        if record.exc_info:
            doc["exception"] = self.formatException(record.exc_info)
        return json.dumps(doc, default=str)


class _Handler(logging.StreamHandler):
    """Ours, so configure() can replace it instead of stacking a second one. It writes to whatever
    sys.stderr is at the time (test runners swap it per test)."""

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


def configure(fmt: str | None = None, level: int = logging.INFO) -> None:
    """Send every logger's records to stderr, as JSON when LOG_FORMAT=json. Safe to call again."""
    fmt = (fmt or os.environ.get("LOG_FORMAT") or "text").lower()
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
    handler = _Handler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    if fmt == "json":
        # RQ gives its worker logger a text handler of its own unless one is already in effect.
        for name in ("rq.worker", "rq.scheduler"):
            logging.getLogger(name).propagate = True


def event(logger: logging.Logger, name: str, level: int = logging.INFO, **fields: Any) -> None:
    """Log the event `name` with `fields` (None values left out); durations in seconds."""
    fields = {k: round(v, 4) if isinstance(v, float) else v for k, v in fields.items() if v is not None}
    text = " ".join([name, *(f"{k}={v}" for k, v in fields.items())])
    logger.log(level, text, extra={"fields": {"event": name, **fields}})
