"""Logging set-up for entry points, with a filter that redacts registered secrets (D17)."""

from __future__ import annotations

import logging
import re
import threading

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


def configure_logging(level: int = logging.INFO) -> None:
    root = logging.getLogger()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%dT%H:%M:%S%z"))
    handler.addFilter(RedactingFilter())
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("numba", "urllib3", "websockets", "asyncio", "alembic", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
