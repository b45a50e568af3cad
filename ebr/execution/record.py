"""`ExecutionRecord`: the one object the gateway, the line's feed and the commands use to write
and read a batch's executed record. It only composes the parts (steps, entries, exceptions,
deviations, checks, overrides, review); each part's module says how it works."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from ebr.audit.actor import GATEWAY
from ebr.audit.trail import AuditTrail
from ebr.execution.checks import Checks, ScheduledCheck
from ebr.execution.context import Context, Who
from ebr.execution.deviations import Deviation, Deviations
from ebr.execution.entries import Entries, Entry, NewEntry
from ebr.execution.exceptions import ExceptionItem, Exceptions
from ebr.execution.kinds import ExceptionKind, Severity, Source, Step
from ebr.execution.materials import MaterialAccount, Materials
from ebr.execution.overrides import manual_override
from ebr.execution.review import Review
from ebr.execution.signing import SignatureRequest, check_rules
from ebr.execution.steps import StepDone, Steps, as_step
from ebr.execution.values import Limits, Number
from ebr.journal import Journal
from ebr.signatures import ESignatures
from ebr.users import Session, Users

CHECK_GRACE = timedelta(minutes=5)


class ExecutionRecord:
    def __init__(
        self,
        engine: Engine,
        trail: AuditTrail,
        signatures: ESignatures,
        users: Users,
        *,
        journal: Journal | None = None,
        check_grace: timedelta = CHECK_GRACE,
    ) -> None:
        """`signatures` must carry the executed record's rules (`execution_requirements`).
        `journal` is the line's production journal when the gateway runs one (its cached chain
        heads then stay right); by default a journal of its own on `engine`."""
        check_rules(signatures)
        self._ctx = Context(
            engine,
            trail,
            signatures,
            users,
            journal or Journal(engine, clock=trail.now, audit=trail),
        )
        self._steps = Steps(self._ctx)
        self._exceptions = Exceptions(self._ctx)
        self._deviations = Deviations(self._ctx)
        self._entries = Entries(self._ctx, self._steps)
        self._checks = Checks(self._ctx, self._entries, check_grace)
        self._review = Review(self._ctx, self._steps, self._entries, self._deviations)
        self._materials = Materials(self._ctx, self._entries, self._steps)

    # --- steps ----------------------------------------------------------------------------

    def complete_step(self, batch_id: int, step: Step | str, by: Who) -> StepDone:
        if as_step(step) is Step.MATERIALS_RECONCILED:
            return self._materials.complete_reconciled(batch_id, by)
        return self._steps.complete(batch_id, step, by)

    def steps(self, batch_id: int) -> list[StepDone]:
        return self._steps.done(batch_id)

    # --- entries --------------------------------------------------------------------------

    def record(
        self,
        batch_id: int,
        section: str,
        name: str,
        value: Any,
        *,
        source: Source | str,
        by: Who,
        unit: str | None = None,
        low: Number | None = None,
        high: Number | None = None,
        reason: str | None = None,
        evidence: Any = None,
        supersedes: int | None = None,
        verifier: SignatureRequest | None = None,
    ) -> int:
        """Record a value; returns the entry's id. A manual value outside its limits needs
        `reason` and `verifier` (a second person's signature)."""
        return self._entries.record(
            NewEntry(
                batch_id,
                section,
                name,
                value,
                source,
                by,
                unit=unit,
                low=low,
                high=high,
                reason=reason,
                evidence=evidence,
                supersedes=supersedes,
                verifier=verifier,
            )
        )

    def entries(self, batch_id: int, section: str | None = None) -> list[Entry]:
        return self._entries.entries(batch_id, section)

    def entry(self, entry_id: int) -> Entry:
        return self._entries.entry(entry_id)

    # --- materials ------------------------------------------------------------------------

    def issue_material(
        self,
        batch_id: int,
        material_id: str,
        quantity: Number,
        *,
        by: Who,
        lot: str | None = None,
        unit: str | None = None,
        supersedes: int | None = None,
        reason: str | None = None,
    ) -> int:
        """Record an issue of a material (`supersedes` and `reason` correct one); returns the
        entry's id. With an order, the material must be in its control recipe."""
        return self._materials.issue(
            batch_id,
            material_id,
            quantity,
            by=by,
            lot=lot,
            unit=unit,
            supersedes=supersedes,
            reason=reason,
        )

    def reconcile_material(
        self,
        batch_id: int,
        material_id: str,
        *,
        used: Number,
        destroyed: Number,
        returned: Number,
        by: Who,
        low_pct: Number | None = None,
        high_pct: Number | None = None,
        supersedes: int | None = None,
        reason: str | None = None,
    ) -> int:
        """Reconcile an issued material (`supersedes` and `reason` correct it); returns the
        entry's id. Out of its limits raises a `reconciliation_breach` exception."""
        return self._materials.reconcile(
            batch_id,
            material_id,
            used=used,
            destroyed=destroyed,
            returned=returned,
            by=by,
            low_pct=low_pct,
            high_pct=high_pct,
            supersedes=supersedes,
            reason=reason,
        )

    def materials(self, batch_id: int) -> list[MaterialAccount]:
        return self._materials.accounts(batch_id)

    # --- exceptions -----------------------------------------------------------------------

    def raise_exception(
        self,
        batch_id: int,
        kind: ExceptionKind | str,
        severity: Severity | str,
        subject: str,
        ref: str | int,
        *,
        by: Who = GATEWAY,
    ) -> int:
        return self._exceptions.raise_exception(batch_id, kind, severity, subject, ref, by=by)

    def exceptions(
        self, batch_id: int, *, include_acknowledged: bool = False
    ) -> list[ExceptionItem]:
        return self._exceptions.exceptions(batch_id, include_acknowledged=include_acknowledged)

    def acknowledge(self, exception_id: int, session: Session, comment: str) -> ExceptionItem:
        return self._exceptions.acknowledge(exception_id, session, comment)

    # --- deviations -----------------------------------------------------------------------

    def open_deviation(
        self,
        batch_id: int,
        severity: Severity | str,
        title: str,
        description: str,
        reason: str,
        qms_reference: str | None = None,
        *,
        by: Who,
    ) -> int:
        return self._deviations.open_deviation(
            batch_id, severity, title, description, reason, qms_reference, by=by
        )

    def close_deviation(
        self,
        deviation_id: int,
        session: Session,
        password: str,
        reason: str,
        *,
        username: str | None = None,
    ) -> Deviation:
        return self._deviations.close_deviation(
            deviation_id, session, password, reason, username=username
        )

    def deviations(self, batch_id: int) -> list[Deviation]:
        return self._deviations.deviations(batch_id)

    # --- overrides and checks -------------------------------------------------------------

    def manual_override(
        self,
        batch_id: int,
        what: str,
        reason: str,
        session: Session,
        password: str,
        *,
        username: str | None = None,
    ) -> int:
        request = SignatureRequest(session, password, username)
        return manual_override(self._ctx, self._entries, batch_id, what, reason, request)

    def schedule_check(
        self, batch_id: int, name: str, due_at: datetime, *, by: Who = GATEWAY
    ) -> int:
        return self._checks.schedule(batch_id, name, due_at, by=by)

    def record_check(
        self,
        batch_id: int,
        name: str,
        value: Any,
        limits: Limits | None = None,
        *,
        by: Who,
        source: Source | str = Source.MANUAL,
        unit: str | None = None,
        reason: str | None = None,
        evidence: Any = None,
        verifier: SignatureRequest | None = None,
    ) -> int:
        return self._checks.record(
            batch_id,
            name,
            value,
            limits,
            by=by,
            source=source,
            unit=unit,
            reason=reason,
            evidence=evidence,
            verifier=verifier,
        )

    def overdue_checks(self, batch_id: int, now: datetime | None = None) -> list[ScheduledCheck]:
        return self._checks.overdue(batch_id, now)

    def checks(self, batch_id: int) -> list[ScheduledCheck]:
        return self._checks.checks(batch_id)

    # --- review and disposition -----------------------------------------------------------

    def collect_review_exceptions(self, batch_id: int) -> list[int]:
        return self._review.collect(batch_id)

    def release_blockers(self, batch_id: int) -> list[str]:
        return self._review.blockers(batch_id)

    def sign_audit_review(
        self, batch_id: int, session: Session, password: str, *, username: str | None = None
    ) -> int:
        return self._review.sign_audit_review(
            batch_id, SignatureRequest(session, password, username)
        )

    def release(
        self, batch_id: int, session: Session, password: str, *, username: str | None = None
    ) -> int:
        return self._review.release(batch_id, SignatureRequest(session, password, username))

    def reject_batch(
        self,
        batch_id: int,
        session: Session,
        password: str,
        reason: str,
        *,
        username: str | None = None,
    ) -> int:
        return self._review.reject(batch_id, SignatureRequest(session, password, username), reason)
