"""Ports written into site files come from below the ephemeral range, never twice."""

from __future__ import annotations

import socket

from simulators import ports


def test_ports_are_below_the_ephemeral_range_and_distinct() -> None:
    chosen = ports.free_ports(50) + [ports.free_port() for _ in range(50)]
    assert len(set(chosen)) == 100
    assert all(ports.LOWEST <= port < ports.ephemeral_start() for port in chosen)
    for port in chosen[:5]:
        with socket.socket() as server:
            server.bind(("127.0.0.1", port))
            server.listen()


def test_a_port_someone_listens_on_is_passed_over() -> None:
    with socket.socket() as first:
        first.bind(("127.0.0.1", ports.free_port()))
        first.listen()
        taken = first.getsockname()[1]
        picker = ports._Picker()
        picker._cursor = taken - ports.LOWEST
        assert picker.pick(1, "127.0.0.1") != [taken]
