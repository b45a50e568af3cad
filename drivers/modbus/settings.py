"""How to reach a Modbus device and how hard to try: transport and polling settings."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.base import UsageError

_PARITIES = ("N", "E", "O")


@dataclass(frozen=True, slots=True)
class TcpSettings:
    host: str
    port: int = 502

    def __post_init__(self) -> None:
        if not self.host:
            raise UsageError("Modbus TCP host is empty", hint="set the device's IP address")
        if not 1 <= self.port <= 65535:
            raise UsageError(f"Modbus TCP port {self.port} is outside 1..65535")

    def describe(self) -> str:
        return f"tcp://{self.host}:{self.port}"


@dataclass(frozen=True, slots=True)
class RtuSettings:
    port: str
    """Serial device path (e.g. /dev/ttyUSB0)."""
    baudrate: int = 19200
    parity: str = "E"
    stopbits: int = 1
    bytesize: int = 8
    byte_timeout_s: float = 0.01
    """Silence after a timed-out answer before the bus is used again, on top of the
    inter-frame gap, so a late partial answer is not glued to the next frame."""

    def __post_init__(self) -> None:
        if not self.port:
            raise UsageError("Modbus RTU serial port is empty", hint="e.g. /dev/ttyUSB0")
        if self.baudrate <= 0:
            raise UsageError(f"Modbus RTU baud rate {self.baudrate} must be positive")
        if self.parity not in _PARITIES:
            raise UsageError(
                f"Modbus RTU parity {self.parity!r} is not one of {', '.join(_PARITIES)}"
            )
        if self.stopbits not in (1, 2):
            raise UsageError(f"Modbus RTU stop bits {self.stopbits} must be 1 or 2")
        if self.bytesize not in (7, 8):
            raise UsageError(f"Modbus RTU byte size {self.bytesize} must be 7 or 8")
        if self.byte_timeout_s < 0:
            raise UsageError(f"Modbus RTU byte timeout {self.byte_timeout_s} s is negative")

    @property
    def character_bits(self) -> int:
        return 1 + self.bytesize + (0 if self.parity == "N" else 1) + self.stopbits

    @property
    def inter_frame_s(self) -> float:
        """The 3.5-character silence that ends an RTU frame (fixed at 1.75 ms above 19200 baud)."""
        if self.baudrate > 19200:
            return 0.00175
        return 3.5 * self.character_bits / self.baudrate

    def describe(self) -> str:
        return f"rtu://{self.port}@{self.baudrate}{self.parity}{self.stopbits}"


@dataclass(frozen=True, slots=True)
class PollSettings:
    request_timeout_s: float = 1.0
    poll_interval_s: float = 0.5
    max_gap: int = 8
    """Unused addresses a merged read may span between two tags."""
    breaker_failures: int = 2
    """Consecutive timeouts after which a slave is skipped."""
    breaker_skip_s: float = 5.0
    """How long a failing slave is skipped before it is tried again."""
    backoff_initial_s: float = 0.2
    backoff_cap_s: float = 4.0
    """Below the 5 s the device issue allows, leaving room for the connect itself."""

    def __post_init__(self) -> None:
        checks = {
            "request_timeout_s": self.request_timeout_s > 0,
            "poll_interval_s": self.poll_interval_s > 0,
            "max_gap": self.max_gap >= 0,
            "breaker_failures": self.breaker_failures >= 1,
            "breaker_skip_s": self.breaker_skip_s >= 0,
            "backoff_initial_s": self.backoff_initial_s > 0,
            "backoff_cap_s": 0 < self.backoff_cap_s <= 5.0,
        }
        wrong = [name for name, ok in checks.items() if not ok]
        if wrong:
            raise UsageError(
                f"Modbus poll settings out of range: {', '.join(wrong)}",
                hint="timeouts and intervals > 0, max_gap ≥ 0, backoff cap ≤ 5 s",
            )
