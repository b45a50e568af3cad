"""The site file loads: every error is a failure, every warning a warning."""

from __future__ import annotations

from config import check_site_file, format_problem
from gateway.doctor.context import DoctorContext
from gateway.doctor.verdict import Status, Verdict

ITEM = "configuration"


def check_configuration(context: DoctorContext) -> Verdict:
    path = context.config_path
    report = check_site_file(path)
    context.config = report.config
    where = str(path)
    if report.errors:
        first = format_problem(report.errors[0], where)
        return Verdict(
            ITEM,
            Status.FAIL,
            f"the site file has {len(report.errors)} error(s), first: {first}",
            where,
            f"run `tracegate check-config {path}` for every problem and fix them",
        )
    if report.warnings:
        first = format_problem(report.warnings[0], where)
        return Verdict(
            ITEM,
            Status.WARN,
            f"the site file loads with {len(report.warnings)} warning(s), first: {first}",
            where,
            f"run `tracegate check-config {path}` for every warning",
        )
    return Verdict(ITEM, Status.OK, "the site file loads without warnings", where)
