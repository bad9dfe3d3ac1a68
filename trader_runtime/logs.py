"""Logging set-up for entry points, with a filter that redacts registered secrets (D17)."""

from __future__ import annotations

import logging
import os
import re
import threading
import time

_SECRETS: set[str] = set()
_LOCK = threading.Lock()
_MASK = "***"


def register_secret(value: str | None) -> None:
    """Remember a secret so that any log record containing it is redacted."""
    if value and len(value) >= 4:
        with _LOCK:
            _SECRETS.add(value)


def redact(text: str) -> str:
    with _LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for s in secrets:
        text = text.replace(s, _MASK)
    # Binance signatures and api keys in query strings / headers
    text = re.sub(r"(signature=)[0-9a-fA-F]{16,}", r"\1" + _MASK, text)
    text = re.sub(r"(X-MBX-APIKEY['\"]?\s*[:=]\s*['\"]?)[A-Za-z0-9]{8,}", r"\1" + _MASK, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            text = str(exc)
            if redact(text) != text:
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


#: one line format for every log line the project prints (UTC, ISO 8601): `2026-01-04T03:00:00Z INFO    name: text`
LOG_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: libraries that install their own handler and format; their records go through ours instead
_OWN_HANDLER_LIBRARIES = ("mlflow", "optuna", "alembic")


def log_formatter() -> logging.Formatter:
    formatter = logging.Formatter(LOG_FORMAT, LOG_DATE_FORMAT)
    formatter.converter = time.gmtime  # timestamps in UTC like everything else the platform writes
    return formatter


def configure_logging(level: int = logging.INFO) -> None:
    """Root handler with the project's format and secret redaction; libraries log through it too."""
    os.environ.setdefault("MLFLOW_CONFIGURE_LOGGING", "false")  # else mlflow adds a handler with its own format
    root = logging.getLogger()
    handler = logging.StreamHandler()
    handler.setFormatter(log_formatter())
    handler.addFilter(RedactingFilter())
    root.handlers[:] = [handler]
    root.setLevel(level)
    adopt_library_loggers()
    for noisy in ("numba", "urllib3", "websockets", "asyncio", "alembic", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def adopt_library_loggers() -> None:
    """Drop the handlers libraries installed for themselves so their records use the root handler's format.

    Call again after importing such a library late (optuna adds its handler on first import)."""
    for name in _OWN_HANDLER_LIBRARIES:
        lib = logging.getLogger(name)
        for h in list(lib.handlers):
            lib.removeHandler(h)
        lib.propagate = True
