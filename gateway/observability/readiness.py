"""Is this gateway ready to do its work? Ready only when every check passes: the database takes
writes, every attached device is up, and the OPC UA server (when the process runs one) is
listening. Each failing check says what, where and how to fix it.

The database check writes for real and rolls back: a database that answers reads but refuses
writes (a file or a file system turned read-only, a PostgreSQL standby, a read-only
transaction default) is exactly what must make the gateway not ready. It waits at most
`lock_wait_s` for a writer holding the lock, so a readiness probe never hangs behind one. On
SQLite the probe holds the write lock for the instant of its rolled-back update: a unit's
journal commit may wait that long, so poll readiness every few seconds, not in a tight loop.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from drivers.base import LinkState
from ebr.db import is_sqlite
from gateway.observability.devices import DeviceBoard

LOCK_WAIT_S: Final = 2.0
SQLITE_BUSY_TIMEOUT_MS: Final = 30000
"""What `ebr.db` sets on every SQLite connection; restored after the check."""
PROBE_WRITE: Final = text("UPDATE alembic_version SET version_num = version_num")


@dataclass(frozen=True, slots=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    where: str | None = None
    fix: str | None = None


class ReadinessCheck(Protocol):
    def __call__(self) -> CheckResult: ...


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    results: tuple[CheckResult, ...]

    @property
    def ready(self) -> bool:
        return all(result.ok for result in self.results)

    @property
    def failed(self) -> tuple[CheckResult, ...]:
        return tuple(result for result in self.results if not result.ok)


class Readiness:
    def __init__(self, checks: Sequence[ReadinessCheck] = ()) -> None:
        self.checks = list(checks)

    def evaluate(self) -> ReadinessReport:
        return ReadinessReport(tuple(check() for check in self.checks))


class DatabaseWritable:
    def __init__(self, engine: Engine, *, lock_wait_s: float = LOCK_WAIT_S) -> None:
        self._engine = engine
        self._lock_wait_s = lock_wait_s
        self._where = engine.url.render_as_string(hide_password=True)

    def __call__(self) -> CheckResult:
        try:
            with self._engine.connect() as conn, self._short_lock_wait(conn):
                transaction = conn.begin()
                try:
                    if not is_sqlite(self._engine):
                        milliseconds = int(self._lock_wait_s * 1000)
                        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {milliseconds}")
                        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {milliseconds}")
                    conn.execute(PROBE_WRITE)
                finally:
                    transaction.rollback()
        except SQLAlchemyError as error:
            return CheckResult(
                "database",
                False,
                f"the database does not take writes: {_first_line(error)}",
                self._where,
                "check that the database (its file and folder, or the PostgreSQL server) is "
                "writable and not a standby, that the disk is not full or mounted read-only; "
                "`tracegate doctor` checks the rest",
            )
        return CheckResult("database", True, "takes writes", self._where)

    @contextlib.contextmanager
    def _short_lock_wait(self, conn: Connection) -> Iterator[None]:
        """On SQLite, wait at most `lock_wait_s` for the write lock (PostgreSQL: SET LOCAL)."""
        if not is_sqlite(self._engine):
            yield
            return
        raw = conn.connection.driver_connection
        assert raw is not None
        raw.execute(f"PRAGMA busy_timeout = {int(self._lock_wait_s * 1000)}")
        try:
            yield
        finally:
            raw.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


class DevicesUp:
    """Every device of a running line is up (degraded, connecting or down is not ready)."""

    def __init__(self, board: DeviceBoard) -> None:
        self._board = board

    def __call__(self) -> CheckResult:
        entries = self._board.snapshot()
        if not entries:
            return CheckResult("devices", True, "no line is running: no devices to watch")
        not_up = [entry for entry in entries if entry.health.state is not LinkState.UP]
        if not not_up:
            return CheckResult("devices", True, f"all {len(entries)} device(s) up")
        named = [
            f"{e.line}/{e.health.name} {e.health.state.value}"
            + (f": {e.health.last_error}" if e.health.last_error else "")
            for e in not_up
        ]
        return CheckResult(
            "devices",
            False,
            f"{len(not_up)} of {len(entries)} device(s) not up: " + "; ".join(named),
            ", ".join(f"{e.line}/{e.health.name}" for e in not_up),
            "check the device's power, cable and address in the site file; the driver "
            "reconnects by itself once it answers",
        )


class Listening(Protocol):
    @property
    def endpoint(self) -> str: ...

    @property
    def listening(self) -> bool: ...


class OpcUaServerBound:
    def __init__(self, server: Listening) -> None:
        self._server = server

    def __call__(self) -> CheckResult:
        endpoint = self._server.endpoint
        if self._server.listening:
            return CheckResult("opcua_server", True, "listening", endpoint)
        return CheckResult(
            "opcua_server",
            False,
            "the OPC UA server is not listening",
            endpoint,
            "see the gateway's log for why it did not start (a port in use, a missing "
            "certificate); `tracegate doctor` checks the certificate",
        )


def _first_line(error: SQLAlchemyError) -> str:
    return str(getattr(error, "orig", None) or error).strip().splitlines()[0]
