"""One clock (R-CLK-1): the system time measured against a reference, recorded, alarmed.

- `ClockGuard.check()` measures the offset against the reference source (an NTP server such as
  the site's chrony, or any configured source), stores the reading in `clock_readings`, and on
  leaving or re-entering the tolerance writes an audit entry and raises an alarm.
- Beyond the tolerance, or without a recent reading, `signing_blocked()` says why, and the
  e-signature service refuses to sign (`ESignatures(signing_blocked=guard.signing_blocked)`).
- A jump of the system time between two checks (wall-clock progress differing from monotonic
  progress) is audited.

The SNTP exchange is split: `ntp_request` / `ntp_offset` are pure byte functions; `sntp_offset`
is the one place with a socket.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from ebr.audit.chain import utc_text
from ebr.audit.models import ClockReading
from ebr.audit.trail import AuditEvent, AuditTrail
from ebr.errors import StoreError

NTP_EPOCH_OFFSET = 2_208_988_800
"""Seconds from 1900-01-01 (NTP era 0) to 1970-01-01."""
NTP_PACKET = struct.Struct("!B B b b 11I")


class ClockSourceError(StoreError):
    """The reference time source did not give a usable answer."""


def to_ntp_time(unix: float) -> tuple[int, int]:
    seconds = int(unix) + NTP_EPOCH_OFFSET
    return seconds, int((unix - int(unix)) * 2**32) & 0xFFFFFFFF


def from_ntp_time(seconds: int, fraction: int) -> float:
    return seconds - NTP_EPOCH_OFFSET + fraction / 2**32


def ntp_request(transmit: float) -> bytes:
    """An SNTPv4 client request whose transmit timestamp is `transmit` (Unix seconds)."""
    seconds, fraction = to_ntp_time(transmit)
    return NTP_PACKET.pack(0x23, 0, 0, 0, *([0] * 9), seconds, fraction)


def ntp_offset(response: bytes, sent: float, received: float) -> float:
    """Reference minus local time, seconds, from a server reply (RFC 4330 section 5)."""
    if len(response) < NTP_PACKET.size:
        raise ClockSourceError(f"NTP reply of {len(response)} bytes, expected at least 48")
    first, stratum, _poll, _precision, *words = NTP_PACKET.unpack(response[: NTP_PACKET.size])
    if first & 0x07 != 4:
        raise ClockSourceError(f"NTP reply in mode {first & 0x07}, expected 4 (server)")
    if stratum == 0 or first >> 6 == 3:
        raise ClockSourceError("the NTP server is not synchronised (kiss-o'-death or alarm)")
    origin = words[5], words[6]
    if origin != to_ntp_time(sent):
        raise ClockSourceError("the NTP reply does not answer our request (origin differs)")
    server_received = from_ntp_time(words[7], words[8])
    server_sent = from_ntp_time(words[9], words[10])
    return ((server_received - sent) + (server_sent - received)) / 2


def sntp_offset(host: str, port: int = 123, *, timeout: float = 2.0) -> float:
    """Ask an NTP server (chrony, ntpd, a GPS clock) once; returns reference minus local."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sent = time.time()
        try:
            sock.sendto(ntp_request(sent), (host, port))
            response, _ = sock.recvfrom(512)
        except OSError as error:
            raise ClockSourceError(
                f"no answer from the NTP server {host}:{port}: {error}",
                hint="check the time server address and that UDP is allowed",
            ) from error
        return ntp_offset(response, sent, time.time())


@dataclass(frozen=True, slots=True)
class ClockStatus:
    at: str
    offset_s: float | None
    within_tolerance: bool
    monotonic: float


Alarm = Callable[[str, dict[str, Any]], None]


def _no_alarm(_kind: str, _details: dict[str, Any]) -> None:
    return None


class ClockGuard:
    def __init__(
        self,
        trail: AuditTrail,
        source: Callable[[], float],
        *,
        source_name: str,
        tolerance: timedelta = timedelta(seconds=1),
        max_age: timedelta = timedelta(minutes=10),
        jump_threshold: timedelta = timedelta(seconds=2),
        on_alarm: Alarm = _no_alarm,
        wall: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._trail = trail
        self._source = source
        self._source_name = source_name
        self._tolerance = tolerance.total_seconds()
        self._max_age = max_age.total_seconds()
        self._jump = jump_threshold.total_seconds()
        self._on_alarm = on_alarm
        self._wall = wall
        self._monotonic = monotonic
        self._last: ClockStatus | None = None
        self._last_wall: float | None = None

    @property
    def last(self) -> ClockStatus | None:
        return self._last

    def check(self) -> ClockStatus:
        """Measure, record, and audit what changed (for a scheduler: every minute or so)."""
        wall, mono = self._wall(), self._monotonic()
        events = self._jump_events(wall, mono)
        try:
            offset: float | None = self._source()
            problem = None
        except ClockSourceError as error:
            offset, problem = None, error.message
        within = offset is not None and abs(offset) <= self._tolerance
        status = ClockStatus(utc_text(self._trail.now()), offset, within, mono)
        was_within = self._last.within_tolerance if self._last else True
        if was_within and not within:
            details = {
                "source": self._source_name,
                "offset_us": None if offset is None else round(offset * 1e6),
                "tolerance_us": round(self._tolerance * 1e6),
                "problem": problem,
            }
            events.append(
                AuditEvent("clock_out_of_tolerance", "clock", self._source_name, new=details)
            )
            self._on_alarm("clock_out_of_tolerance", details)
        elif within and not was_within:
            events.append(
                AuditEvent(
                    "clock_back_in_tolerance",
                    "clock",
                    self._source_name,
                    new={"offset_us": round((offset or 0.0) * 1e6)},
                )
            )
        with self._trail.engine.begin() as conn:
            conn.execute(
                insert(ClockReading).values(
                    at=status.at,
                    source=self._source_name,
                    offset_us=None if offset is None else round(offset * 1e6),
                    within_tolerance=within,
                )
            )
            if events:
                self._trail.record(conn, events)
        self._last, self._last_wall = status, wall
        return status

    def signing_blocked(self) -> str | None:
        """Why signing must wait, or None when the clock is trustworthy."""
        last = self._last
        if last is None:
            return "the clock has not been checked against the time source yet"
        if self._monotonic() - last.monotonic > self._max_age:
            return f"no clock check in the last {self._max_age:.0f} s"
        if last.offset_s is None:
            return f"the time source {self._source_name} does not answer"
        if not last.within_tolerance:
            return (
                f"clock offset {last.offset_s:+.3f} s exceeds the {self._tolerance:.3f} s tolerance"
            )
        return None

    def _jump_events(self, wall: float, mono: float) -> list[AuditEvent]:
        if self._last is None or self._last_wall is None:
            return []
        jump = (wall - self._last_wall) - (mono - self._last.monotonic)
        if abs(jump) <= self._jump:
            return []
        details = {"jump_us": round(jump * 1e6)}
        self._on_alarm("system_time_jump", details)
        return [AuditEvent("system_time_jump", "clock", "system", new=details)]
