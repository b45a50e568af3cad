"""What a site may tune of the HMI."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class HmiSettings:
    idle_timeout_s: float = 15 * 60.0
    """A session with no request for this long ends; the live stream does not count."""
    secure_cookies: bool = False
    """Mark cookies Secure: set it when the HMI is served over HTTPS (always on with a
    `certificate`)."""
    stream_interval_s: float = 0.05
    """The live stream sends at most one update per interval (coalescing a burst of units)."""
    heartbeat_s: float = 1.0
    """The live stream sends at least this often, so a browser sees a dead stream."""
    certificate: Path | None = None
    """PEM certificate (chain) to serve the HMI over HTTPS with; None serves plain HTTP."""
    private_key: Path | None = None
    """The PEM private key of `certificate`; both or neither are given."""

    def __post_init__(self) -> None:
        if self.idle_timeout_s <= 0 or self.stream_interval_s <= 0 or self.heartbeat_s <= 0:
            raise ValueError("HMI timeouts and intervals must be positive")
        if (self.certificate is None) != (self.private_key is None):
            raise ValueError(
                "HTTPS for the HMI needs both a certificate and its private key "
                f"(certificate={self.certificate}, private_key={self.private_key}); "
                "give both, or neither for plain HTTP"
            )
        if self.certificate is not None:
            object.__setattr__(self, "secure_cookies", True)

    @property
    def https(self) -> bool:
        return self.certificate is not None
