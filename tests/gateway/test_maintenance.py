"""The gateway's periodic work on a fast schedule with real components: a local NTP server,
the site's database (SQLite and PostgreSQL), real backups verified by restoring them, and
checkpoints signed with the site key; every run is in the audit trail."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import func, select

from config import load_site
from ebr.audit.bundle import verify_database
from ebr.audit.checkpoints import SiteKey, create_site_key
from ebr.audit.models import ClockReading
from ebr.backup import MANIFEST_SUFFIX
from gateway.maintenance import Maintenance, gateway_scheduler
from gateway.site_store import SiteStore, open_site_store
from tests.ebr.audit.test_audit_clock import FakeNtpServer
from tests.gateway.test_site_store_audit import write_site

Alarms = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def ntp() -> Iterator[FakeNtpServer]:
    server = FakeNtpServer()
    yield server
    server.close()


def fast_sections(port: int, *, minutes: float = 0.01) -> str:
    return f"""
audit:
  checkpoint_every: 1000
  checkpoint_minutes: {minutes}
maintenance:
  clock:
    ntp_server: 127.0.0.1
    ntp_port: {port}
    tolerance_ms: 500
    check_minutes: {minutes}
  backup:
    directory: backups
    full_cron: "0 2 * * *"
    incremental_minutes: {minutes * 2}
"""


@pytest.fixture
def site_key(tmp_path: Path) -> SiteKey:
    return create_site_key(tmp_path / "keys" / "audit.pem")


def open_store(directory: Path, db_url: str, port: int, *, minutes: float = 0.01) -> SiteStore:
    site = write_site(directory, db_url, fast_sections(port, minutes=minutes))
    return open_site_store(load_site(site))


def runs(store: SiteStore, job: str, event: str = "maintenance_run") -> list[dict[str, Any]]:
    return [
        entry.new
        for entry in store.audit.entries(event=event, object_type="maintenance", object_id=job)
    ]


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the scheduled jobs did not run in time"
        time.sleep(0.1)


def test_scheduled_jobs_run_and_are_audited(
    db_url: str, tmp_path: Path, ntp: FakeNtpServer, site_key: SiteKey
) -> None:
    store = open_store(tmp_path, db_url, ntp.port)
    alarms: Alarms = []
    maintenance = Maintenance(store.config, store.audit, on_alarm=lambda *a: alarms.append(a))
    scheduler = BackgroundScheduler(timezone="UTC")
    maintenance.schedule(scheduler)
    assert {job.id for job in scheduler.get_jobs()} == {
        "audit-checkpoint",
        "clock-check",
        "backup-full",
        "backup-incremental",
    }
    scheduler.start()
    try:
        wait_for(
            lambda: (
                len(runs(store, "clock-check")) >= 2
                and len(runs(store, "backup-incremental")) >= 2
                and len(runs(store, "audit-checkpoint")) >= 1
            )
        )
    finally:
        scheduler.shutdown(wait=True)
    try:
        assert alarms == []
        assert maintenance.clock.signing_blocked() is None
        with store.engine.connect() as conn:
            readings = conn.scalar(select(func.count()).select_from(ClockReading))
        assert readings is not None
        assert readings >= 2
        assert all(run["within_tolerance"] for run in runs(store, "clock-check"))

        kinds = [run["kind"] for run in runs(store, "backup-incremental")]
        assert kinds[0] == "full"
        assert "incremental" in kinds
        manifests = sorted((tmp_path / "backups").glob(f"*{MANIFEST_SUFFIX}"))
        assert {json.loads(m.read_text())["kind"] for m in manifests} == {"full", "incremental"}
        assert store.audit.entries(event="backup_verified")

        store.audit.checkpoint()
        report = verify_database(store.engine, trusted_keys=[site_key.public_key_hex])
        assert report.ok, report.lines()
        assert report.checkpoints >= 1
    finally:
        store.close()


def test_timed_checkpoint_only_when_entries_are_unsigned(
    tmp_path: Path, ntp: FakeNtpServer, site_key: SiteKey
) -> None:
    store = open_store(tmp_path, f"sqlite:///{tmp_path}/t.db", ntp.port)
    try:
        maintenance = Maintenance(store.config, store.audit)
        assert store.audit.unsigned_entries() > 0
        assert maintenance.checkpoint() is not None
        assert store.audit.unsigned_entries() == 0
        head = store.audit.head()
        assert maintenance.checkpoint() is None
        assert store.audit.head() == head
        assert len(runs(store, "audit-checkpoint")) == 1
        assert verify_database(store.engine, trusted_keys=[site_key.public_key_hex]).ok
    finally:
        store.close()


def test_clock_out_of_tolerance_alarms_and_blocks_signing(
    tmp_path: Path, ntp: FakeNtpServer, site_key: SiteKey
) -> None:
    store = open_store(tmp_path, f"sqlite:///{tmp_path}/t.db", ntp.port)
    alarms: Alarms = []
    try:
        maintenance = Maintenance(store.config, store.audit, on_alarm=lambda *a: alarms.append(a))
        ntp.shift = 3.0
        maintenance.check_clock()
        assert [kind for kind, _ in alarms] == ["clock_out_of_tolerance"]
        blocked = maintenance.clock.signing_blocked()
        assert blocked is not None
        assert "exceeds" in blocked
        [run] = runs(store, "clock-check")
        assert run["within_tolerance"] is False
        assert run["offset_us"] == pytest.approx(3_000_000, abs=100_000)
        assert store.audit.entries(event="clock_out_of_tolerance")
    finally:
        store.close()


def test_a_failed_backup_is_audited_and_alarmed(
    tmp_path: Path, ntp: FakeNtpServer, site_key: SiteKey
) -> None:
    store = open_store(tmp_path, f"sqlite:///{tmp_path}/t.db", ntp.port)
    alarms: Alarms = []
    try:
        maintenance = Maintenance(store.config, store.audit, on_alarm=lambda *a: alarms.append(a))
        maintenance.full_backup()
        [manifest] = (tmp_path / "backups").glob(f"*{MANIFEST_SUFFIX}")
        tampered = json.loads(manifest.read_text()) | {"head_hash": "0" * 64}
        manifest.write_text(json.dumps(tampered))
        maintenance.incremental_backup()
        [failed] = runs(store, "backup-incremental", event="maintenance_failed")
        assert failed["outcome"] == "failed"
        assert "does not continue the chain head" in failed["problem"]
        kinds = [kind for kind, _ in alarms]
        assert kinds == ["backup_failed", "maintenance_failed"]
        assert runs(store, "backup-full")[0]["kind"] == "full"
    finally:
        store.close()


async def test_runs_on_the_gateways_asyncio_scheduler(
    tmp_path: Path, ntp: FakeNtpServer, site_key: SiteKey
) -> None:
    store = open_store(tmp_path, f"sqlite:///{tmp_path}/t.db", ntp.port, minutes=0.005)
    scheduler = gateway_scheduler()
    Maintenance(store.config, store.audit).schedule(scheduler)
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while len(runs(store, "clock-check")) < 2:
            assert time.monotonic() < deadline, "the clock check did not run on the event loop"
            await asyncio.sleep(0.1)
    finally:
        scheduler.shutdown(wait=True)
        store.close()
