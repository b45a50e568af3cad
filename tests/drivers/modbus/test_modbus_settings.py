"""Transport and poll settings, and the per-slave circuit breaker."""

from __future__ import annotations

import pytest

from drivers.base import UsageError
from drivers.modbus.breaker import SlaveBreakers
from drivers.modbus.settings import PollSettings, RtuSettings, TcpSettings


def test_inter_frame_gap_is_three_and_a_half_characters() -> None:
    assert RtuSettings("/dev/x", baudrate=9600, parity="E").inter_frame_s == pytest.approx(
        3.5 * 11 / 9600
    )
    assert RtuSettings("/dev/x", baudrate=9600, parity="N").inter_frame_s == pytest.approx(
        3.5 * 10 / 9600
    )
    assert RtuSettings("/dev/x", baudrate=115200).inter_frame_s == pytest.approx(0.00175)


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: TcpSettings(""), "host is empty"),
        (lambda: TcpSettings("h", port=0), "port 0"),
        (lambda: RtuSettings(""), "serial port is empty"),
        (lambda: RtuSettings("/dev/x", parity="X"), "parity 'X'"),
        (lambda: RtuSettings("/dev/x", stopbits=3), "stop bits 3"),
        (lambda: RtuSettings("/dev/x", baudrate=0), "baud rate 0"),
        (lambda: PollSettings(backoff_cap_s=6), "backoff_cap_s"),
        (lambda: PollSettings(request_timeout_s=0, max_gap=-1), "request_timeout_s, max_gap"),
    ],
)
def test_bad_settings_are_refused(make: object, fragment: str) -> None:
    with pytest.raises(UsageError, match=fragment):
        make()  # type: ignore[operator]


def test_describe() -> None:
    assert TcpSettings("10.0.0.5").describe() == "tcp://10.0.0.5:502"
    assert RtuSettings("/dev/ttyUSB0").describe() == "rtu:///dev/ttyUSB0@19200E1"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_breaker_skips_a_failing_slave_then_tries_again() -> None:
    clock = FakeClock()
    breakers = SlaveBreakers(failures=2, skip_s=5.0, monotonic=clock)
    breakers.failure(3)
    assert breakers.allows(3)
    assert breakers.skipped() == []
    breakers.failure(3)
    assert not breakers.allows(3)
    assert breakers.allows(4)
    assert breakers.skipped() == [3]
    clock.now += 5.0
    assert breakers.allows(3)
    breakers.failure(3)
    assert not breakers.allows(3)
    clock.now += 5.0
    breakers.success(3)
    assert breakers.allows(3)
    assert breakers.skipped() == []


def test_breaker_success_resets_the_count() -> None:
    breakers = SlaveBreakers(failures=2, skip_s=5.0)
    breakers.failure(1)
    breakers.success(1)
    breakers.failure(1)
    assert breakers.allows(1)
