"""Release by exception: every reason that blocks it is listed until each is handled; only QA
releases, with a signature, and the journal's batch phase becomes `released`."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from ebr.audit.actor import GATEWAY
from ebr.audit.bundle import verify_database
from ebr.execution import ExceptionKind, ExecutionError, ReleaseBlockedError, SequenceError, Step
from ebr.journal import EventKind, JournalEvent, verify_journal
from ebr.users import PermissionDeniedError
from tests.ebr.audit.audit_users import OWN
from tests.ebr.execution.execution_fixtures import ExecutionSite


@pytest.fixture
def site(engine: Engine) -> ExecutionSite:
    return ExecutionSite(engine)


def _blocked(site: ExecutionSite) -> list[str]:
    with pytest.raises(ReleaseBlockedError) as blocked:
        site.record.release(site.batch, site.session("quinn"), OWN, username="quinn")
    assert list(blocked.value.reasons) == site.record.release_blockers(site.batch)
    return list(blocked.value.reasons)


def _acknowledge_all(site: ExecutionSite) -> None:
    for item in site.record.exceptions(site.batch):
        site.record.acknowledge(item.id, site.session("quinn"), f"reviewed {item.kind.value}")


def test_release_lists_every_reason_until_each_is_handled(site: ExecutionSite) -> None:
    quinn = site.session("quinn")
    site.complete_through(Step.PRODUCTION)
    site.record.record(
        site.batch,
        "parameters",
        "sealing temperature",
        185,
        low=170,
        high=180,
        source="tag",
        by=GATEWAY,
    )
    critical = site.record.open_deviation(
        site.batch,
        "critical",
        "foreign label in line",
        "a label of lot X was found",
        "clearance",
        qms_reference="DEV-2026-031",
        by=site.session("sam"),
    )

    reasons = _blocked(site)
    assert reasons[0] == "the batch is downloaded, not reconciled"
    assert reasons[1:4] == [
        "step counts is not done",
        "step reconciliation is not done",
        "step materials_reconciled is not done",
    ]
    pending = site.record.exceptions(site.batch)
    assert [r.split(" (")[0] for r in reasons[4 : 4 + len(pending)]] == [
        f"exception {e.id}" for e in pending
    ]
    assert reasons[4 + len(pending) :] == [
        f"critical deviation {critical} is open: foreign label in line",
        "the audit-trail review is not signed",
    ]
    assert site.audit_events("ebr.release_blocked")[-1] == {"reasons": reasons}

    with pytest.raises(SequenceError, match="before step counts is done"):
        site.record.sign_audit_review(site.batch, quinn, OWN, username="quinn")
    site.complete_through(Step.MATERIALS_RECONCILED)
    site.phase("reconciled")
    for deviation in site.record.deviations(site.batch):
        closed = site.record.close_deviation(
            deviation.id,
            quinn,
            OWN,
            "investigated under " + (deviation.qms_reference or "QMS"),
            username="quinn",
        )
        assert (closed.status, closed.closed_by, closed.close_signed) == ("closed", "quinn", True)
    assert site.signatures.verify("ebr_deviation", str(critical)).ok
    _acknowledge_all(site)
    assert _blocked(site) == ["the audit-trail review is not signed"]

    review = site.record.sign_audit_review(site.batch, quinn, OWN)
    with pytest.raises(PermissionDeniedError, match="only QA signs a batch release"):
        site.record.release(site.batch, site.session("sam"), OWN, username="sam")
    assert site.status() == "reconciled"
    released = site.record.release(site.batch, quinn, OWN)

    assert site.status() == "released"
    assert [s.step for s in site.record.steps(site.batch)][-2:] == [Step.REVIEW, Step.RELEASE]
    decision = site.record.entry(released)
    assert decision.value["decision"] == "released"
    assert decision.value["record_sha256"] == site.record.entry(review).value["record_sha256"]
    (signature,) = site.signatures.signatures("ebr_entry", str(released))
    assert (signature.meaning, signature.action, signature.username) == (
        "released",
        "batch_release",
        "quinn",
    )
    assert verify_journal(site.engine, site.batch).ok
    assert verify_database(site.engine).ok
    with pytest.raises(ReleaseBlockedError, match="the batch is released, not reconciled"):
        site.record.release(site.batch, quinn, OWN)


def test_a_review_signed_before_a_change_and_an_open_critical_deviation_block_release(
    site: ExecutionSite,
) -> None:
    quinn = site.session("quinn")
    site.complete_through(Step.MATERIALS_RECONCILED)
    site.phase("reconciled")
    site.record.sign_audit_review(site.batch, quinn, OWN, username="quinn")
    deviation = site.record.open_deviation(
        site.batch,
        "critical",
        "seal failures",
        "burst test failed twice",
        "found at sampling",
        by=site.session("rita"),
    )
    (exception,) = site.record.exceptions(site.batch)
    site.record.acknowledge(exception.id, quinn, "deviation raised with QMS")

    reasons = _blocked(site)
    assert reasons[0] == f"critical deviation {deviation} is open: seal failures"
    assert reasons[1].startswith("the audit-trail review (entry ")
    assert reasons[1].endswith(
        "was signed before the record last changed; review it again and sign"
    )

    site.record.close_deviation(deviation, quinn, OWN, "retest passed")
    site.record.sign_audit_review(site.batch, quinn, OWN)
    site.record.release(site.batch, quinn, OWN)
    assert site.status() == "released"


def test_late_verdicts_and_data_changes_are_collected_once(site: ExecutionSite) -> None:
    site.complete_through(Step.PRODUCTION)
    for ref, reason in ((1, "late_verdict"), (2, "no_code"), (3, "late_verdict")):
        site.journal_event(
            JournalEvent(
                site.batch,
                EventKind.UNIT_REJECTED,
                unit_ref=str(ref),
                data={"reason": reason, "detail": "d"},
            )
        )
    olga = site.session("olga")
    first = site.record.record(site.batch, "parameters", "speed", 120, source="manual", by=olga)
    site.record.record(
        site.batch,
        "parameters",
        "speed",
        110,
        source="manual",
        by=olga,
        supersedes=first,
        reason="read from the wrong display",
    )

    raised = site.record.collect_review_exceptions(site.batch)
    assert site.record.collect_review_exceptions(site.batch) == raised

    late, changed = site.record.exceptions(site.batch)
    assert (late.kind, late.subject) == (
        ExceptionKind.LATE_VERDICTS,
        "2 unit(s) rejected for a late verdict",
    )
    (correction,) = site.trail.entries(event="ebr.entry_corrected")
    assert (changed.kind, changed.ref) == (ExceptionKind.DATA_CHANGED, str(correction.seq))
    assert changed.subject == (
        f"ebr.entry_corrected on ebr_entry {first}: read from the wrong display"
    )
    assert [e.id for e in site.record.exceptions(site.batch)] == raised


def test_qa_rejects_a_reconciled_batch_with_a_signature_and_a_reason(site: ExecutionSite) -> None:
    quinn = site.session("quinn")
    with pytest.raises(ExecutionError, match="only a reconciled batch is rejected"):
        site.record.reject_batch(site.batch, quinn, OWN, "mix-up", username="quinn")
    site.complete_through(Step.COUNTS)
    site.phase("reconciled")
    with pytest.raises(PermissionDeniedError, match="only QA signs a batch rejection"):
        site.record.reject_batch(site.batch, site.session("sam"), OWN, "mix-up", username="sam")
    with pytest.raises(ExecutionError, match="needs a reason"):
        site.record.reject_batch(site.batch, quinn, OWN, " ", username="quinn")

    decision = site.record.reject_batch(site.batch, quinn, OWN, "label mix-up", username="quinn")

    assert site.status() == "rejected"
    entry = site.record.entry(decision)
    assert (entry.section, entry.value["decision"], entry.reason) == (
        "release",
        "rejected",
        "label mix-up",
    )
    (signature,) = site.signatures.signatures("ebr_entry", str(decision))
    assert (signature.action, signature.username) == ("batch_reject", "quinn")
    assert Step.RELEASE not in [s.step for s in site.record.steps(site.batch)]
