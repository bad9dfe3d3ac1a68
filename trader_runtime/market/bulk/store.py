"""Where archive files are read from: a local mirror folder or a base URL (the public archive or a copy of it).

Why one small interface: the importer asks "the bytes of this path, or None when it does not exist" and does not
care where they come from. A 404 is "not found" (as in the official download script); any other HTTP failure
raises a TemporaryExchangeError after a few attempts, so a flaky network never reads as a gap.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from trader_runtime.errors import ConfigError, TemporaryExchangeError

#: the public archive of Binance USD-M futures (the default --source is never used by tests)
PUBLIC_ARCHIVE_URL = "https://data.binance.vision/data/futures/um/"


class ArchiveStore(Protocol):
    """Read-only access to the archive layout of `layout.FileRef.path`."""

    def get(self, path: str) -> bytes | None: ...

    def describe(self, path: str) -> str: ...


@dataclass(frozen=True)
class MirrorFolder:
    """A local copy of the archive: `root` holds `monthly/` and `daily/`."""

    root: Path

    def get(self, path: str) -> bytes | None:
        target = self.root / path
        try:
            return target.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(f"cannot read {target}: {exc}") from exc

    def describe(self, path: str) -> str:
        return str(self.root / path)


@dataclass
class HttpArchive:
    """The archive behind a base URL; 404 -> None, other failures retried (tenacity: 0.5 s doubling, at most 8 s)
    then raised. A refusal other than 408/429 (e.g. 403) is not retried."""

    base_url: str
    timeout_s: float = 30.0
    attempts: int = 3
    session: requests.Session | None = None
    sleep: Callable[[float], None] = time.sleep

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/") + "/"
        self.session = self.session or requests.Session()

    def get(self, path: str) -> bytes | None:
        url = self.describe(path)
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=0.5, max=8.0),
            retry=retry_if_exception_type(_Retryable),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(self._get_once, url)
        except _Failed as exc:
            raise TemporaryExchangeError(f"cannot download {url}: {exc}") from None

    def _get_once(self, url: str) -> bytes | None:
        try:
            response = self.session.get(url, timeout=self.timeout_s)  # type: ignore[union-attr]
        except requests.RequestException as exc:
            raise _Retryable(f"{type(exc).__name__}: {exc}") from None
        if response.status_code == 404:
            return None
        if response.status_code == 200:
            return response.content
        if response.status_code < 500 and response.status_code not in (408, 429):
            raise _Failed(f"HTTP {response.status_code}")
        raise _Retryable(f"HTTP {response.status_code}")

    def describe(self, path: str) -> str:
        return self.base_url + path


class _Failed(Exception):
    """A download that failed for good (its message is the reason)."""


class _Retryable(_Failed):
    """A download failure worth another attempt: no answer, a server error, 408 or 429."""


def open_store(source: str) -> ArchiveStore:
    """`source` is a folder (its `data/futures/um/` sub-folder is used when present) or an http(s) URL."""
    text = str(source).strip()
    if text.startswith(("http://", "https://")):
        return HttpArchive(text)
    folder = Path(text).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"--source {text!r} is neither a folder nor an http(s) URL")
    nested = folder / "data" / "futures" / "um"
    return MirrorFolder(nested if nested.is_dir() else folder)
