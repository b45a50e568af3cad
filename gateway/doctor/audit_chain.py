"""The audit trail verifies as `tracegate audit verify` does it."""

from __future__ import annotations

from ebr.audit.bundle import verify_database
from gateway.doctor.context import DoctorContext
from gateway.doctor.verdict import Status, Verdict

ITEM = "audit chain"
SHOWN_FINDINGS = 3


def check_audit_chain(context: DoctorContext) -> Verdict:
    if context.engine is None:
        return Verdict(ITEM, Status.SKIP, "not checked: the database is not reachable")
    report = verify_database(context.engine)
    counts = f"{report.entries} entries, {report.checkpoints} checkpoints"
    if not report.ok:
        problems = [f"{f.kind}: {f.message}" for f in report.findings[:SHOWN_FINDINGS]]
        problems += [f"entries #{a}..#{b} missing" for a, b in report.missing_ranges]
        first = report.first_broken
        return Verdict(
            ITEM,
            Status.FAIL,
            f"{counts}; does not verify"
            + ("" if first is None else f", first broken entry #{first}")
            + ": "
            + "; ".join(problems),
            "tables audit_entries, audit_checkpoints, e_signatures",
            f"run `tracegate audit verify --config {context.config_path}` for every finding; "
            "keep the database as it is and compare with the last verified backup",
        )
    note = ""
    if report.unsigned_tail is not None:
        first, last = report.unsigned_tail
        note = f" (entries #{first}..#{last} await a signed checkpoint)"
    return Verdict(ITEM, Status.OK, f"{counts}: verified{note}")
