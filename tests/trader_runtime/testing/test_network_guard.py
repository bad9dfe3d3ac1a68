"""The loopback guard refuses connects and lookups beyond 127.0.0.1 and lets loopback traffic through."""

from __future__ import annotations

import socket

import pytest

from trader_runtime.testing.network_guard import NetworkAccessBlocked, is_loopback, loopback_only


@pytest.mark.parametrize("host, expected", [("127.0.0.1", True), ("127.8.0.1", True), ("::1", True), ("localhost", True),
                                            ("10.0.0.1", False), ("192.168.1.1", False), ("fapi.binance.com", False)])
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_refuses_and_records_remote_targets() -> None:
    with loopback_only() as refused:
        with pytest.raises(NetworkAccessBlocked), socket.socket() as s:
            s.connect(("10.255.255.1", 443))
        with pytest.raises(socket.gaierror):
            socket.getaddrinfo("fapi.binance.com", 443)
    assert refused == ["connect ('10.255.255.1', 443)", "lookup 'fapi.binance.com'"]


def test_loopback_still_works_and_the_patch_is_undone() -> None:
    original = socket.socket.connect
    with loopback_only() as refused:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            with socket.socket() as client:
                client.connect(server.getsockname())
    assert refused == [] and socket.socket.connect is original
