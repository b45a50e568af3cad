"""This machine's clock against the time references: the site's NTP server, PostgreSQL's clock
(when the database is on another machine it is an independent reference) and the system's own
synchronisation status. Beyond the site file's tolerance, e-signatures are refused (R-CLK-1)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence
from functools import partial

from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from ebr.clock import ClockSourceError, sntp_offset
from gateway.doctor.context import DoctorContext, ReferenceClock
from gateway.doctor.verdict import Status, Verdict

ITEM = "clock"


def database_offset(engine: Engine) -> float:
    """PostgreSQL's clock minus this machine's, taken at the middle of the round trip."""
    with engine.connect() as conn:
        before = time.time()
        server = conn.execute(text("SELECT clock_timestamp()")).scalar_one()
        after = time.time()
    return float(server.timestamp()) - (before + after) / 2


def system_synchronised() -> bool | None:
    """timedatectl's NTPSynchronized; None when it cannot tell (no systemd, no timedatectl)."""
    if shutil.which("timedatectl") is None:
        return None
    try:
        answer = subprocess.run(
            ["timedatectl", "show", "--property=NTPSynchronized", "--value"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = answer.stdout.strip()
    return {"yes": True, "no": False}.get(value) if answer.returncode == 0 else None


def default_references(context: DoctorContext) -> list[ReferenceClock]:
    assert context.config is not None
    clock = context.config.maintenance.clock
    timeout = context.options.ntp_timeout_s
    references: list[ReferenceClock] = [
        (
            f"NTP {clock.ntp_server}:{clock.ntp_port}",
            partial(sntp_offset, clock.ntp_server, clock.ntp_port, timeout=timeout),
        )
    ]
    engine = context.engine
    if engine is not None and engine.dialect.name == "postgresql":
        references.append(("PostgreSQL clock", partial(_database_reference, engine)))
    return references


def _database_reference(engine: Engine) -> float:
    try:
        return database_offset(engine)
    except SQLAlchemyError as error:
        raise ClockSourceError(f"the database clock cannot be read: {error}") from error


def check_clock(context: DoctorContext) -> Verdict:
    config = context.config
    if config is None:
        return Verdict(ITEM, Status.SKIP, "not checked: the site file does not load")
    tolerance_s = config.maintenance.clock.tolerance_ms / 1000
    injected = context.options.reference_clocks
    references: Sequence[ReferenceClock] = (
        injected if injected is not None else default_references(context)
    )
    readings: list[tuple[str, float]] = []
    silent: list[str] = []
    for name, offset_of in references:
        try:
            readings.append((name, offset_of()))
        except ClockSourceError as error:
            silent.append(f"{name} ({error.message})")
    synchronised = None if injected is not None else system_synchronised()
    fix = (
        "synchronise the clock with the site's time server (chrony: `chronyc tracking`; "
        "`timedatectl set-ntp true`) and check maintenance.clock in the site file"
    )
    off = [(name, offset) for name, offset in readings if abs(offset) > tolerance_s]
    measured = ", ".join(f"{name} {offset:+.3f} s" for name, offset in readings)
    if off:
        return Verdict(
            ITEM,
            Status.FAIL,
            f"offset beyond the {tolerance_s:g} s tolerance: "
            + ", ".join(f"{name} {offset:+.3f} s" for name, offset in off)
            + "; e-signatures are refused until it is corrected",
            ", ".join(name for name, _ in off),
            fix,
        )
    if synchronised is False:
        return Verdict(
            ITEM,
            Status.WARN,
            "the system clock is not NTP-synchronised (timedatectl)"
            + (f"; measured {measured}" if measured else ""),
            "timedatectl",
            fix,
        )
    if not readings and not synchronised:
        return Verdict(
            ITEM,
            Status.WARN,
            "no time reference answered: " + "; ".join(silent),
            None,
            fix,
        )
    what = f"within the {tolerance_s:g} s tolerance: {measured}" if measured else ""
    if synchronised:
        what = "; ".join(filter(None, [what, "NTP-synchronised (timedatectl)"]))
    if silent:
        what += "; not answering: " + "; ".join(silent)
    return Verdict(ITEM, Status.OK, what)
