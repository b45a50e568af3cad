"""Review by exception and the batch's disposition (`docs/ebr.md`, Release).

QA signs the audit-trail review (`batch_audit_review`, `Meaning.REVIEWED`) as an entry that
holds the digest of the whole executed record at that moment (`loaders.record_digest`); the
entry never changes, so its signature verifies for good, and release compares the digest with
the record now, so a review signed before a later change does not count. Release
(`batch_release`, `Meaning.RELEASED`, QA only) is likewise a signed entry, followed by the
journal's `batch.phase` reconciled → released, written through the production journal so its
hash chain stays whole. Every reason a release is blocked is listed, and the refusal audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from ebr.execution.collect import collect_review_exceptions
from ebr.execution.context import Context, actor_of
from ebr.execution.deviations import Deviations
from ebr.execution.entries import Entries, Entry, NewEntry, read_entries
from ebr.execution.errors import ExecutionError, ReleaseBlockedError
from ebr.execution.exceptions import read_exceptions
from ebr.execution.kinds import Severity, Source, Step
from ebr.execution.loaders import record_digest
from ebr.execution.signing import (
    AUDIT_REVIEW_ACTION,
    ENTRY_OBJECT,
    REJECT_ACTION,
    RELEASE_ACTION,
    SignatureRequest,
    sign,
    signer_ready,
)
from ebr.execution.steps import ORDER, Steps, batch_status, done_steps, insert_step
from ebr.journal import EventKind, JournalEvent, JournalRejectedError
from ebr.signatures import Meaning
from ebr.users import PermissionDeniedError, Role, Session
from serialization.lifecycle import BatchPhase

AUDIT_REVIEW = "audit_review"
RELEASED = "batch_release"
REJECTED = "batch_reject"
QA_ONLY = frozenset({Role.QA})


class Review:
    def __init__(self, ctx: Context, steps: Steps, entries: Entries, deviations: Deviations):
        self._ctx = ctx
        self._steps = steps
        self._entries = entries
        self._deviations = deviations

    def collect(self, batch_id: int) -> list[int]:
        return collect_review_exceptions(self._ctx, batch_id)

    def blockers(self, batch_id: int) -> list[str]:
        """Every reason the batch cannot be released now (empty when it can)."""
        with self._ctx.engine.connect() as conn:
            status = batch_status(conn, batch_id)
            done = {s.step for s in done_steps(conn, batch_id)}
            pending = read_exceptions(conn, batch_id, include_acknowledged=False)
            digest = record_digest(conn, batch_id)
            reviews = read_entries(conn, batch_id, Step.REVIEW.value)
        reasons: list[str] = []
        if status != BatchPhase.RECONCILED.value:
            reasons.append(f"the batch is {status}, not reconciled")
        reasons += [
            f"step {step.value} is not done"
            for step in ORDER[: ORDER.index(Step.REVIEW)]
            if step not in done
        ]
        reasons += [
            f"exception {item.id} ({item.kind.value}, {item.severity.value}) is not "
            f"acknowledged: {item.subject}"
            for item in pending
        ]
        for deviation in self._deviations.deviations(batch_id):
            if deviation.severity is Severity.CRITICAL and deviation.is_open:
                state = "open" if deviation.status.value == "open" else "closed unsigned"
                reasons.append(f"critical deviation {deviation.id} is {state}: {deviation.title}")
        reasons += self._review_problems(reviews, digest)
        return reasons

    def sign_audit_review(self, batch_id: int, request: SignatureRequest) -> int:
        """Collect the review's exceptions, then sign the review of the record as it is now;
        returns the review entry's id."""
        session = self._qa(request.session, batch_id, "the audit-trail review")
        self.collect(batch_id)
        self._steps.require_section(batch_id, Step.REVIEW.value, session)
        signer_ready(
            self._ctx,
            request,
            roles=QA_ONLY,
            what="the audit-trail review",
            subject=(ENTRY_OBJECT, f"{batch_id}:{AUDIT_REVIEW}"),
        )
        entry_id = self._decision(
            batch_id, AUDIT_REVIEW, session, {}, reason=None, step=Step.REVIEW
        )
        sign(
            self._ctx,
            request,
            action=AUDIT_REVIEW_ACTION,
            object_type=ENTRY_OBJECT,
            object_id=entry_id,
            meaning=Meaning.REVIEWED,
        )
        return entry_id

    def release(self, batch_id: int, request: SignatureRequest) -> int:
        """Release with QA's signature once nothing blocks it; returns the release entry's id."""
        session = self._qa(request.session, batch_id, "a batch release")
        self.collect(batch_id)
        reasons = self.blockers(batch_id)
        if reasons:
            self._ctx.refuse(
                actor_of(session).event(
                    "ebr.release_blocked",
                    "batch",
                    batch_id,
                    action="access",
                    new={"reasons": reasons},
                )
            )
            raise ReleaseBlockedError(batch_id, reasons)
        signer_ready(
            self._ctx,
            request,
            roles=QA_ONLY,
            what="a batch release",
            subject=(ENTRY_OBJECT, f"{batch_id}:{RELEASED}"),
        )
        entry_id = self._decision(
            batch_id, RELEASED, session, {"decision": "released"}, reason=None, step=Step.RELEASE
        )
        sign(
            self._ctx,
            request,
            action=RELEASE_ACTION,
            object_type=ENTRY_OBJECT,
            object_id=entry_id,
            meaning=Meaning.RELEASED,
        )
        self._phase(batch_id, BatchPhase.RELEASED, session, f"released: entry {entry_id}")
        return entry_id

    def reject(self, batch_id: int, request: SignatureRequest, reason: str) -> int:
        """Reject the reconciled batch with QA's signature and a reason."""
        session = self._qa(request.session, batch_id, "a batch rejection")
        if not reason or not reason.strip():
            raise ExecutionError(
                f"rejecting batch {batch_id} needs a reason", hint="say why the batch is rejected"
            )
        with self._ctx.engine.connect() as conn:
            status = batch_status(conn, batch_id)
        if status != BatchPhase.RECONCILED.value:
            raise ExecutionError(
                f"batch {batch_id} is {status}; only a reconciled batch is rejected",
                hint="complete and reconcile the batch first",
            )
        signer_ready(
            self._ctx,
            request,
            roles=QA_ONLY,
            what="a batch rejection",
            subject=(ENTRY_OBJECT, f"{batch_id}:{REJECTED}"),
        )
        entry_id = self._decision(
            batch_id, REJECTED, session, {"decision": "rejected"}, reason=reason, step=None
        )
        sign(
            self._ctx,
            request,
            action=REJECT_ACTION,
            object_type=ENTRY_OBJECT,
            object_id=entry_id,
            meaning=Meaning.REVIEWED,
        )
        self._phase(batch_id, BatchPhase.REJECTED, session, reason)
        return entry_id

    def _qa(self, session: Session, batch_id: int, what: str) -> Session:
        session = self._ctx.users.touch(session)
        if session.role is Role.QA:
            return session
        self._ctx.refuse(
            actor_of(session).event(
                "signature_refused",
                "batch",
                batch_id,
                action="access",
                new={"why": f"a {session.role.value} cannot sign {what}", "what": what},
            )
        )
        raise PermissionDeniedError(
            f"{session.username} is {session.role.value}; only QA signs {what}",
            hint="ask QA to sign",
        )

    def _decision(
        self,
        batch_id: int,
        name: str,
        session: Session,
        value: dict[str, Any],
        *,
        reason: str | None,
        step: Step | None,
    ) -> int:
        """The entry QA signs: what was decided and the digest of the record it covers."""
        with self._ctx.engine.connect() as conn:
            digest = record_digest(conn, batch_id)
        section = Step.REVIEW.value if name == AUDIT_REVIEW else Step.RELEASE.value

        def complete_step(conn: Connection, _entry_id: int) -> None:
            if step is not None and step not in {s.step for s in done_steps(conn, batch_id)}:
                insert_step(conn, self._ctx, batch_id, step, actor_of(session))

        return self._entries.record(
            NewEntry(
                batch_id,
                section,
                name,
                {**value, "record_sha256": digest, "audit_seq": self._ctx.trail.head()[0]},
                Source.MANUAL,
                session,
                reason=reason,
            ),
            then=complete_step,
            check_sequence=step is not None,
        )

    def _review_problems(self, reviews: list[Entry], digest: str) -> list[str]:
        signed = [
            entry
            for entry in reviews
            if entry.name == AUDIT_REVIEW
            and self._ctx.signatures.is_complete(AUDIT_REVIEW_ACTION, ENTRY_OBJECT, str(entry.id))
        ]
        if not signed:
            return ["the audit-trail review is not signed"]
        latest = signed[-1]
        if latest.value.get("record_sha256") != digest:
            return [
                f"the audit-trail review (entry {latest.id}) was signed before the record last "
                "changed; review it again and sign"
            ]
        return []

    def _phase(self, batch_id: int, to: BatchPhase, session: Session, reason: str) -> None:
        event = JournalEvent(
            batch_id,
            EventKind.BATCH_PHASE,
            data={
                "from": BatchPhase.RECONCILED.value,
                "to": to.value,
                "user": session.username,
                "reason": reason,
            },
        )
        (result,) = self._ctx.journal.append_many([event])
        if isinstance(result, JournalRejectedError):
            raise ExecutionError(
                f"batch {batch_id} could not be set {to.value}: {result.message}",
                hint=result.hint or "read the batch's phase and try again",
            )
