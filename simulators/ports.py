"""Ports for simulators and test servers that are written into a site file before they listen.

A port the system hands out for `bind(("127.0.0.1", 0))` comes from its ephemeral range, the
same range it takes the local ports of outgoing connections from: between choosing such a port
and listening on it, any connection on the machine may take it (CI: "address already in use"
for a simulated pallet printer). These ports are chosen below that range, where the system
never hands a port out on its own, starting at a place that depends on the process (parallel
test workers walk apart) and never handing one port out twice in a process.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

LOWEST = 15_000
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_STRIDE = 7_919
"""A prime: processes with neighbouring ids start far apart."""


def ephemeral_start() -> int:
    """The first port of the system's ephemeral range (32768, Linux's default, if unknown)."""
    try:
        return int(EPHEMERAL_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


class _Picker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._handed_out: set[int] = set()
        self._cursor = os.getpid() * _STRIDE

    def pick(self, count: int, host: str) -> list[int]:
        highest = ephemeral_start() - 1
        span = highest - LOWEST + 1
        if span < count:
            raise RuntimeError(
                f"no room for {count} ports between {LOWEST} and the ephemeral range at "
                f"{highest + 1} ({EPHEMERAL_RANGE})"
            )
        chosen: list[int] = []
        with self._lock:
            for _ in range(span):
                port = LOWEST + self._cursor % span
                self._cursor += 1
                if port not in self._handed_out and _bindable(host, port):
                    self._handed_out.add(port)
                    chosen.append(port)
                    if len(chosen) == count:
                        return chosen
        raise RuntimeError(f"no free port between {LOWEST} and {highest} on {host}")


_picker = _Picker()


def free_port(host: str = "127.0.0.1") -> int:
    """A port nobody listens on now, which the system will not give to a connection."""
    return _picker.pick(1, host)[0]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` different such ports."""
    return _picker.pick(count, host)


def _bindable(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True
