"""Failed log-ins are rate limited per source address and per user name.

An account locks after repeated failures (`ebr.users`), but that alone neither slows a guesser
spraying many user names from one address nor one hammering a locked or unknown account, and
every refused attempt is an audit entry. Past `per_address` failures from one address, or
`per_username` failures for one name, within `window_s`, further attempts are answered 429
with `Retry-After` before the password is checked (nothing is audited for them; each block is
logged once). A successful log-in clears its user name's count, not its address's.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gateway.api.problems import MEDIA_TYPE, ApiProblemError, Problem

log = logging.getLogger("tracegate.api")

MAX_TRACKED: Final = 10_000
"""Addresses and names remembered; past it, those without a failure in the window are dropped."""
MAX_NAME: Final = 128


@dataclass(frozen=True, slots=True)
class LoginLimits:
    window_s: float = 300.0
    per_address: int = 20
    per_username: int = 10

    def __post_init__(self) -> None:
        if self.window_s <= 0 or self.per_address < 1 or self.per_username < 1:
            raise ValueError("login limits need window_s > 0 and at least one attempt each")


class LoginRateLimitedError(ApiProblemError):
    def __init__(self, detail: str, *, where: str, retry_after_s: int) -> None:
        super().__init__(
            429,
            "Too many failed log-ins",
            detail,
            where=where,
            fix=f"wait {retry_after_s} s and try again with the right password; an administrator "
            "can reset a forgotten one",
        )
        self.retry_after_s = retry_after_s


class LoginLimiter:
    def __init__(
        self, limits: LoginLimits | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limits = limits or LoginLimits()
        self._clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._blocked: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def check(self, address: str, username: str) -> None:
        """Raise `LoginRateLimitedError` when either key is over its limit."""
        now = self._clock()
        for key, limit, where in self._keys(address, username):
            with self._lock:
                times = self._recent(key, now)
                over = len(times) >= limit
                retry = math.ceil(times[0] + self.limits.window_s - now) if over else 0
                first_block = over and key not in self._blocked
                if over:
                    self._blocked.add(key)
            if over:
                detail = (
                    f"{len(times)} failed log-ins from {where} in the last "
                    f"{self.limits.window_s:g} s"
                )
                if first_block:
                    log.warning("log-in rate limit reached: %s", detail)
                raise LoginRateLimitedError(detail, where=where, retry_after_s=max(1, retry))

    def failed(self, address: str, username: str) -> None:
        now = self._clock()
        with self._lock:
            if len(self._failures) >= MAX_TRACKED:
                self._forget_expired(now)
            for key, _, _ in self._keys(address, username):
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, username: str) -> None:
        key = ("username", username[:MAX_NAME])
        with self._lock:
            self._failures.pop(key, None)
            self._blocked.discard(key)

    def _keys(self, address: str, username: str) -> list[tuple[tuple[str, str], int, str]]:
        name = username[:MAX_NAME]
        return [
            (("address", address), self.limits.per_address, f"address {address}"),
            (("username", name), self.limits.per_username, f"user name {name!r}"),
        ]

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.limits.window_s:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
            self._blocked.discard(key)
        return times

    def _forget_expired(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def install(app: FastAPI) -> None:
    """Answer `LoginRateLimitedError` as a 429 problem with `Retry-After`."""

    async def rate_limited(request: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, LoginRateLimitedError)
        problem = Problem(
            title=error.title,
            status=error.status,
            detail=error.detail,
            where=error.where,
            fix=error.fix,
            instance=request.url.path,
        )
        return JSONResponse(
            problem.model_dump(exclude_none=True),
            status_code=error.status,
            media_type=MEDIA_TYPE,
            headers={"Retry-After": str(error.retry_after_s)},
        )

    app.add_exception_handler(LoginRateLimitedError, rate_limited)
