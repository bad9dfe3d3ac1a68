"""The instance lock is an OS lock: refused while another process holds it (naming its PID), free once that process
is killed, and `lock_holder` reads it without taking it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from trader_runtime.errors import ConfigError
from trader_runtime.storage.instance_lock import InstanceLock, account_lock_path, lock_holder

HOLD = """
import sys, time
from pathlib import Path
from trader_runtime.storage.instance_lock import InstanceLock
InstanceLock(Path(sys.argv[1]), "test").acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_refused_while_held_by_another_process_and_free_after_kill(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite.lock"
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path)], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"held"
        assert lock_holder(path) == proc.pid
        with pytest.raises(ConfigError, match=f"pid {proc.pid}"):
            InstanceLock(path, "journal j.sqlite").acquire()
        proc.kill()
        proc.wait(10)
        deadline = time.monotonic() + 5
        while lock_holder(path) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert lock_holder(path) is None
        lock = InstanceLock(path, "journal j.sqlite")
        lock.acquire()
        assert lock.held
        lock.release()
        assert lock_holder(path) is None
    finally:
        if proc.poll() is None:
            proc.kill()


def test_account_lock_names_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COINTRADER_LOCK_DIR", str(tmp_path))
    a = account_lock_path("live", "my-secret-key")
    assert a.parent == tmp_path and "my-secret-key" not in a.name
    assert a != account_lock_path("live", "other-key") and a != account_lock_path("demo", "my-secret-key")
    assert a == account_lock_path("live", "my-secret-key")
