"""Keep tests on the loopback interface: any connect or name lookup for another host is refused and recorded.

Used by the test suite's fixtures (STYLE 2.4: "a fixture blocks sockets"); works across threads because it patches
the `socket` module, which the fake exchange's thread, requests, aiohttp and websockets all go through.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from typing import Any, Iterator

_LOCAL_NAMES = {"localhost", "localhost.localdomain", ""}


def is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class NetworkAccessBlocked(ConnectionRefusedError):
    """A test tried to leave the machine."""


@contextlib.contextmanager
def loopback_only() -> Iterator[list[str]]:
    """Refuse non-loopback connects and lookups while active; yields the list of refused targets."""
    refused: list[str] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
            refused.append(f"connect {address!r}")
            raise NetworkAccessBlocked(f"test network guard: connection to {address!r} refused (loopback only)")

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not is_loopback(host):
            refused.append(f"lookup {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, f"test network guard: lookup of {host!r} refused (loopback only)")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
    socket.getaddrinfo = getaddrinfo  # type: ignore[assignment]
    try:
        yield refused
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo  # type: ignore[assignment]
