from __future__ import annotations

import contextlib
import os
import socket
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from ebr.clock import ClockSourceError
from gateway.doctor import Status, exit_code, run_doctor
from tests.gateway.doctor.doctor_site import (
    CALM,
    SECURED_SERVER,
    by_item,
    calm,
    expired_certificate,
    write_certificate,
    write_site,
)


def test_an_expired_certificate_fails(engine: Engine, tmp_path: Path) -> None:
    site = write_site(tmp_path, engine, SECURED_SERVER)
    expired_certificate(tmp_path / "pki" / "server.der")
    verdicts = run_doctor(site, CALM)
    found = by_item(verdicts)["certificate"]
    assert found.status is Status.FAIL
    assert "expired on" in found.what
    assert found.where == str((tmp_path / "pki" / "server.der").resolve())
    assert "tracegate certs create" in (found.fix or "")
    assert exit_code(verdicts) == 2


def test_a_certificate_about_to_expire_warns(engine: Engine, tmp_path: Path) -> None:
    site = write_site(tmp_path, engine, SECURED_SERVER)
    now = datetime.now(UTC)
    write_certificate(
        tmp_path / "pki" / "server.der", now - timedelta(days=1), now + timedelta(days=10)
    )
    found = by_item(run_doctor(site, CALM))["certificate"]
    assert found.status is Status.WARN
    assert "expires in 9 day(s)" in found.what or "expires in 10 day(s)" in found.what
    assert (
        by_item(run_doctor(site, calm(certificate_warn_days=5)))["certificate"].status is Status.OK
    )


def test_a_missing_certificate_of_a_secured_server_fails(engine: Engine, tmp_path: Path) -> None:
    found = by_item(run_doctor(write_site(tmp_path, engine, SECURED_SERVER), CALM))["certificate"]
    assert found.status is Status.FAIL
    assert "missing" in found.what


def test_a_clock_offset_fails_naming_the_reference(engine: Engine, tmp_path: Path) -> None:
    site = write_site(tmp_path, engine)
    verdicts = run_doctor(site, calm(reference_clocks=[("site NTP", lambda: 120.0)]))
    found = by_item(verdicts)["clock"]
    assert found.status is Status.FAIL
    assert "site NTP +120.000 s" in found.what
    assert "1 s tolerance" in found.what
    assert exit_code(verdicts) == 2


def test_no_answering_time_reference_warns(engine: Engine, tmp_path: Path) -> None:
    def silent() -> float:
        raise ClockSourceError("no answer from the NTP server 127.0.0.1:123: timed out")

    found = by_item(
        run_doctor(write_site(tmp_path, engine), calm(reference_clocks=[("NTP", silent)]))
    )
    assert found["clock"].status is Status.WARN
    assert "no time reference answered: NTP (no answer" in found["clock"].what


def test_postgresql_is_a_time_reference(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no clock of its own")
    from gateway.doctor.clock import database_offset

    assert abs(database_offset(engine)) < 1.0


@contextlib.contextmanager
def small_filesystem(folder: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs mounted on `folder` (root only)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            "!!! FULL-DISK TEST SKIPPED: cannot mount a small tmpfs here "
            f"({mounted.stderr.strip() or 'mount failed'}); run the tests as root !!!"
        )
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def fill(folder: Path) -> None:
    with contextlib.suppress(OSError), (folder / "filler").open("wb") as out:
        while True:
            out.write(b"\0" * 65536)
            out.flush()
            os.fsync(out.fileno())


def test_a_full_disk_is_named(engine: Engine, tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "site") as folder:
        site = write_site(folder, engine)
        fill(folder)
        options = calm(disk_warn_percent=10, disk_fail_percent=2, disk_fail_bytes=0)
        verdicts = run_doctor(site, options)
        found = by_item(verdicts)["disk space"]
    assert found.status is Status.FAIL
    assert found.where is not None
    assert str(folder.resolve()) in found.where
    assert "site folder" in found.what
    assert exit_code(verdicts) == 2


def test_a_small_disk_fails_below_the_absolute_minimum(engine: Engine, tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "site") as folder:
        site = write_site(folder, engine)
        found = by_item(run_doctor(site, calm(disk_fail_bytes=500 * 1024 * 1024)))["disk space"]
    assert found.status is Status.FAIL
    assert "MB free of 1 MB" in found.what


def test_the_thresholds_decide_on_any_filesystem(engine: Engine, tmp_path: Path) -> None:
    site = write_site(tmp_path, engine)
    warned = by_item(run_doctor(site, calm(disk_warn_percent=100)))["disk space"]
    assert warned.status is Status.WARN
    assert str(tmp_path.resolve()) in (warned.where or "")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_device_fails_naming_it(engine: Engine, tmp_path: Path) -> None:
    port = _closed_port()
    device = (
        "    devices:\n"
        f"      - {{id: printer-9, kind: printer-tcp, role: unit-printer, host: 127.0.0.1, "
        f"port: {port}, job: UNIT}}\n"
    )
    text = write_site(tmp_path, engine).read_text(encoding="utf-8") + device
    site = tmp_path / "site.yaml"
    site.write_text(text, encoding="utf-8")
    found = by_item(run_doctor(site, calm(device_timeout_s=0.5)))["devices"]
    assert found.status is Status.FAIL
    assert f"line-1/printer-9 down at 127.0.0.1:{port}" in found.what
