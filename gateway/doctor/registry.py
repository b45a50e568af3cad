"""The checks in the order they run: later ones use what earlier ones found (the site file,
the database), and are skipped, saying why, when it is missing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

from gateway.doctor.audit_chain import check_audit_chain
from gateway.doctor.certificate import check_certificate
from gateway.doctor.clock import check_clock
from gateway.doctor.configuration import check_configuration
from gateway.doctor.context import DoctorContext, DoctorOptions
from gateway.doctor.database import check_database
from gateway.doctor.devices import check_device_reachability
from gateway.doctor.disk import check_disk
from gateway.doctor.journal import check_journals
from gateway.doctor.outbox import check_outbox
from gateway.doctor.verdict import Verdict

Check = Callable[[DoctorContext], Verdict]

CHECKS: Final[tuple[Check, ...]] = (
    check_configuration,
    check_database,
    check_journals,
    check_audit_chain,
    check_disk,
    check_clock,
    check_certificate,
    check_device_reachability,
    check_outbox,
)


def run_doctor(config_path: Path, options: DoctorOptions | None = None) -> list[Verdict]:
    context = DoctorContext(config_path, options or DoctorOptions())
    try:
        return [check(context) for check in CHECKS]
    finally:
        context.close()
