"""The record's counts and reconciliation, written from the line's reconciliation note.

Counts: the gateway's numbers for the batch (from the runtime's report) and the PLC's
counters; a PLC counter that differs from the gateway's number is a `reconciliation_breach`,
except after a gateway restart during the batch, when the gateway counted this run only.

Reconciliation: the code counts as reconciled, how far they are from adding up (against the
tolerance: beyond it, or codes misplaced without a difference in the counts, is a
`reconciliation_breach`), the journal's verification, and the yield — units accepted of the
order's quantity, or of the units coded without an order — against its limits (outside them is
a `yield_breach`). Values are recorded without limits: the breach is the exception QA reviews,
not a deviation of a process parameter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from ebr.audit.actor import Actor
from ebr.execution.kinds import ExceptionKind, Severity, Source, Step
from gateway.line.ebr_counts import CountComparison
from gateway.line.ebr_journal import LineNote
from gateway.line.ebr_plan import FeedPlan
from gateway.line.ebr_recorder import LineRecorder
from gateway.line.ebr_writes import Write

GATEWAY_COUNTS = (
    "units",
    "accepted",
    "rejected",
    "uncoded_rejects",
    "reject_confirmed",
    "reject_missed",
    "late_verdicts",
    "no_image",
    "unknown_units",
    "duplicate_triggers",
    "cases",
    "partial_cases",
    "pallets",
    "voided_at_end",
)
"""Keys of the runtime's report recorded in the `counts` section."""
OUTCOMES = ("accepted", "rejected", "sampled", "destroyed", "in_flight")


def counts_write(
    recorder: LineRecorder,
    note: LineNote,
    report: Mapping[str, Any],
    comparisons: Sequence[CountComparison],
    *,
    restarted: bool,
) -> Write:
    ref = f"journal:{note.seq}"
    reason = (
        "the gateway restarted during the batch: its counts are of this run" if restarted else None
    )

    def counts() -> None:
        for name in GATEWAY_COUNTS:
            recorder.value("counts", name, report.get(name), ref=ref, reason=reason)
        recorder.value("counts", "reject_reasons", dict(report.get("reject_reasons", {})), ref=ref)
        for comparison in comparisons:
            recorder.value(
                "counts",
                f"plc_{comparison.name}",
                comparison.plc,
                ref=ref,
                source=Source.TAG,
                reason=comparison.problem,
                evidence={"tag": comparison.tag, "gateway": comparison.gateway},
            )
            if comparison.differs and not restarted:
                recorder.exception(
                    ExceptionKind.RECONCILIATION_BREACH,
                    Severity.MAJOR,
                    f"the PLC counted {comparison.plc} ({comparison.name}), the gateway "
                    f"{comparison.gateway}",
                    f"counts:{comparison.name}",
                )
        recorder.complete(Step.COUNTS)

    return Write(Step.COUNTS, "the counts", counts)


def reconciliation_write(
    recorder: LineRecorder, plan: FeedPlan, note: LineNote, by: Actor
) -> Write:
    def reconciled() -> None:
        data = note.data
        codes = {str(k): int(v) for k, v in dict(data.get("counts") or {}).items()}
        balanced = bool(data.get("balanced"))
        verified = bool(data.get("journal_verified"))
        ref = f"journal:{note.seq}"
        evidence: dict[str, Any] = {"journal_seq": note.seq}
        off = unaccounted(codes)
        tolerance = plan.reconciliation_tolerance
        for name, value in (
            ("codes", codes),
            ("balanced", balanced),
            ("journal_verified", verified),
        ):
            recorder.value("reconciliation", name, value, ref=ref, evidence=evidence)
        recorder.value(
            "reconciliation",
            "codes_unaccounted",
            off,
            ref=ref,
            evidence={**evidence, "tolerance": tolerance},
        )
        if not balanced and not 0 < off <= tolerance:
            recorder.exception(
                ExceptionKind.RECONCILIATION_BREACH,
                Severity.MAJOR,
                f"the codes do not reconcile: {off} unaccounted (tolerance {tolerance})",
                f"reconciliation:{note.seq}",
            )
        if not verified:
            recorder.exception(
                ExceptionKind.RECONCILIATION_BREACH,
                Severity.MAJOR,
                "the production journal did not verify at the batch's end",
                f"journal:{note.seq}",
            )
        _yield(recorder, plan, codes, ref, evidence)
        recorder.complete(Step.RECONCILIATION, by)

    return Write(Step.RECONCILIATION, "the reconciliation", reconciled)


def unaccounted(counts: Mapping[str, int]) -> int:
    """How far the code counts are from adding up: allocated = issued + buffered, and issued =
    the sum of the outcomes."""
    issued = counts.get("issued", 0)
    allocation = counts.get("allocated", 0) - issued - counts.get("buffered", 0)
    return abs(allocation) + abs(issued - sum(counts.get(name, 0) for name in OUTCOMES))


def yield_percent(good: int, base: int) -> Decimal:
    return (Decimal(good * 100) / Decimal(base)).quantize(Decimal("0.01"))


def _yield(
    recorder: LineRecorder,
    plan: FeedPlan,
    codes: Mapping[str, int],
    ref: str,
    evidence: dict[str, Any],
) -> None:
    good = codes.get("accepted", 0)
    base = plan.planned_quantity or codes.get("issued", 0)
    if not base:
        return
    percent = yield_percent(good, base)
    low, high = plan.yield_limits.low_pct, plan.yield_limits.high_pct
    recorder.value(
        "reconciliation",
        "yield",
        percent,
        ref=ref,
        unit="%",
        evidence={
            **evidence,
            "good": good,
            "of": base,
            "of_what": "order quantity" if plan.planned_quantity else "units coded",
            "low_pct": low,
            "high_pct": high,
        },
    )
    if (low is not None and percent < low) or (high is not None and percent > high):
        shown = f"[{'-' if low is None else low}, {'-' if high is None else high}]"
        recorder.exception(
            ExceptionKind.YIELD_BREACH,
            Severity.MAJOR,
            f"yield {percent} % ({good} of {base}) outside {shown} %",
            f"yield:{ref}",
        )
