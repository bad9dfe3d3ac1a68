"""One trader per journal and per exchange account: exclusive `flock` locks held for the life of the process.

Why: two `cointrader trader run` on one journal both traded — the same client order ids, a daily-loss base
overwritten by the other process, and with real keys every position doubled. An OS lock (not a PID file) is held
exactly as long as the process lives: the kernel drops it when the process exits or is killed with -9, so a crash
never leaves a stale lock behind, and `lock_holder` tells a running trader from a dead one.

The lock file holds the holder's PID (for the refusal message); it is never deleted, because deleting a lock file
races with a process that is opening it.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
from pathlib import Path

from trader_runtime.errors import ConfigError


def journal_lock_path(journal: Path) -> Path:
    return Path(f"{journal}.lock")


def lock_dir() -> Path:
    """Where account locks live: COINTRADER_LOCK_DIR, else a per-user folder under the runtime/temp directory."""
    configured = os.environ.get("COINTRADER_LOCK_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir()
    return Path(base) / f"cointrader-locks-{os.getuid()}"


def account_lock_path(mode: str, api_key: str, endpoint: str = "") -> Path:
    """One lock per exchange account and mode. The key is hashed: no secret ever lands in a file name."""
    digest = hashlib.sha256(f"{mode}\0{endpoint}\0{api_key}".encode()).hexdigest()[:16]
    return lock_dir() / f"account-{mode}-{digest}.lock"


class InstanceLock:
    """An exclusive, non-blocking `flock` on `path`; `what` names the resource in the refusal."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock or raise ConfigError naming the PID that holds it."""
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _read_pid(fd)
            os.close(fd)
            holder = f"pid {pid}" if pid else "another process"
            raise ConfigError(f"{self.what} is in use by a running trader ({holder}); stop it first "
                              f"(one trader per journal and per exchange account)") from None  # fmt: skip
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Give the lock back (the OS does the same when the process dies)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def lock_holder(path: Path) -> int | None:
    """The PID holding the lock at `path`, or None when nobody does (the holder died or stopped). Read-only."""
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_pid(fd) or -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None
