"""One trader per journal: a second `trader run` on a journal in use is refused in one line naming the holder's PID,
`trader status` tells a running trader from one killed with -9, and a status port in use is an error."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from trader_runtime.cli.main import main as cli
from trader_runtime.storage.instance_lock import journal_lock_path, lock_holder
from trader_runtime.storage.journal import JournalReader

ROOT = Path(__file__).resolve().parents[3]


def _start(journal: Path, cwd: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "trader_runtime.cli.main", "trader", "run", "--days", "30", "--speed",
                             str(900 * 4), "--http-port", "-1", "--journal", str(journal)], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def _wait_running(journal: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the trader ended early"
        if lock_holder(journal_lock_path(journal)) == proc.pid and journal.exists():
            try:
                with JournalReader(journal) as r:
                    if r.status().get("", {}).get("state") == "running":
                        return
            except Exception:  # noqa: BLE001 - the file may be mid-creation
                pass
        time.sleep(0.2)
    raise AssertionError("the trader did not reach 'running'")


def test_second_trader_refused_and_status_tells_running_from_dead(tmp_path: Path, capsys) -> None:
    journal = tmp_path / "trader.sqlite"
    first = _start(journal, tmp_path)
    try:
        _wait_running(journal, first)
        before = {p.name: p.stat().st_size for p in tmp_path.iterdir() if p.suffix != ".sqlite-wal"}
        assert cli(["trader", "run", "--days", "30", "--http-port", "-1", "--journal", str(journal)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"pid {first.pid}" in err[0] and "in use by a running trader" in err[0]
        assert cli(["trader", "status", "--journal", str(journal)]) == 0
        assert f"running (pid {first.pid})" in capsys.readouterr().out

        first.send_signal(signal.SIGKILL)
        first.wait(60)
        assert lock_holder(journal_lock_path(journal)) is None  # the OS dropped the lock with the process
        assert cli(["trader", "status", "--journal", str(journal)]) == 0
        assert "not running: the last trader died while running" in capsys.readouterr().out
        assert cli(["trader", "status", "--journal", str(journal), "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert data["running"] is False and data["pid"] is None

        second = _start(journal, tmp_path)  # the dead trader's journal is free again
        try:
            _wait_running(journal, second)
            second.send_signal(signal.SIGTERM)
            assert second.wait(120) == 0
        finally:
            if second.poll() is None:
                second.kill()
        assert cli(["trader", "status", "--journal", str(journal)]) == 0
        assert "stopped" in capsys.readouterr().out
        assert set(before) <= {p.name for p in tmp_path.iterdir()}
    finally:
        if first.poll() is None:
            first.kill()


def test_status_port_in_use_is_an_error(tmp_path: Path, capsys) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        journal = tmp_path / "trader.sqlite"
        assert cli(["trader", "run", "--days", "12", "--http-port", str(port), "--journal", str(journal)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"--http-port {port}" in err[0]
    assert not journal.exists()
