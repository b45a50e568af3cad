"""Readiness checks on real databases: writable, read-only, locked by a writer; devices up or
not; the OPC UA server listening or not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.engine import make_url

from drivers.base import DeviceHealth, LinkState
from ebr.db import is_sqlite, make_engine
from gateway.observability.devices import DeviceBoard
from gateway.observability.readiness import (
    DatabaseWritable,
    DevicesUp,
    OpcUaServerBound,
    Readiness,
)


def read_only_copy(engine: Engine) -> Engine:
    """The same database opened the way a read-only one is: a SQLite file opened read-only,
    PostgreSQL sessions whose transactions are read-only (as on a standby)."""
    url = engine.url
    if is_sqlite(engine):
        return make_engine(f"sqlite:///file:{url.database}?mode=ro&uri=true")
    options = f"{url.query.get('options', '')} -cdefault_transaction_read_only=on".strip()
    return make_engine(make_url(url).update_query_dict({"options": options}))


def test_the_database_is_ready_only_while_it_takes_writes(engine: Engine) -> None:
    with engine.connect() as conn:
        before = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    writable = DatabaseWritable(engine, lock_wait_s=0.2)
    result = writable()
    assert result.ok, result
    assert result.name == "database"
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == before
        if is_sqlite(engine):
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000

    with engine.connect() as holder:
        holder.begin()
        if not is_sqlite(engine):
            holder.execute(text("SELECT version_num FROM alembic_version FOR UPDATE"))
        locked = writable()
        holder.rollback()
    assert not locked.ok
    assert "does not take writes" in locked.detail
    assert writable().ok

    read_only = read_only_copy(engine)
    try:
        with read_only.connect() as conn:
            assert conn.execute(select(1)).scalar() == 1
        refused = DatabaseWritable(read_only)()
    finally:
        read_only.dispose()
    assert not refused.ok
    assert "does not take writes" in refused.detail
    assert "read-only" in refused.detail.replace("readonly", "read-only")
    assert refused.fix
    assert refused.where


@dataclass
class Device:
    name: str
    state: LinkState
    last_error: str | None = None

    def health(self) -> DeviceHealth:
        return DeviceHealth(
            self.name, "camera", self.state, datetime.now(UTC), None, 0, self.last_error
        )


@pytest.mark.parametrize("state", [LinkState.DOWN, LinkState.DEGRADED, LinkState.CONNECTING])
def test_any_device_not_up_makes_the_gateway_not_ready(state: LinkState) -> None:
    board = DeviceBoard()
    check = DevicesUp(board)
    assert check().ok
    devices = [Device("plc-1", LinkState.UP), Device("camera-1", state, "connection refused")]
    with board.attached("line-1", devices):
        result = check()
        assert not result.ok
        assert result.where == "line-1/camera-1"
        assert f"camera-1 {state.value}: connection refused" in result.detail
        devices[1].state = LinkState.UP
        assert check().ok
    assert check().detail.startswith("no line is running")


@dataclass
class Server:
    endpoint: str = "opc.tcp://127.0.0.1:4840"
    listening: bool = False


def test_the_opcua_server_must_listen() -> None:
    server = Server()
    readiness = Readiness([OpcUaServerBound(server)])
    report = readiness.evaluate()
    assert not report.ready
    assert report.failed[0].where == server.endpoint
    server.listening = True
    assert readiness.evaluate().ready
