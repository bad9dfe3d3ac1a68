"""systemd notify datagrams (READY, WATCHDOG, STATUS, STOPPING) and the watchdog heartbeat policy."""

from __future__ import annotations

import asyncio
import os
import socket
import tempfile
from pathlib import Path

import pytest

from trader_runtime.service.sd_notify import SystemdNotifier, watchdog_interval_s
from trader_runtime.service.watchdog import Watchdog


@pytest.fixture()
def notify_socket():
    # a socket path may hold 107 bytes; pytest's tmp_path under a long TMPDIR exceeds that (systemd's own
    # /run/systemd/notify is short), so the socket gets a short folder of its own
    with tempfile.TemporaryDirectory(prefix="sd") as folder:
        path = os.path.join(folder, "notify.sock")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        sock.settimeout(2.0)
        yield path, sock
        sock.close()


def test_datagrams_reach_the_socket(notify_socket):
    path, sock = notify_socket
    n = SystemdNotifier(path)
    assert n.ready("trading XRPUSDT")
    assert sock.recv(4096) == b"READY=1\nSTATUS=trading XRPUSDT"
    assert n.watchdog() and sock.recv(4096) == b"WATCHDOG=1"
    assert n.stopping() and sock.recv(4096) == b"STOPPING=1"


def test_abstract_namespace_address():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    name = f"cointrader-test-{os.getpid()}"
    sock.bind("\0" + name)
    sock.settimeout(2.0)
    try:
        assert SystemdNotifier("@" + name).status("hello")
        assert sock.recv(100) == b"STATUS=hello"
    finally:
        sock.close()


def test_without_notify_socket_everything_is_a_noop(tmp_path: Path):
    n = SystemdNotifier("")
    assert not n.enabled and not n.ready() and not n.watchdog()
    assert not SystemdNotifier(str(tmp_path / "gone.sock")).watchdog()  # a vanished socket is not an error


def test_watchdog_interval_is_half_of_watchdog_usec():
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000"}) == 15.0
    assert watchdog_interval_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}) is None  # not for us
    assert watchdog_interval_s({}) is None and watchdog_interval_s({"WATCHDOG_USEC": "x"}) is None


def test_heartbeat_is_withheld_when_candles_stop(notify_socket):
    path, sock = notify_socket
    last = {"t": 100.0}
    wd = Watchdog(SystemdNotifier(path), 0.01, lambda: last["t"], stale_after_s=60.0)
    assert wd.healthy(now=150.0) and not wd.healthy(now=161.0)
    replay = Watchdog(SystemdNotifier(path), 0.01, lambda: 0.0, stale_after_s=None)
    assert replay.healthy(now=1e9)

    async def pump() -> None:
        task = asyncio.create_task(wd.run())
        await asyncio.sleep(0.05)
        task.cancel()

    import time

    last["t"] = time.monotonic()
    asyncio.run(pump())
    assert wd.pings >= 2 and sock.recv(100) == b"WATCHDOG=1"
    last["t"] = time.monotonic() - 1000
    wd.pings = 0
    asyncio.run(pump())
    assert wd.pings == 0 and wd.withheld >= 2
