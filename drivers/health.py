"""Per-device health bookkeeping shared by every driver.

It logs a change of state once (an outage is logged when it starts and when it ends, not on
every failed retry), counts errors and remembers when a good value last arrived.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from drivers.base import DeviceHealth, LinkState

log = logging.getLogger("tracegate.drivers")


class HealthTracker:
    def __init__(
        self,
        name: str,
        kind: str,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.kind = kind
        self._clock = clock
        self._monotonic = monotonic
        self._state = LinkState.CONNECTING
        self._since = clock()
        self._errors = 0
        self._last_error: str | None = None
        self._last_good: float | None = None
        self._details: dict[str, str] = {}

    @property
    def state(self) -> LinkState:
        return self._state

    def set_state(self, state: LinkState, *, reason: str | None = None) -> None:
        if state is self._state:
            return
        previous, self._state, self._since = self._state, state, self._clock()
        level = logging.WARNING if state in (LinkState.DOWN, LinkState.DEGRADED) else logging.INFO
        log.log(
            level,
            "%s %s: %s -> %s%s",
            self.kind,
            self.name,
            previous.value,
            state.value,
            f" ({reason})" if reason else "",
        )

    def error(self, error: BaseException | str) -> None:
        self._errors += 1
        self._last_error = str(error)

    def good_value(self) -> None:
        self._last_good = self._monotonic()

    def detail(self, key: str, value: str) -> None:
        self._details[key] = value

    def snapshot(self, details: Mapping[str, str] | None = None) -> DeviceHealth:
        age = None if self._last_good is None else self._monotonic() - self._last_good
        return DeviceHealth(
            name=self.name,
            kind=self.kind,
            state=self._state,
            since=self._since,
            last_good_value_age_s=age,
            error_count=self._errors,
            last_error=self._last_error,
            details={**self._details, **(details or {})},
        )
