"""The clock guard (R-CLK-1) against a real SNTP exchange with a local NTP server: offsets are
recorded, leaving the tolerance is audited and alarmed and disables signing, and a system-time
jump is audited. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from ebr.audit.models import ClockReading
from ebr.clock import (
    NTP_PACKET,
    ClockGuard,
    ClockSourceError,
    ntp_offset,
    ntp_request,
    sntp_offset,
    to_ntp_time,
)
from tests.ebr.audit.audit_fixtures import make_trail


class FakeNtpServer:
    """Answers SNTP requests on 127.0.0.1 with its clock `shift` seconds ahead."""

    def __init__(self) -> None:
        self.shift = 0.0
        self.silent = False
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                request, peer = self.sock.recvfrom(512)
            except TimeoutError:
                continue
            if self.silent:
                continue
            now = time.time() + self.shift
            origin = struct.unpack("!II", request[40:48])
            words = [0, 0, 0, 0, 0, *origin, *to_ntp_time(now), *to_ntp_time(now)]
            self.sock.sendto(NTP_PACKET.pack(0x24, 2, 0, 0, *words), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def ntp() -> Iterator[FakeNtpServer]:
    server = FakeNtpServer()
    yield server
    server.close()


def test_sntp_measures_the_offset(ntp: FakeNtpServer) -> None:
    ntp.shift = 3.5
    assert sntp_offset("127.0.0.1", ntp.port) == pytest.approx(3.5, abs=0.05)
    ntp.silent = True
    with pytest.raises(ClockSourceError, match="no answer"):
        sntp_offset("127.0.0.1", ntp.port, timeout=0.2)


def test_replies_that_do_not_answer_our_request_are_refused() -> None:
    sent = time.time()
    reply = bytearray(ntp_request(sent + 1))
    reply[0], reply[1] = 0x24, 2
    reply[24:32] = reply[40:48]
    with pytest.raises(ClockSourceError, match="origin differs"):
        ntp_offset(bytes(reply), sent, sent)
    reply[1] = 0
    with pytest.raises(ClockSourceError, match="not synchronised"):
        ntp_offset(bytes(reply), sent + 1, sent + 1)
    with pytest.raises(ClockSourceError, match="48"):
        ntp_offset(b"\x24", sent, sent)


def test_out_of_tolerance_is_recorded_audited_alarmed_and_blocks_signing(
    engine: Engine, ntp: FakeNtpServer
) -> None:
    trail = make_trail(engine)
    alarms: list[tuple[str, dict[str, Any]]] = []
    guard = ClockGuard(
        trail,
        lambda: sntp_offset("127.0.0.1", ntp.port, timeout=0.5),
        source_name=f"ntp://127.0.0.1:{ntp.port}",
        tolerance=timedelta(seconds=1),
        on_alarm=lambda kind, details: alarms.append((kind, details)),
    )
    assert guard.signing_blocked() == "the clock has not been checked against the time source yet"
    assert guard.check().within_tolerance
    assert guard.signing_blocked() is None
    ntp.shift = 4.2
    status = guard.check()
    assert not status.within_tolerance
    assert "exceeds the 1.000 s tolerance" in (guard.signing_blocked() or "")
    assert [kind for kind, _ in alarms] == ["clock_out_of_tolerance"]
    ntp.shift = 0.0
    guard.check()
    assert guard.signing_blocked() is None
    assert [e.event for e in trail.entries(object_type="clock")] == [
        "clock_out_of_tolerance",
        "clock_back_in_tolerance",
    ]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ClockReading)).scalar_one() == 3


def test_a_silent_source_blocks_signing(engine: Engine) -> None:
    def silent() -> float:
        raise ClockSourceError("no answer from the NTP server")

    guard = ClockGuard(make_trail(engine), silent, source_name="ntp://nowhere")
    guard.check()
    assert "does not answer" in (guard.signing_blocked() or "")


def test_a_system_time_jump_is_audited(engine: Engine) -> None:
    trail = make_trail(engine)
    wall = [1_000_000.0]
    mono = [50.0]
    guard = ClockGuard(
        trail, lambda: 0.0, source_name="ref", wall=lambda: wall[0], monotonic=lambda: mono[0]
    )
    guard.check()
    wall[0] += 60
    mono[0] += 60
    guard.check()
    wall[0] += 3660
    mono[0] += 60
    guard.check()
    (jump,) = trail.entries(event="system_time_jump")
    assert jump.new == {"jump_us": 3_600_000_000}
    mono[0] += 3600
    assert guard.signing_blocked() == "no clock check in the last 600 s"
