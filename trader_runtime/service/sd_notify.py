"""systemd's notify protocol, implemented directly: one datagram per message to `$NOTIFY_SOCKET`.

Why no dependency: the protocol is a single `sendto` of `KEY=VALUE` lines on an AF_UNIX datagram socket (an
address starting with `@` is in the abstract namespace). Outside systemd (`NOTIFY_SOCKET` unset) every call is a
no-op returning False, so the service runs the same from a terminal.
"""

from __future__ import annotations

import os
import socket


class SystemdNotifier:
    """READY/WATCHDOG/STATUS/STOPPING messages for a `Type=notify` unit."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        self.sent = 0

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def notify(self, *lines: str) -> bool:
        if not self.address:
            return False
        addr = self.address
        if addr.startswith("@"):
            addr = "\0" + addr[1:]
        payload = "\n".join(lines).encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto(payload, addr)
        except OSError:
            return False
        self.sent += 1
        return True

    def ready(self, status: str = "") -> bool:
        return self.notify("READY=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")


def watchdog_interval_s(environ: dict[str, str] | None = None) -> float | None:
    """Half of `WATCHDOG_USEC` (systemd's advice), or None when the unit has no watchdog or it is for another pid."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC")
    if not usec:
        return None
    pid = env.get("WATCHDOG_PID")
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    try:
        return max(int(usec) / 2_000_000, 0.5)
    except ValueError:
        return None
